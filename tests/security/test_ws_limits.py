"""Finding 10 (WebSocket) and the join limits of finding 2, against a real server.

Sockets per user are capped (close 4429), foreign browser pages cannot open /ws
(closed at once with 4403), joins are rate-limited, a join's history is capped in bytes (the rest by
REST pages), and an error reply echoes nothing of the frame it answers.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Iterator

import pytest
import websockets
from websockets.exceptions import ConnectionClosed

from tests.support.client import (
    Account,
    Api,
    Ws,
    error_code,
    is_message,
    marker,
    send_many,
)
from tests.support.server import ServerProcess, running_server

MAX_WS_PER_USER = 3
ALLOWED_ORIGIN = "https://app.example.com"
CATCH_UP_CAP = 20_000
MARKER = "MARKER-7f3a"


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """This module's server (conftest's ``api`` talks to it)."""
    directory = tmp_path_factory.mktemp(f"ws-limits-{backend}")
    with running_server(
        backend,
        directory,
        max_ws_per_user=str(MAX_WS_PER_USER),
        ws_allowed_origins=f"{ALLOWED_ORIGIN}, http://localhost:3000",
        join_rate_per_second="0.5",
        join_burst="3",
        catch_up_max_bytes=str(CATCH_UP_CAP),
        send_rate_per_second="1000",
        send_burst="1000",
    ) as process:
        yield process


async def connect(
    server: ServerProcess, account: Account, **kw: object
) -> websockets.ClientConnection:
    return await websockets.connect(
        server.ws_url, additional_headers=account.headers, compression=None, **kw
    )


async def is_open(conn: websockets.ClientConnection) -> bool:
    """Whether the server answers a ping frame (a socket it refused is closed instead)."""
    try:
        await asyncio.wait_for(await conn.ping(), 10)
        return True
    except ConnectionClosed:
        return False


# --- sockets per user ---


async def test_a_users_socket_past_the_cap_is_closed_with_4429(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    open_ = [await connect(server, alice) for _ in range(MAX_WS_PER_USER)]
    try:
        for conn in open_:
            assert await is_open(conn)
        extra = await connect(server, alice)
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                await extra.recv()
        assert closed.value.rcvd is not None
        assert closed.value.rcvd.code == 4429
        assert "too_many_connections" in closed.value.rcvd.reason
        # Another user is not affected.
        other = await connect(server, bob)
        assert await is_open(other)
        await other.close()
        # Closing one frees its place (once the server has seen it go).
        await open_.pop().close()
        loop = asyncio.get_running_loop()
        deadline = loop.time() + 10
        while True:
            again = await connect(server, alice)
            if await is_open(again):
                open_.append(again)
                break
            assert loop.time() < deadline, "the closed socket's place was never freed"
            await asyncio.sleep(0.05)  # polling the server's bookkeeping, nothing to wait on
    finally:
        for conn in open_:
            await conn.close()


# --- Origin ---


async def test_a_foreign_origin_is_closed_with_4403_at_once(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    for origin in ("https://evil.example", "null", "https://app.example.com.evil.example"):
        conn = await connect(server, alice, origin=origin)
        with pytest.raises(ConnectionClosed) as closed:
            async with asyncio.timeout(10):
                await conn.recv()
        assert closed.value.rcvd is not None
        assert (closed.value.rcvd.code, closed.value.rcvd.reason) == (4403, "origin_not_allowed")


async def test_listed_own_and_absent_origins_are_accepted(server: ServerProcess, api: Api) -> None:
    alice = await api.register("alice")
    own = f"http://127.0.0.1:{server.port}"  # its public_base_url, and the Host reached
    for origin in (ALLOWED_ORIGIN, "http://localhost:3000", own, None):
        kw = {"origin": origin} if origin else {}
        conn = await connect(server, alice, **kw)
        try:
            assert await is_open(conn), origin
        finally:
            await conn.close()


@pytest.fixture(scope="module")
def open_server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with the defaults: no Origin allow-list."""
    with running_server(backend, tmp_path_factory.mktemp(f"any-origin-{backend}")) as process:
        yield process


async def test_with_no_allow_list_any_origin_is_accepted(open_server: ServerProcess) -> None:
    api = Api(open_server.base_url)
    try:
        alice = await api.register("alice")
        conn = await connect(open_server, alice, origin="https://anywhere.example")
        try:
            assert await is_open(conn)
        finally:
            await conn.close()
    finally:
        await api.aclose()


# --- joins ---


async def room_of(api: Api, owner: Account) -> int:
    ws = await api.workspace(owner)
    return int((await api.room(owner, ws["id"]))["id"])


async def test_joining_faster_than_the_limit_is_rate_limited(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    room_id = await room_of(api, alice)
    ws = await Ws.connect(server.ws_url, alice)
    try:
        replies = [
            await ws.request("join_room_chat", {"room_id": room_id, "after_seq": 0})
            for _ in range(6)
        ]
        codes = [error_code(r) for r in replies]
        assert codes[:3] == [None, None, None]  # the burst
        assert codes[3:] == ["rate_limited"] * 3
        assert all(r["action"] == "join_room_chat" for r in replies)
        # Still connected and joined: it answers, and gets the room's messages.
        await ws.say(room_id, "still joined")
        assert (await ws.request("ping", {}))["status"] == "success"
    finally:
        await ws.close()


async def test_a_catch_up_is_capped_in_bytes_and_the_rest_comes_by_rest_pages(
    server: ServerProcess, api: Api
) -> None:
    alice = await api.register("alice")
    room_id = await room_of(api, alice)
    writer = await Ws.connect(server.ws_url, alice)
    try:
        texts = [f"{n:02d} " + "x" * 1500 for n in range(30)]  # ~45 KB of messages
        await send_many(writer, room_id, texts)
    finally:
        await writer.close()

    ws = await Ws.connect(server.ws_url, alice)
    try:
        caught_up = await ws.request("join_room_chat", {"room_id": room_id, "after_seq": 0})
        data = caught_up["data"]
        listed = json.dumps(data["events"], separators=(",", ":"), ensure_ascii=False)
        assert len(listed.encode()) <= CATCH_UP_CAP
        assert data["has_more"] is True
        seqs = [e["data"]["seq"] for e in data["events"]]
        assert seqs == list(range(1, len(seqs) + 1)) and 5 < len(seqs) < 30
        assert data["seq"] == seqs[-1]
        # The rest, by REST pages of the event log, from the seq the reply ended at.
        after = data["seq"]
        while True:
            page = await api.call(
                "GET",
                f"/api/v1/room-chats/{room_id}/events",
                alice,
                params={"after_seq": after, "limit": 100},
            )
            seqs += [e["data"]["seq"] for e in page["events"]]
            if not page["has_more"]:
                break
            after = seqs[-1]
        assert seqs == list(range(1, 31))

        # A new message after that join still arrives live, exactly once.
        await ws.say(room_id, "live after a capped join")
        await ws.wait_for(is_message("live after a capped join"))
        await marker(ws)  # whatever else was queued for it has arrived by the pong
        assert [m["seq"] for m in ws.messages(room_id)] == [31]

        # Without after_seq: the newest messages that fit, and has_more (older exist).
        latest = (await ws.join(room_id))["data"]
        newest = [m["seq"] for m in latest["messages"]]
        assert latest["has_more"] is True
        assert newest == list(range(32 - len(newest), 32)) and len(newest) < 31
    finally:
        await ws.close()


# --- nothing of a bad frame comes back ---


@pytest.mark.parametrize(
    ("frame", "action"),
    [
        (f"{{not json {MARKER}", "error"),
        (f'["{MARKER}"]', "error"),
        (f'{{"action": "{MARKER}<script>", "payload": {{}}}}', "error"),
        (f'{{"action": "{"x" * 100}{MARKER}", "payload": {{}}}}', "error"),
        (f'{{"action": {{"{MARKER}": 1}}, "payload": {{}}}}', "error"),
        (f'{{"action": "join_room_chat", "payload": {{"room_id": "{MARKER}"}}}}', "join_room_chat"),
        (
            f'{{"action": "join_room_chat", "payload": {{"room_id": 1, "after_seq": "{MARKER}"}}}}',
            "join_room_chat",
        ),
        (
            f'{{"action": "send_room_chat_message", "payload": {{"room_id": 1, '
            f'"message_text": ["{MARKER}"]}}}}',
            "send_room_chat_message",
        ),
        (
            f'{{"action": "typing_indicator", "payload": {{"room_id": 1, '
            f'"is_typing": "{MARKER}"}}}}',
            "typing_indicator",
        ),
        (
            f'{{"action": "join_room_chat", "payload": {{"room_id": 1, '
            f'"passcode": {{"{MARKER}": 1}}}}}}',
            "join_room_chat",
        ),
    ],
    ids=[
        "invalid-json",
        "not-an-object",
        "unknown-action-markup",
        "unknown-action-long",
        "action-not-a-string",
        "id-not-an-int",
        "after-seq-not-an-int",
        "text-not-a-string",
        "typing-not-a-bool",
        "passcode-not-a-string",
    ],
)
async def test_an_error_reply_echoes_nothing_of_the_bad_frame(
    server: ServerProcess, api: Api, frame: str, action: str
) -> None:
    alice = await api.register("alice")
    ws = await Ws.connect(server.ws_url, alice)
    try:
        await ws.conn.send(frame)
        raw = await asyncio.wait_for(ws.conn.recv(), 10)
        assert isinstance(raw, str)
        reply = json.loads(raw)
        assert reply["status"] == "error" and reply["action"] == action
        assert MARKER not in raw, raw
        assert (await ws.request("ping", {}))["status"] == "success"
    finally:
        await ws.close()
