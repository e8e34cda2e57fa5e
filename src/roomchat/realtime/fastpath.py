"""The broadcast fast path: pre-framed bytes written straight to uvicorn's transport.

A broadcast writes the same encoded frame to many sockets. Through ASGI each write
is a coroutine, a message dict and a freshly built WebSocket frame per recipient;
under uvicorn's sans-I/O websockets protocol the frame is instead framed once and
the same bytes are written straight to every writable socket's transport (a
server's frames are unmasked, and compression is off, so they are identical), all
of a socket's frames of one event-loop pass in one write.

That reaches into uvicorn's protocol object (``conn``, ``writable``, ``transport``,
``close_sent``, ``disconnected``) and relies on websockets' framing: both are
internals. So the fast path is taken only with the uvicorn and websockets versions
it was written for (``SUPPORTED``, checked once at start); with any other version,
any other server, or a socket that is not writable now, frames take the ASGI path.
To widen ``SUPPORTED``, run tests/unit/test_sinks.py and
tests/integration/test_fast_path.py against the new version.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import socket
import struct
from dataclasses import dataclass
from functools import cache
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from starlette.websockets import WebSocket
from websockets.protocol import State

from roomchat.realtime.wire import AsgiSink, FrameSink, WireFrames

# [lowest, first unsupported) release of each library the fast path was written for.
SUPPORTED: dict[str, tuple[tuple[int, ...], tuple[int, ...]]] = {
    "uvicorn": ((0, 54), (0, 55)),
    "websockets": ((17, 0), (18, 0)),
}
PROTOCOL_CLASS = "WebSocketsSansIOProtocol"

CLOSE_TIMEOUT_S = 2.0
# Unsent bytes the kernel may hold for a socket. Linux grows a socket's send buffer to
# megabytes, where a client that stops reading would park them unseen by the outbound
# bound; past this much unsent the socket stops taking writes, the rest waits in the
# transport where it is counted. Bytes in flight are not limited, so throughput is not.
KERNEL_UNSENT_BYTES = 128 * 1024


@dataclass(frozen=True, slots=True)
class Support:
    enabled: bool
    versions: dict[str, str]
    reason: str = ""  # why not, when not


@cache
def support() -> Support:
    """Whether the installed uvicorn and websockets are ones the fast path was written for."""
    return check(SUPPORTED)


def check(supported: dict[str, tuple[tuple[int, ...], tuple[int, ...]]]) -> Support:
    versions: dict[str, str] = {}
    problems = []
    for name, (lowest, beyond) in supported.items():
        try:
            found = version(name)
        except PackageNotFoundError:
            problems.append(f"{name} is not installed")
            continue
        versions[name] = found
        if not lowest <= _release(found) < beyond:
            supported_range = f"{_dotted(lowest)} to before {_dotted(beyond)}"
            problems.append(f"{name} {found} is outside {supported_range}")
    return Support(not problems, versions, "; ".join(problems))


def _release(text: str) -> tuple[int, ...]:
    """The release numbers of a version string: "0.54.1rc1" is (0, 54, 1)."""
    found = re.match(r"\d+(?:\.\d+)*", text)
    return tuple(int(n) for n in found.group().split(".")) if found else ()


def _dotted(release: tuple[int, ...]) -> str:
    return ".".join(map(str, release))


def fast_sink(websocket: WebSocket) -> FrameSink | None:
    """The fast path's sink for this socket, or None where it does not apply."""
    if not support().enabled:
        return None
    protocol = getattr(websocket._send, "__self__", None)
    if (
        type(protocol).__name__ == PROTOCOL_CLASS
        and hasattr(protocol, "conn")
        and hasattr(protocol, "writable")
        and hasattr(protocol, "transport")
    ):
        return UvicornSansIOSink(websocket, protocol)
    return None


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
