"""Finding 4: tokens in logs.

Every WebSocket handshake logged its full ``?token=`` at INFO (uvicorn's line, also
on a refused one). Now every log line passes a redacting filter (query credentials, join
link paths, Authorization headers, JSON secrets, anything shaped like a JWT or an API
key), and browsers connect with a single-use ticket instead of a token in the URL.

The attacker reads the server's logs (a log shipper, a support bundle, a shared
terminal). The test starts a server at debug level, the most talkative, does
everything that carries a secret, and greps the captured output for each secret.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.support.client import Account, Api, Ws, unique
from tests.support.receiver import receiving
from tests.support.server import ServerProcess, running_server

PASSWORD = "hunter2-very-secret"
PASSCODE = "passcode-4417-secret"
RECEIVER_PATH_TOKEN = "path-token-5521"
RECEIVER_QUERY_TOKEN = "query-token-8812-secret"


@pytest.fixture(scope="module", params=["text", "json"])
def chatty(
    request: pytest.FixtureRequest, backend: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[ServerProcess]:
    """A server at debug level, the most talkative, in each log format."""
    directory: Path = tmp_path_factory.mktemp(f"logs-{backend}-{request.param}")
    with running_server(
        backend,
        directory,
        log_level="debug",
        log_format=str(request.param),
        webhook_allowed_networks="127.0.0.0/8",
        webhook_backoff_initial_s="0.1",
        webhook_poll_interval_s="0.5",
    ) as process:
        yield process


async def ping(conn: websockets.ClientConnection) -> None:
    await conn.send(json.dumps({"action": "ping", "payload": {}, "request_id": "p"}))
    assert json.loads(await conn.recv())["action"] == "pong"


async def refused(url: str, **kw: Any) -> None:
    """The handshake is refused: accepted, then closed at once with 4401."""
    async with websockets.connect(url, **kw) as conn:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(conn.recv(), 10)
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 4401


async def test_no_secret_reaches_the_log(chatty: ServerProcess) -> None:
    api = Api(chatty.base_url)
    secrets: list[str] = [PASSWORD, PASSCODE]
    try:
        username = unique("logged")
        registered = await api.call(
            "POST",
            "/api/v1/auth/register",
            None,
            201,
            json={"username": username, "password": PASSWORD},
        )
        session = await api.call(
            "POST",
            "/api/v1/auth/login",
            None,
            json={"username": username, "password": PASSWORD},
        )
        await api.call(
            "POST",
            "/api/v1/auth/login",
            None,
            401,
            json={"username": username, "password": PASSWORD + "-wrong"},
        )
        account = Account(session["user"], session["access_token"])
        secrets += [registered["access_token"], account.token]

        # A token in the query, a token in the header, a ticket, and a bad token (4401).
        by_query = await Ws.connect(chatty.ws_url, account)
        await by_query.close()
        async with websockets.connect(chatty.ws_url, additional_headers=account.headers) as conn:
            await ping(conn)
        ticket = (await api.call("POST", "/api/v1/auth/ws-ticket", account))["ticket"]
        secrets.append(ticket)
        async with websockets.connect(f"{chatty.ws_url}?ticket={ticket}") as conn:
            await ping(conn)
        bad = "bad" + account.token[::-1]
        secrets.append(bad)
        await refused(f"{chatty.ws_url}?token={bad}")
        # The parameter's name and the token's dots percent-encoded: still a token.
        encoded = account.token.replace(".", "%2E")
        async with websockets.connect(f"{chatty.ws_url}?%74oken={encoded}") as conn:
            await ping(conn)
        used = await api.call("POST", "/api/v1/auth/ws-ticket", account)
        secrets.append(used["ticket"])
        async with websockets.connect(f"{chatty.ws_url}?ticket={used['ticket']}"):
            pass
        # Used up: a refused handshake logs its URL too.
        await refused(f"{chatty.ws_url}?ticket={used['ticket']}")

        # A passcode room, its join link (REST and the page), and a join with the passcode.
        workspace = await api.workspace(account)
        room = await api.room(account, workspace["id"], passcode=PASSCODE)
        join_token = room["link_join"].rsplit("/", 1)[1]
        secrets.append(join_token)
        await api.call(
            "POST", f"/api/v1/room-chats/join/{join_token}", account, json={"passcode": PASSCODE}
        )
        async with httpx.AsyncClient(base_url=chatty.base_url) as http:
            assert (await http.get(f"/join/{join_token}")).status_code == 200
        conn = await Ws.connect(chatty.ws_url, account)
        try:
            await conn.request("join_room_chat", {"room_id": room["id"], "passcode": PASSCODE})
        finally:
            await conn.close()
        # An API key: its one showing, in the header of REST calls, on /ws (refused),
        # and again once revoked.
        made = await api.call(
            "POST",
            f"/api/v1/workspaces/{workspace['id']}/api-keys",
            account,
            201,
            json={"name": "Logged bot"},
        )
        secrets.append(made["key"])
        bot = Account(made["user"], made["key"])
        await api.call(
            "POST", f"/api/v1/room-users/room/{room['id']}", bot, 201, json={"user_id": bot.id}
        )
        await api.call(
            "POST",
            f"/api/v1/room-chats/{room['id']}/messages",
            bot,
            201,
            json={"message_text": "from the bot"},
        )
        await refused(f"{chatty.ws_url}?token={bot.token}")
        await refused(chatty.ws_url, additional_headers=bot.headers)
        # A webhook: its secret (shown at registration and rotation) signs deliveries
        # that fail, then succeed; the receiver's own token is in its URL's query.
        hooks = f"/api/v1/workspaces/{workspace['id']}/webhooks"
        async with receiving() as receiver:
            receiver.answer = "fail"
            url = receiver.url(f"/hook/{RECEIVER_PATH_TOKEN}?sig={RECEIVER_QUERY_TOKEN}")
            body = {"url": url, "events": ["new_room_chat_message"]}
            hook = await api.call("POST", hooks, account, 201, json=body)
            rotated = await api.call("POST", f"{hooks}/{hook['id']}/secret/rotate", account, 200)
            secrets += [
                hook["secret"],
                rotated["secret"],
                RECEIVER_QUERY_TOKEN,
                RECEIVER_PATH_TOKEN,
            ]
            await api.call(
                "POST",
                f"/api/v1/room-chats/{room['id']}/messages",
                bot,
                201,
                json={"message_text": "to the webhook"},
            )
            await receiver.wait_for(lambda r: len(r.requests) >= 2)
            receiver.answer = "ok"
            await receiver.wait_for(lambda r: len(r.accepted) >= 1)
            await api.call("GET", f"{hooks}/{hook['id']}/deliveries", account, 200)
            await api.call("GET", hooks, account, 200)
        path = f"/api/v1/workspaces/{workspace['id']}/api-keys/{made['id']}"
        await api.call("DELETE", path, account)
        await api.call("GET", "/api/v1/users/me", bot, 401)

        await api.call("POST", "/api/v1/auth/logout", account)
    finally:
        await api.aclose()

    logs = chatty.logs()
    # The log did record the handshakes (at debug level, websockets' own lines too):
    # finding no secret means they were redacted, not that nothing was logged.
    assert "WebSocket /ws" in logs, logs[-3000:]
    assert "[redacted]" in logs
    leaked = [secret for secret in secrets if secret in logs]
    assert not leaked, f"{len(leaked)} secret(s) in the log"
    # Nor any part of a token long enough to replay (its signature, say).
    for token in (account.token, registered["access_token"]):
        for part in token.split("."):
            assert part not in logs
    assert bot.token.removeprefix("rck_") not in logs
    for secret in (hook["secret"], rotated["secret"]):  # nor the key without its prefix
        assert secret.removeprefix("whsec_") not in logs
    # The webhook did fail, and that was logged (by endpoint and host, not URL).
    assert f"endpoint {hook['id']} (127.0.0.1) failed" in logs
