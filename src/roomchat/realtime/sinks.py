"""Where a connection's frames go: the ASGI socket, with a synchronous fast path.

A broadcast writes the same encoded frame to many sockets. Through ASGI each write
is a coroutine plus a message dict per recipient; under uvicorn's sans-I/O
websockets protocol the frame can instead be written straight to the transport
when the socket is writable, as the websockets docs' ``broadcast()`` does. Any
other server, or a socket that is not writable now, takes the ASGI path.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

from starlette.websockets import WebSocket

CLOSE_TIMEOUT_S = 2.0


class FrameSink(Protocol):
    def try_write(self, frame: bytes) -> bool:
        """Write now if that needs no waiting; False means use ``write``."""

    async def write(self, frame: bytes) -> None: ...

    async def close(self, code: int, reason: str) -> None: ...


class AsgiSink:
    def __init__(self, websocket: WebSocket) -> None:
        self._websocket = websocket

    def try_write(self, frame: bytes) -> bool:
        return False

    async def write(self, frame: bytes) -> None:
        await self._websocket.send_text(frame.decode())

    async def close(self, code: int, reason: str) -> None:
        await self._websocket.close(code, reason)


class UvicornSansIOSink(AsgiSink):
    def __init__(self, websocket: WebSocket, protocol: Any) -> None:
        super().__init__(websocket)
        self._protocol = protocol

    def try_write(self, frame: bytes) -> bool:
        p = self._protocol
        if p.close_sent or p.disconnected or not p.writable.is_set():
            return False
        try:
            p.conn.send_text(frame)
        except Exception:  # InvalidState: closing; the ASGI path reports it properly
            return False
        p.transport.write(b"".join(p.conn.data_to_send()))
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
