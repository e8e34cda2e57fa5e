"""Issue 22, finding 1: a refused WebSocket handshake says why.

It was an HTTP 403 with an empty body, which a browser shows only as close 1006. Now the
server accepts the upgrade and closes at once with 4401 and a reason (``token_missing``,
``token_invalid``, ``token_expired``, ``token_revoked``, ``ticket_used``), or with 4403
``origin_not_allowed`` for a foreign browser page; nothing is served in between, such a
socket takes no place under the per-user cap, and a client that never answers the close
is not held.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import os
import time
from collections.abc import Iterator
from typing import Any, cast

import pytest
import websockets
from websockets.exceptions import ConnectionClosed
from websockets.typing import Origin

from roomchat.domain.models import User
from roomchat.domain.ports import Storage
from roomchat.domain.sessions import SessionService
from tests.support.client import Account, Api, login
from tests.support.server import ServerProcess, running_server

ALLOWED_ORIGIN = "https://app.example.com"


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """This module's server (conftest's ``api`` talks to it): an Origin allow-list, and
    one socket per user, so that a refused socket taking a place would show."""
    directory = tmp_path_factory.mktemp(f"ws-refusals-{backend}")
    with running_server(
        backend, directory, ws_allowed_origins=ALLOWED_ORIGIN, max_ws_per_user="1"
    ) as process:
        yield process


async def refusal(url: str, **connect: Any) -> tuple[int, str]:
    """Open ``url``; the code and reason the server closes it with, having sent nothing
    else (a frame before the close fails the test)."""
    async with websockets.connect(url, compression=None, **connect) as conn:
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                frame = await conn.recv()
                pytest.fail(f"a refused socket was sent {frame!r}")
    received = closed.value.rcvd
    assert received is not None, "closed without a close frame"
    return received.code, received.reason


def bearer(token: str) -> dict[str, Any]:
    return {"additional_headers": {"Authorization": f"Bearer {token}"}}


async def pongs(server: ServerProcess, account: Account) -> bool:
    async with websockets.connect(server.ws_url, compression=None, **bearer(account.token)) as c:
        await c.send(json.dumps({"action": "ping", "payload": {}, "request_id": "p"}))
        return bool(json.loads(await c.recv())["action"] == "pong")


async def ticket(api: Api, account: Account) -> str:
    return str((await api.call("POST", "/api/v1/auth/ws-ticket", account))["ticket"])


async def test_no_credential_is_token_missing(server: ServerProcess) -> None:
    assert await refusal(server.ws_url) == (4401, "token_missing")
    assert await refusal(f"{server.ws_url}?token=") == (4401, "token_missing")
    basic = {"additional_headers": {"Authorization": "Basic YWxpY2U6cGFzc3dvcmQ="}}
    assert await refusal(server.ws_url, **basic) == (4401, "token_missing")


async def test_a_garbage_or_forged_token_is_token_invalid(server: ServerProcess, api: Api) -> None:
    alice = await api.register("alice")
    header, claims, _signature = alice.token.split(".")
    for bad in ("garbage", alice.token + "x", f"{header}.{claims}.", "x" * 5000):
        assert await refusal(f"{server.ws_url}?token={bad}") == (4401, "token_invalid"), bad[:20]
        assert await refusal(server.ws_url, **bearer(bad)) == (4401, "token_invalid"), bad[:20]


async def test_an_expired_token_is_token_expired(server: ServerProcess, api: Api) -> None:
    alice = await api.register("alice")
    # A token the server's own token module issued an hour ago, for a minute.
    past = SessionService(
        cast(Storage, None),  # issuing touches no storage
        server.env["ROOMCHAT_JWT_SECRET"],
        60,
        issuer="roomchat",
        audience="roomchat",
        clock=lambda: time.time() - 3600,
    )
    user = User(alice.id, alice.user["username"], alice.user["display_name"], None)
    expired = past.issue(user).token
    assert await refusal(server.ws_url, **bearer(expired)) == (4401, "token_expired")
    assert await refusal(f"{server.ws_url}?token={expired}") == (4401, "token_expired")


async def test_a_logged_out_token_is_token_revoked(server: ServerProcess, api: Api) -> None:
    alice = await api.register("alice")
    kept = await login(api, alice.user["username"], "password-123")
    await api.call("POST", "/api/v1/auth/logout", alice)
    assert await refusal(server.ws_url, **bearer(alice.token)) == (4401, "token_revoked")
    # Her other login session is not touched.
    assert await pongs(server, Account(kept["user"], kept["access_token"]))


async def test_a_used_or_unknown_ticket_is_ticket_used(server: ServerProcess, api: Api) -> None:
    alice = await api.register("alice")
    once = await ticket(api, alice)
    async with websockets.connect(f"{server.ws_url}?ticket={once}", compression=None):
        pass  # redeemed
    assert await refusal(f"{server.ws_url}?ticket={once}") == (4401, "ticket_used")
    for unknown in ("", "nope", "A" * 43, "A" * 5000):
        assert await refusal(f"{server.ws_url}?ticket={unknown}") == (4401, "ticket_used")
    # A ticket given is the only credential tried, even beside a good token.
    both = f"{server.ws_url}?ticket=nope&token={alice.token}"
    assert await refusal(both) == (4401, "ticket_used")


async def test_a_foreign_origin_is_closed_with_4403_before_any_credential(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    good = await ticket(api, alice)
    for text in ("https://evil.example", "null", f"{ALLOWED_ORIGIN}.evil.example"):
        origin = Origin(text)
        assert await refusal(server.ws_url, origin=origin, **bearer(alice.token)) == (
            4403,
            "origin_not_allowed",
        )
        assert await refusal(server.ws_url, origin=origin) == (4403, "origin_not_allowed")
    # The foreign page's ticket was not even looked at: it still opens a socket.
    async with websockets.connect(
        f"{server.ws_url}?ticket={good}", origin=Origin(ALLOWED_ORIGIN), compression=None
    ) as conn:
        await conn.send(json.dumps({"action": "ping", "payload": {}, "request_id": "p"}))
        assert json.loads(await conn.recv())["action"] == "pong"


async def test_a_refused_socket_is_served_nothing_and_takes_no_place(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    revoked = await login(api, alice.user["username"], "password-123")
    await api.call("POST", "/api/v1/auth/logout", Account(revoked["user"], revoked["access_token"]))
    async with websockets.connect(server.ws_url, compression=None, **bearer(alice.token)) as only:
        # Alice holds her one place. Her refused sockets say why (not 4429), and frames
        # sent on them before the close get no answer.
        for _ in range(3):
            async with websockets.connect(
                server.ws_url, compression=None, **bearer(revoked["access_token"])
            ) as refused:
                with contextlib.suppress(ConnectionClosed):  # unless closed already
                    await refused.send(json.dumps({"action": "ping", "payload": {}}))
                with pytest.raises(ConnectionClosed) as closed:
                    async with asyncio.timeout(10):
                        pytest.fail(f"a refused socket was sent {await refused.recv()!r}")
                assert closed.value.rcvd is not None
                assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4401, "token_revoked")
        await only.send(json.dumps({"action": "ping", "payload": {}, "request_id": "p"}))
        assert json.loads(await only.recv())["action"] == "pong"
        # The place is still hers alone: the cap still holds.
        code, reason = await refusal(server.ws_url, **bearer(alice.token))
        assert code == 4429 and reason.startswith("too_many_connections"), reason


async def test_a_client_that_never_answers_the_close_is_dropped(server: ServerProcess) -> None:
    """Refused sockets opened in a flood are not held: one that reads the close frame but
    never answers it is disconnected within seconds (uvicorn alone would wait 10 s)."""
    started = time.monotonic()
    refused = [await _raw_refused(server) for _ in range(20)]
    try:
        async with asyncio.timeout(8):
            for reader, _ in refused:
                with contextlib.suppress(ConnectionResetError):  # dropped, or:
                    assert await reader.read(1) == b""  # the server ended the connection
    finally:
        for _, writer in refused:
            writer.close()
    assert time.monotonic() - started < 8


async def _raw_refused(server: ServerProcess) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """A handshake by hand with a bad token, read up to the end of the close frame that
    follows the 101. Nothing is written to it afterwards (no close frame in answer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", server.port)
    key = base64.b64encode(os.urandom(16)).decode()
    writer.write(
        (
            "GET /ws HTTP/1.1\r\n"
            f"Host: 127.0.0.1:{server.port}\r\n"
            "Upgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
            "Authorization: Bearer not-a-token\r\n\r\n"
        ).encode()
    )
    await writer.drain()
    async with asyncio.timeout(10):
        head = await reader.readuntil(b"\r\n\r\n")
        assert head.startswith(b"HTTP/1.1 101"), head
        # Unmasked, final, close (0x88); 15 bytes: 4401 and the reason.
        close_frame = b"\x88\x0f" + (4401).to_bytes(2, "big") + b"token_invalid"
        assert await reader.readexactly(len(close_frame)) == close_frame
    return reader, writer
