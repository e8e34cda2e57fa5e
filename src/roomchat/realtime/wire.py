"""What a connection's frames are written to: the sink protocol, the ASGI sink any
server supports, and RFC 6455 text frames built once for many sockets."""

from __future__ import annotations

from typing import Protocol

from starlette.websockets import WebSocket


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
