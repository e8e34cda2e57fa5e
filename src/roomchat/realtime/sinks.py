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
import contextlib
import socket
import struct
from typing import Any, Protocol

from starlette.websockets import WebSocket
from websockets.protocol import State

CLOSE_TIMEOUT_S = 2.0
# Unsent bytes the kernel may hold for a socket. Linux grows a socket's send buffer to
# megabytes, where a client that stops reading would park them unseen by the outbound
# bound; past this much unsent the socket stops taking writes, the rest waits in the
# transport where it is counted. Bytes in flight are not limited, so throughput is not.
KERNEL_UNSENT_BYTES = 128 * 1024


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

    def buffered(self) -> int:
        """Bytes written to the transport and not yet sent to the client."""

    def backed_up(self) -> bool:
        """The transport holds more than it wants: a write now would only wait."""

    async def drained(self) -> None:
        """Until the transport takes writes again."""

    async def write(self, frame: bytes) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class AsgiSink:
    """Any ASGI server: it applies its own back-pressure inside ``send``, unseen here."""

    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    def try_write(self, frames: list[bytes], wire: WireFrames) -> bool:
        return False

    def buffered(self) -> int:
        return 0

    def backed_up(self) -> bool:
        return False

    async def drained(self) -> None:
        return None

    async def write(self, frame: bytes) -> None:
        await self._websocket.send_text(frame.decode())

    async def close(self, code: int, reason: str) -> None:
        await self._websocket.close(code, reason)


class UvicornSansIOSink(AsgiSink):
    def __init__(self, websocket: WebSocket, protocol: Any) -> None:
        super().__init__(websocket)
        self._protocol = protocol
        limit_kernel_unsent(protocol.transport)

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

    def buffered(self) -> int:
        # Frames written through ASGI land in the same transport, so this counts both paths.
        return int(self._protocol.transport.get_write_buffer_size())

    def backed_up(self) -> bool:
        return not self._protocol.writable.is_set()

    async def drained(self) -> None:
        # uvicorn sets ``writable`` when the transport's buffer falls below its low-water
        # mark, and also when the connection is lost (so this never waits on a dead socket).
        await self._protocol.writable.wait()

    async def close(self, code: int, reason: str) -> None:
        # A slow client's socket may never become writable again: give the close frame a
        # moment to be handed over, then drop the connection. A close frame queued behind
        # what the client never reads would keep that memory until the client reads it;
        # past a second moment without the closing handshake, drop the connection too.
        p = self._protocol
        try:
            await asyncio.wait_for(super().close(code, reason), CLOSE_TIMEOUT_S)
        except Exception:  # timed out, or the socket is already gone
            _abort(p)
            return
        if not p.disconnected:
            asyncio.get_running_loop().call_later(CLOSE_TIMEOUT_S, _abort_if_open, p)


def _abort_if_open(protocol: Any) -> None:
    if not protocol.disconnected:
        _abort(protocol)


def _abort(protocol: Any) -> None:
    """Drop the connection with a reset: the kernel too discards what it still holds for
    the client (a plain close would keep it, sending it out as slowly as the client reads)."""
    sock = protocol.transport.get_extra_info("socket")
    if sock is not None:
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    protocol.transport.abort()


def limit_kernel_unsent(transport: asyncio.BaseTransport) -> None:
    option = getattr(socket, "TCP_NOTSENT_LOWAT", None)  # Linux, macOS
    sock = transport.get_extra_info("socket")
    if option is None or sock is None or sock.family not in (socket.AF_INET, socket.AF_INET6):
        return
    with contextlib.suppress(OSError):
        sock.setsockopt(socket.IPPROTO_TCP, option, KERNEL_UNSENT_BYTES)


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
