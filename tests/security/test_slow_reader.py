"""Finding 2: a socket that asks for history and never reads it cannot grow the server.

The attacker is a room member with a raw socket (a tiny receive buffer, the handshake
done by hand) that sends ``join_room_chat {after_seq: 0}`` over and over in a room of
a few hundred ~32 KB messages and never reads a byte. Before the fix every join queued
the whole catch-up (megabytes) for it, without limit. Now the server closes it (1013,
or drops it when even the close cannot go out), its memory stays flat, and the room's
other clients keep getting their messages.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import os
import socket
import struct
from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.attack import rss_bytes
from tests.support.client import Account, Api, Ws, is_message, send_many
from tests.support.server import ServerProcess, running_server

KIB = 1024
MIB = 1024 * KIB
OUTBOUND_BUFFER = 512 * KIB
CATCH_UP_CAP = 128 * KIB
WRITE_TIMEOUT_S = 2.0
MESSAGES = 300
JOINS_PER_ROUND = 90
ROUNDS = 3
# What the attack may add to the server's resident memory. Before the fix one round
# alone queued 90 catch-ups of ~10 MB each.
RSS_GROWTH_LIMIT = 96 * MIB


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Small bounds so the test is quick; joins and sends not rate-limited, so that what
    stops the attacker is the outbound bound itself."""
    directory = tmp_path_factory.mktemp(f"slow-reader-{backend}")
    with running_server(
        backend,
        directory,
        outbound_buffer_bytes=str(OUTBOUND_BUFFER),
        write_timeout_s=str(WRITE_TIMEOUT_S),
        catch_up_max_bytes=str(CATCH_UP_CAP),
        join_rate_per_second="100000",
        join_burst="100000",
        send_rate_per_second="100000",
        send_burst="100000",
        max_frame_bytes=str(128 * KIB),  # a ~32 KB message is ~65 KB as the client escapes it
    ) as process:
        yield process


@dataclass
class Scene:
    server: ServerProcess
    owner: Account
    room_id: int


def big_text(n: int) -> str:
    """~16 KB of UTF-8 in 4,000 characters (the most message_text allows)."""
    return f"{n:04d}" + "\U0001f600" * 3996


async def fill_room(server: ServerProcess) -> Scene:
    """A room of MESSAGES messages of ~32 KB each, stored over the WebSocket."""
    api = Api(server.base_url)
    try:
        owner = await api.register("owner")
        ws = await api.workspace(owner)
        room = await api.room(owner, ws["id"])
        writer = await Ws.connect(server.ws_url, owner)
        try:
            content = "c" * (16 * KIB - 64)
            for start in range(0, MESSAGES, 25):
                texts = [big_text(n) for n in range(start, min(start + 25, MESSAGES))]
                replies = await send_many(writer, room["id"], texts, message_content=content)
                assert all(r["status"] == "success" for r in replies)
        finally:
            await writer.close()
    finally:
        await api.aclose()
    return Scene(server, owner, room["id"])


@pytest.fixture(scope="module")
def scene(server: ServerProcess) -> Scene:
    """Filled once per server (its own event loop: the tests' loops are per test)."""
    return asyncio.run(fill_room(server))


# --- a WebSocket client that never reads: plain socket calls, the handshake by hand ---


class NeverReads:
    """Connects, upgrades, then only ever writes: what it is sent piles up at the server."""

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock

    @classmethod
    async def open(cls, server: ServerProcess, token: str, rcvbuf: int = 4096) -> NeverReads:
        loop = asyncio.get_running_loop()
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        # Set before connecting, so the window the client advertises stays this small.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, rcvbuf)
        sock.setblocking(False)
        await loop.sock_connect(sock, ("127.0.0.1", server.port))
        key = base64.b64encode(os.urandom(16)).decode()
        request = (
            "GET /ws HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            f"Authorization: Bearer {token}\r\n\r\n"
        )
        await loop.sock_sendall(sock, request.encode())
        head = b""
        async with asyncio.timeout(10):
            while b"\r\n\r\n" not in head:
                chunk = await loop.sock_recv(sock, 1)  # byte by byte: nothing past the head
                assert chunk, "closed during the handshake"
                head += chunk
        assert head.startswith(b"HTTP/1.1 101"), head
        return cls(sock)

    async def send_text(self, text: str, timeout: float = 10.0) -> None:
        payload = text.encode()
        mask = os.urandom(4)
        assert len(payload) < 65536
        if len(payload) < 126:
            header = struct.pack("!BB", 0x81, 0x80 | len(payload))
        else:
            header = struct.pack("!BBH", 0x81, 0x80 | 126, len(payload))
        masked = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        loop = asyncio.get_running_loop()
        async with asyncio.timeout(timeout):
            await loop.sock_sendall(self.sock, header + mask + masked)

    async def wait_closed(self, timeout: float) -> int | None:
        """Read at last: until the server's close frame (its code) or the connection's end
        (None: reset, or closed without a close frame we could see)."""
        loop = asyncio.get_running_loop()
        buffer = bytearray()
        try:
            async with asyncio.timeout(timeout):
                while True:
                    chunk = await loop.sock_recv(self.sock, 1 << 20)
                    if not chunk:
                        return close_code(buffer)
                    buffer += chunk
                    if (code := close_code(buffer)) is not None:
                        return code
                    # Frames before the close are of no interest: keep only an unparsed tail.
                    buffer = bytearray(skip_frames(buffer))
        except (ConnectionResetError, BrokenPipeError):
            return None

    def close(self) -> None:
        self.sock.close()


def _frame_length(buffer: bytes | bytearray) -> tuple[int, int] | None:
    """(header length, payload length) of the unmasked server frame at the start, if whole."""
    if len(buffer) < 2:
        return None
    length = buffer[1] & 0x7F
    if length == 126:
        if len(buffer) < 4:
            return None
        return 4, struct.unpack("!H", buffer[2:4])[0]
    if length == 127:
        if len(buffer) < 10:
            return None
        return 10, struct.unpack("!Q", buffer[2:10])[0]
    return 2, length


def skip_frames(buffer: bytearray) -> bytes:
    while (lengths := _frame_length(buffer)) is not None:
        header, length = lengths
        if len(buffer) < header + length:
            break
        del buffer[: header + length]
    return bytes(buffer)


def close_code(buffer: bytes | bytearray) -> int | None:
    """The code of a close frame that starts ``buffer`` after whole earlier frames."""
    rest = bytearray(buffer)
    while (lengths := _frame_length(rest)) is not None:
        header, length = lengths
        if len(rest) < header + length:
            return None
        if rest[0] & 0x0F == 0x8:
            return int(struct.unpack("!H", rest[header : header + 2])[0]) if length >= 2 else 1005
        del rest[: header + length]
    return None


# --- the attack ---


async def attack_round(scene: Scene, samples: list[int]) -> tuple[int, int | None]:
    """One never-reading socket sends joins until the server drops it; (joins sent, code)."""
    pid = scene.server.process.pid  # type: ignore[union-attr]
    attacker = await NeverReads.open(scene.server, scene.owner.token)
    frame = f'{{"action":"join_room_chat","payload":{{"room_id":{scene.room_id},"after_seq":0}}}}'
    sent = 0
    try:
        for _ in range(JOINS_PER_ROUND):
            try:
                await attacker.send_text(frame, timeout=WRITE_TIMEOUT_S * 3)
            except (ConnectionResetError, BrokenPipeError, TimeoutError):
                break  # dropped by the server, or it stopped reading from us
            sent += 1
            samples.append(rss_bytes(pid))
            await asyncio.sleep(0.02)  # the attacker's pace; the server runs meanwhile
        # Traffic stops. The server must still let go of it within the write timeout.
        code = await attacker.wait_closed(timeout=WRITE_TIMEOUT_S * 2 + 10)
        samples.append(rss_bytes(pid))
        return sent, code
    finally:
        attacker.close()


async def room_keeps_working(scene: Scene, stop: asyncio.Event) -> int:
    """A normal client sends and another receives, all through the attack; how many."""
    sender = await Ws.connect(scene.server.ws_url, scene.owner)
    reader = await Ws.connect(scene.server.ws_url, scene.owner)
    delivered = 0
    try:
        await sender.join(scene.room_id)
        await reader.join(scene.room_id)
        while not stop.is_set():
            text = f"still here {delivered}"
            await sender.say(scene.room_id, text)
            await reader.wait_for(is_message(text), timeout=10)
            delivered += 1
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), 0.1)
    finally:
        await sender.close()
        await reader.close()
    return delivered


async def test_a_never_reading_joiner_is_cut_off_and_the_server_stays_small(
    scene: Scene,
) -> None:
    pid = scene.server.process.pid  # type: ignore[union-attr]
    baseline = rss_bytes(pid)
    samples: list[int] = [baseline]
    stop = asyncio.Event()
    normal = asyncio.create_task(room_keeps_working(scene, stop))
    results = []
    try:
        for _ in range(ROUNDS):  # the attacker reconnects and keeps going
            results.append(await attack_round(scene, samples))
    finally:
        stop.set()
    delivered = await normal
    growth = max(samples) - baseline
    print(
        f"slow-reader attack: baseline {baseline / MIB:.0f} MiB, peak {max(samples) / MIB:.0f}"
        f" MiB (+{growth / MIB:.0f}), rounds {results}, normal messages delivered {delivered}"
    )
    for sent, code in results:
        # Cut off: a 1013 close frame seen, or the connection dropped (reset / closed).
        assert code in (1013, None), code
        assert sent < JOINS_PER_ROUND or code is not None
    assert growth < RSS_GROWTH_LIMIT, f"server grew by {growth / MIB:.0f} MiB"
    assert delivered >= ROUNDS


async def test_a_slow_reader_is_cut_off_within_the_write_timeout(scene: Scene) -> None:
    """A client with a small receive buffer that reads a little now and then: the server
    drops it once what waits for it could not be taken for the write timeout."""
    loop = asyncio.get_running_loop()
    slow = await NeverReads.open(scene.server, scene.owner.token, rcvbuf=4096)
    try:
        # Three catch-ups: more than the transport's high-water mark waits for the reader,
        # less than the outbound bound, so what cuts it off is the write timeout.
        for _ in range(3):
            await slow.send_text(
                f'{{"action":"join_room_chat","payload":{{"room_id":{scene.room_id},'
                '"after_seq":0}}'
            )
        started = loop.time()
        code: int | None = None
        closed = False
        buffer = bytearray()
        async with asyncio.timeout(WRITE_TIMEOUT_S * 2 + 10):
            while not closed:
                try:
                    chunk = await loop.sock_recv(slow.sock, 512)
                except (ConnectionResetError, BrokenPipeError):
                    closed = True
                    break
                if not chunk:
                    closed = True
                    break
                buffer += chunk
                if (code := close_code(buffer)) is not None:
                    closed = True
                    break
                buffer = bytearray(skip_frames(buffer))
                await asyncio.sleep(0.25)  # the reader's pace: ~2 KB/s
        elapsed = loop.time() - started
        print(f"slow reader cut off after {elapsed:.1f}s (close code {code})")
        assert code in (1013, None)
        # The join reply (up to the catch-up cap) would take a minute at this pace.
        assert elapsed < WRITE_TIMEOUT_S * 2 + 5
    finally:
        slow.close()
