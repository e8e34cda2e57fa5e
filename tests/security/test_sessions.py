"""Finding 5 (and the ticket of finding 4): sockets outlived their token.

A WebSocket whose token expired kept sending and receiving, and a token could not
be taken back. Now a socket is closed with 4401 at its token's expiry
(``token_expired``) and when its token is revoked by a logout (``token_revoked``),
on every instance sharing the database; a revoked token is refused by REST; and a
browser opens its socket with a single-use 30-second ticket.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import websockets
from websockets.asyncio.client import ClientConnection

from tests.support.client import Account, Api, login
from tests.support.databases import fresh_postgres_database
from tests.support.server import ServerProcess, running_server

SHORT_TTL = 4  # seconds a token lives on the "short" server


@pytest.fixture(scope="module")
def short(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """Tokens that expire in seconds, tickets in one, revocations seen within 0.2 s."""
    directory: Path = tmp_path_factory.mktemp(f"sessions-{backend}")
    with running_server(
        backend,
        directory,
        jwt_ttl_seconds=str(SHORT_TTL),
        ws_ticket_ttl_s="1",
        revocation_poll_interval_s="0.2",
    ) as process:
        yield process


async def connect(server: ServerProcess, **how: str) -> ClientConnection:
    if "token" in how:
        return await websockets.connect(f"{server.ws_url}?token={how['token']}")
    if "ticket" in how:
        return await websockets.connect(f"{server.ws_url}?ticket={how['ticket']}")
    return await websockets.connect(
        server.ws_url, additional_headers={"Authorization": f"Bearer {how['bearer']}"}
    )


async def pong(conn: ClientConnection) -> bool:
    await conn.send(json.dumps({"action": "ping", "payload": {}}))
    return bool(json.loads(await conn.recv())["action"] == "pong")


async def closed_with(conn: ClientConnection, timeout: float) -> tuple[int, str]:
    """Wait (reading) until the server closes the socket; its close code and reason."""
    with pytest.raises(websockets.ConnectionClosed) as closed:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            await conn.recv(decode=False)  # frames are ignored
    assert closed.value.rcvd is not None, "closed without a close frame"
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def ticket(api: Api, account: Account) -> str:
    data = await api.call("POST", "/api/v1/auth/ws-ticket", account)
    assert set(data) == {"ticket", "expires_in"}
    return str(data["ticket"])


async def second_login(api: Api, account: Account) -> Account:
    data = await login(api, account.user["username"], "password-123")
    return Account(data["user"], data["access_token"])


async def test_a_ticket_opens_one_socket_once(server: ServerProcess, api: Api) -> None:
    alice = await api.register("alice")
    data = await api.call("POST", "/api/v1/auth/ws-ticket", alice)
    assert data["expires_in"] == 30
    conn = await connect(server, ticket=data["ticket"])
    try:
        assert await pong(conn)
    finally:
        await conn.close()
    # Refused: accepted and closed at once with 4401 ticket_used.
    used = await connect(server, ticket=data["ticket"])
    assert await closed_with(used, 5) == (4401, "ticket_used")
    for forged in ["", "x", "A" * 43, "A" * 5000, data["ticket"] + "x"]:
        assert await closed_with(await connect(server, ticket=forged), 5) == (4401, "ticket_used")
    # A ticket given is the only credential tried: a good token beside a bad ticket fails.
    both = await websockets.connect(f"{server.ws_url}?ticket=nope&token={alice.token}")
    assert await closed_with(both, 5) == (4401, "ticket_used")


async def test_the_bearer_header_and_the_query_token_both_work(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    for how in ({"bearer": alice.token}, {"token": alice.token}):
        conn = await connect(server, **how)
        try:
            assert await pong(conn)
        finally:
            await conn.close()


async def test_a_ticket_expires(short: ServerProcess) -> None:
    api = Api(short.base_url)
    try:
        alice = await api.register("alice")
        stale = await ticket(api, alice)
        # The passage of time is what is tested here, not a synchronisation.
        await asyncio.sleep(1.5)
        assert await closed_with(await connect(short, ticket=stale), 5) == (4401, "ticket_used")
    finally:
        await api.aclose()


async def test_sockets_close_with_4401_when_their_token_expires(short: ServerProcess) -> None:
    api = Api(short.base_url)
    try:
        alice = await api.register("alice")
        by_token = await connect(short, token=alice.token)
        by_ticket = await connect(short, ticket=await ticket(api, alice))
        assert await pong(by_token) and await pong(by_ticket)
        for conn in (by_token, by_ticket):
            code, reason = await closed_with(conn, SHORT_TTL + 5)
            assert code == 4401 and "token_expired" in reason
        await api.call("GET", "/api/v1/users/me", alice, 401)
    finally:
        await api.aclose()


async def test_refresh_gives_a_new_working_token(server: ServerProcess, api: Api) -> None:
    alice = await api.register("alice")
    data = await api.call("POST", "/api/v1/auth/refresh", alice)
    assert data["token_type"] == "bearer" and data["expires_in"] > 0
    assert data["access_token"] != alice.token
    renewed = Account(data["user"], data["access_token"])
    assert (await api.call("GET", "/api/v1/users/me", renewed))["id"] == alice.id
    await api.call("POST", "/api/v1/auth/refresh", None, 401)


async def test_logout_revokes_every_token_refreshed_from_that_login(
    server: ServerProcess, api: Api
) -> None:
    """A stolen token refreshed by the thief dies when the user logs out."""
    alice = await api.register("alice")
    data = await api.call("POST", "/api/v1/auth/refresh", alice)
    refreshed = Account(data["user"], data["access_token"])
    data = await api.call("POST", "/api/v1/auth/refresh", refreshed)
    twice = Account(data["user"], data["access_token"])
    separate = await second_login(api, alice)  # another login: another session
    socket = await connect(server, token=twice.token)
    try:
        await api.call("POST", "/api/v1/auth/logout", alice)
        for token in (alice, refreshed, twice):
            await api.call("GET", "/api/v1/users/me", token, 401)
            await api.call("POST", "/api/v1/auth/refresh", token, 401)
        code, reason = await closed_with(socket, 10)
        assert code == 4401 and "token_revoked" in reason
        await api.call("GET", "/api/v1/users/me", separate)
    finally:
        await socket.close()


def test_refresh_never_extends_a_session_past_its_maximum_age(backend: str, tmp_path: Path) -> None:
    async def refresh_soon_after_login(server: ServerProcess) -> None:
        api = Api(server.base_url)
        try:
            alice = await api.register("alice")
            data = await api.call("POST", "/api/v1/auth/refresh", alice)
            # The login was under 70 s ago: the new token ends with the session, not in 7 days.
            assert 0 < data["expires_in"] <= 70
            refreshed = Account(data["user"], data["access_token"])
            assert (await api.call("GET", "/api/v1/users/me", refreshed))["id"] == alice.id
        finally:
            await api.aclose()

    async def refresh_in_the_last_minute(server: ServerProcess) -> None:
        api = Api(server.base_url)
        try:
            bob = await api.register("bob")
            error = await api.call("POST", "/api/v1/auth/refresh", bob, 401)
            assert "log in again" in error["message"]
        finally:
            await api.aclose()

    with running_server(backend, tmp_path / "a", session_max_age_s="70") as server:
        asyncio.run(refresh_soon_after_login(server))
    with running_server(backend, tmp_path / "b", session_max_age_s="59") as server:
        asyncio.run(refresh_in_the_last_minute(server))


async def test_logout_revokes_the_token_on_rest_and_closes_its_sockets(
    short: ServerProcess,
) -> None:
    api = Api(short.base_url)
    try:
        alice = await api.register("alice")
        other = await second_login(api, alice)
        doomed = await connect(short, token=alice.token)
        doomed_ticket = await ticket(api, alice)  # a ticket of the revoked token dies with it
        kept = await connect(short, token=other.token)
        try:
            assert await pong(doomed) and await pong(kept)
            assert await api.call("POST", "/api/v1/auth/logout", alice) == {"all": False}
            error = await api.call("GET", "/api/v1/users/me", alice, 401)
            assert error["code"] == "unauthorized"
            await api.call("POST", "/api/v1/auth/ws-ticket", alice, 401)
            refused = await connect(short, ticket=doomed_ticket)
            assert await closed_with(refused, 5) == (4401, "ticket_used")
            code, reason = await closed_with(doomed, 5)
            assert code == 4401 and "token_revoked" in reason
            assert await pong(kept)  # the user's other token is untouched
            await api.call("GET", "/api/v1/users/me", other)
        finally:
            await kept.close()
    finally:
        await api.aclose()


async def test_logout_everywhere_revokes_every_token_of_the_user(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    bob = await api.register("bob")
    other = await second_login(api, alice)
    sockets = [await connect(server, token=alice.token), await connect(server, bearer=other.token)]
    bobs = await connect(server, token=bob.token)
    try:
        body: dict[str, Any] = {"all": True}
        assert await api.call("POST", "/api/v1/auth/logout", other, json=body) == {"all": True}
        for account in (alice, other):
            await api.call("GET", "/api/v1/users/me", account, 401)
        for conn in sockets:
            code, reason = await closed_with(conn, 10)
            assert code == 4401 and "token_revoked" in reason
        assert await pong(bobs)
        fresh = await second_login(api, alice)  # logging in again works at once
        await api.call("GET", "/api/v1/users/me", fresh)
    finally:
        await bobs.close()


@pytest.mark.parametrize("strict_body", [{"all": "true"}, {"all": 1}, {"all": None}])
async def test_logout_takes_a_strict_boolean(api: Api, strict_body: dict[str, Any]) -> None:
    alice = await api.register("alice")
    error = await api.call("POST", "/api/v1/auth/logout", alice, 422, json=strict_body)
    assert error["code"] == "validation_error"
    await api.call("GET", "/api/v1/users/me", alice)  # nothing was revoked


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    """Two instances on one PostgreSQL database (no bus needed: revocations are rows)."""
    directory = tmp_path_factory.mktemp("pair")
    with fresh_postgres_database() as url:
        first = ServerProcess(url, directory / "a", revocation_poll_interval_s="0.2")
        second = ServerProcess(url, directory / "b", revocation_poll_interval_s="0.2")
        try:
            first.start()
            second.start()
            yield first, second
        finally:
            second.stop()
            first.stop()


async def test_a_logout_on_one_instance_closes_sockets_on_another(
    pair: tuple[ServerProcess, ServerProcess],
) -> None:
    a, b = pair
    api_a, api_b = Api(a.base_url), Api(b.base_url)
    try:
        alice = await api_a.register("alice")
        on_b = await connect(b, ticket=await ticket(api_a, alice))  # issued on a, used on b
        assert await pong(on_b)
        await api_a.call("POST", "/api/v1/auth/logout", alice)
        code, reason = await closed_with(on_b, 10)
        assert code == 4401 and "token_revoked" in reason
        await api_b.call("GET", "/api/v1/users/me", alice, 401)
    finally:
        await api_a.aclose()
        await api_b.aclose()
