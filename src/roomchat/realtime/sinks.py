"""Where a connection's frames go: the ASGI socket, with a synchronous fast path.

A broadcast writes the same encoded frame to many sockets. Through ASGI each write
is a coroutine, a message dict and a freshly built WebSocket frame per recipient;
under uvicorn's sans-I/O websockets protocol the frame is instead framed once and
the same bytes are written straight to every writable socket's transport (a
server's frames are unmasked, and compression is off, so they are identical), all
of a socket's frames of one event-loop pass in one write. Any other server, or a
socket that is not writable now, takes the ASGI path.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from starlette.websockets import WebSocket
from websockets.protocol import State

CLOSE_TIMEOUT_S = 2.0


def text_frame_header(length: int) -> bytes:
    """RFC 6455 header of an unmasked, final text frame (a server's frames are unmasked)."""
    if length < 126:
        return bytes((0x81, length))
    if length < 65536:
        return b"\x81\x7e" + length.to_bytes(2, "big")
    return b"\x81\x7f" + length.to_bytes(8, "big")


class WireFrames:
    """Each frame's bytes on the wire, built once per flush however many sockets get it."""

    __slots__ = ("_built",)

    def __init__(self) -> None:
        self._built: dict[int, tuple[bytes, bytes]] = {}

    def of(self, frame: bytes) -> bytes:
        # Keyed by identity (one broadcast is one bytes object); the frame is kept
        # alongside so its id cannot be reused while the entry lives.
        built = self._built.get(id(frame))
        if built is None:
            built = self._built[id(frame)] = (frame, text_frame_header(len(frame)) + frame)
        return built[1]

    def clear(self) -> None:
        self._built.clear()


class FrameSink(Protocol):
    def try_write(self, frames: list[bytes], wire: WireFrames) -> bool:
        """Write all now if that needs no waiting; False (nothing written): use ``write``."""

    async def write(self, frame: bytes) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class AsgiSink:
    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    def try_write(self, frames: list[bytes], wire: WireFrames) -> bool:
        return False

    async def write(self, frame: bytes) -> None:
        await self._websocket.send_text(frame.decode())

    async def close(self, code: int, reason: str) -> None:
        await self._websocket.close(code, reason)


class UvicornSansIOSink(AsgiSink):
    def __init__(self, websocket: WebSocket, protocol: Any) -> None:
        super().__init__(websocket)
        self._protocol = protocol

    def try_write(self, frames: list[bytes], wire: WireFrames) -> bool:
        p = self._protocol
        conn = p.conn
        if (
            p.close_sent
            or p.disconnected
            or not p.writable.is_set()
            or conn.state is not State.OPEN
            or conn.extensions  # compression would make each recipient's bytes its own
        ):
            return False
        if len(frames) == 1:
            p.transport.write(wire.of(frames[0]))
        else:
            p.transport.write(b"".join([wire.of(frame) for frame in frames]))
        return True

    async def close(self, code: int, reason: str) -> None:
        # A slow client's socket may never become writable again: give the closing
        # handshake a moment, then drop the connection.
        try:
            await asyncio.wait_for(super().close(code, reason), CLOSE_TIMEOUT_S)
        except Exception:  # timed out, or the socket is already gone
            self._protocol.transport.abort()


def sink_for(websocket: WebSocket) -> FrameSink:
    protocol = getattr(websocket._send, "__self__", None)
    if (
        type(protocol).__name__ == "WebSocketsSansIOProtocol"
        and hasattr(protocol, "conn")
        and hasattr(protocol, "writable")
        and hasattr(protocol, "transport")
    ):
        return UvicornSansIOSink(websocket, protocol)
    return AsgiSink(websocket)
