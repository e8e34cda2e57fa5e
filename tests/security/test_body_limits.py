"""Finding 3: an unauthenticated memory blow-up.

Three concurrent logins with a 150 MB password took the server from 205 MB to 2 GB.
Now every REST body is capped (max_body_bytes, 1 MiB): a declared Content-Length over
the cap is answered 413 before anything is read, a chunked body is cut off at the
chunk that crosses the cap, and a password over max_password_chars is refused
before any hashing.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

from tests.support.attack import rss_bytes
from tests.support.client import Api
from tests.support.server import ServerProcess

MIB = 1024 * 1024
LOGIN = "/api/v1/auth/login"


async def raw_post(
    server: ServerProcess, path: str, head: dict[str, str], body_chunks: int, chunk: bytes
) -> tuple[int, dict[str, object]]:
    """POST over a raw socket, writing ``body_chunks`` chunks while reading the answer.

    A real attacker keeps sending; the server must answer (and stop reading) anyway.
    """
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    lines = [f"POST {path} HTTP/1.1", f"Host: 127.0.0.1:{server.port}"]
    lines += [f"{k}: {v}" for k, v in head.items()]
    writer.write(("\r\n".join(lines) + "\r\n\r\n").encode())
    chunked = head.get("Transfer-Encoding") == "chunked"

    async def pour() -> None:
        try:
            for _ in range(body_chunks):
                if chunked:
                    writer.write(f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n")
                else:
                    writer.write(chunk)
                await writer.drain()
        except (ConnectionError, OSError):
            pass  # the server hung up on us: what we want

    sending = asyncio.create_task(pour())
    try:
        status_line = await asyncio.wait_for(reader.readline(), 20)
        headers: dict[str, str] = {}
        while (line := await asyncio.wait_for(reader.readline(), 20)) not in (b"\r\n", b""):
            name, _, value = line.decode().partition(":")
            headers[name.strip().lower()] = value.strip()
        body = await asyncio.wait_for(reader.readexactly(int(headers["content-length"])), 20)
    finally:
        sending.cancel()
        await asyncio.gather(sending, return_exceptions=True)
        writer.close()
        with contextlib.suppress(ConnectionError, OSError):
            await writer.wait_closed()
    return int(status_line.split()[1]), json.loads(body)


def assert_413(status: int, body: dict[str, object]) -> None:
    assert status == 413
    assert body["status"] == "error"
    assert body["error"]["code"] == "payload_too_large"  # type: ignore[index]


async def test_a_body_over_the_cap_with_content_length_is_413_at_once(api: Api) -> None:
    body = json.dumps({"username": "alice", "password": "x" * (MIB + 10)})
    response = await api.http.post(
        LOGIN, content=body, headers={"content-type": "application/json"}
    )
    assert_413(response.status_code, response.json())


async def test_a_body_at_the_cap_is_read(api: Api) -> None:
    """Just under the cap the body is parsed: the password's own limit answers."""
    body = json.dumps({"username": "alice", "password": "x" * 1000})
    padded = body[:-1] + " " * (MIB - len(body)) + "}"
    response = await api.http.post(
        LOGIN, content=padded, headers={"content-type": "application/json"}
    )
    assert response.status_code == 422, response.text


async def test_a_chunked_body_over_the_cap_is_cut_off(server: ServerProcess) -> None:
    status, body = await raw_post(
        server,
        LOGIN,
        {"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
        body_chunks=64,  # 4 MiB if the server read it all
        chunk=b"x" * (64 * 1024),
    )
    assert_413(status, body)


async def test_three_150_mb_passwords_leave_the_server_small(server: ServerProcess) -> None:
    """The attack as reported, declared and chunked: 413, and RSS stays bounded."""
    assert server.process is not None
    before = rss_bytes(server.process.pid)
    chunk = b"A" * MIB
    results = await asyncio.gather(
        *[
            raw_post(
                server,
                LOGIN,
                {"Content-Length": str(150 * MIB), "Content-Type": "application/json"},
                body_chunks=150,
                chunk=chunk,
            )
            for _ in range(3)
        ],
        *[
            raw_post(
                server,
                LOGIN,
                {"Transfer-Encoding": "chunked", "Content-Type": "application/json"},
                body_chunks=150,
                chunk=chunk,
            )
            for _ in range(3)
        ],
    )
    for status, body in results:
        assert_413(status, body)
    grown = rss_bytes(server.process.pid) - before
    assert grown < 64 * MIB, f"RSS grew by {grown / MIB:.0f} MiB"


async def test_an_overlong_password_is_refused_before_hashing(api: Api) -> None:
    """Under the body cap but over max_password_chars: 422 on login and register, fast."""
    account = await api.register("victim")
    for path, body in [
        (LOGIN, {"username": account.user["username"], "password": "p" * 129}),
        ("/api/v1/auth/register", {"username": "overlong_pw", "password": "p" * 129}),
        (LOGIN, {"username": account.user["username"], "password": "p" * 900_000}),
    ]:
        started = time.monotonic()
        response = await api.http.post(path, json=body)
        assert response.status_code == 422, response.text
        assert response.json()["error"]["code"] == "validation_error"
        assert time.monotonic() - started < 2
    # The account still logs in: an overlong password was not a failed guess to count.
    ok = await api.http.post(
        LOGIN, json={"username": account.user["username"], "password": "password-123"}
    )
    assert ok.status_code == 200
