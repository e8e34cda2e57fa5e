"""The server API for backends (docs/server-api.md): a workspace owner's API keys, each
acting as a bot of its own with the owner's rights over the workspace's rooms, and
POST .../messages for bots and users alike. Real servers, SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import websockets

from tests.support.client import Account, Api, Ws, is_message, register_sync, stored_texts
from tests.support.databases import fresh_postgres_database
from tests.support.server import ServerProcess, module_server, running_server

pytestmark = pytest.mark.integration

BOT_NAME = "Deploy notifier"


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """This module's server (conftest's ``api`` talks to it): the per-key and REST send
    limits out of the way, but where they are tested (``limited``)."""
    with module_server(
        backend,
        tmp_path_factory,
        "keys",
        api_key_rate_limit="1000/second",
        rest_send_limit="1000/second",
    ) as process:
        yield process


async def make_key(
    api: Api, owner: Account, workspace_id: int, name: str = BOT_NAME
) -> tuple[dict[str, Any], Account]:
    """A new key of the workspace, and its bot as a caller (the key as its bearer)."""
    made = await api.call(
        "POST", f"/api/v1/workspaces/{workspace_id}/api-keys", owner, 201, json={"name": name}
    )
    return made, Account(made["user"], made["key"])


async def post(
    api: Api, caller: Account, room_id: int, text: str, expect: int = 201, **body: Any
) -> Any:
    path = f"/api/v1/room-chats/{room_id}/messages"
    return await api.call("POST", path, caller, expect, json={"message_text": text, **body})


async def test_a_bot_posts_and_a_joined_member_hears_it(server: ServerProcess, api: Api) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    workspace = await api.workspace(alice, bob)
    room = await api.room(alice, workspace["id"])
    rid = room["id"]
    await api.call("POST", f"/api/v1/room-users/room/{rid}", alice, 201, json={"user_id": bob.id})
    made, bot = await make_key(api, alice, workspace["id"])
    assert made["key"].startswith("rck_") and made["prefix"] == made["key"][:12]
    assert made["user"]["username"].startswith("bot-")
    assert made["user"]["display_name"] == BOT_NAME

    # The owner's rights over a room it did not create: it adds itself to the room.
    await api.call("POST", f"/api/v1/room-users/room/{rid}", bot, 201, json={"user_id": bot.id})
    conn = await Ws.connect(server.ws_url, bob)
    try:
        await conn.join(rid)
        sent = await post(api, bot, rid, "deploy 142 finished", client_msg_id="deploy-142")
        heard = await conn.wait_for(is_message("deploy 142 finished"))
        assert heard["data"] == sent
        assert sent["user"] == made["user"] and sent["user_id"] == bot.id
        # Shown as a bot without a new shape: the same fields as a person's message.
        said = await conn.say(rid, "thanks")
        assert sent.keys() == said.keys() and sent["user"].keys() == said["user"].keys()

        # It reads history, renames the room and removes a member, as the owner could.
        assert await stored_texts(api, bot, rid) == ["deploy 142 finished", "thanks"]
        await api.call("PATCH", f"/api/v1/room-chats/{rid}", bot, json={"name": "Deploys"})
        renamed = await conn.wait_for(lambda f: f.get("action") == "room_chat_updated")
        assert renamed["data"]["room"]["name"] == "Deploys"
        await api.call("DELETE", f"/api/v1/room-users/room/{rid}/users/{alice.id}", bot)
        left = await conn.wait_for(lambda f: f.get("action") == "room_member_left")
        assert left["data"]["user_id"] == alice.id and left["data"]["removed_by"] == bot.id
    finally:
        await conn.close()

    # It makes rooms of its own, and the workspace's member list shows it as its bot.
    own = await api.room(bot, workspace["id"])
    assert own["created_by"] == bot.id
    members = await api.call("GET", f"/api/v1/workspaces/{workspace['id']}/members", alice)
    assert {m["user_id"]: m["role"] for m in members}[bot.id] == "bot"
    # But the workspace stays its owner's: it cannot be handed to the bot.
    path = f"/api/v1/workspaces/{workspace['id']}/owner"
    assert (await api.call("POST", path, alice, 404, json={"user_id": bot.id}))[
        "code"
    ] == "not_found"


async def test_a_repeated_client_msg_id_stores_one_message(server: ServerProcess, api: Api) -> None:
    alice = await api.register("alice")
    workspace = await api.workspace(alice)
    _, bot = await make_key(api, alice, workspace["id"])
    room = await api.room(bot, workspace["id"])
    rid = room["id"]
    await api.call("POST", f"/api/v1/room-users/room/{rid}", bot, 201, json={"user_id": alice.id})
    conn = await Ws.connect(server.ws_url, alice)
    try:
        await conn.join(rid)
        first = await post(api, bot, rid, "once", client_msg_id="job-7")
        again = await post(api, bot, rid, "once", 200, client_msg_id="job-7")
        assert again == first
        other = await post(api, bot, rid, "twice?", 409, client_msg_id="job-7")
        assert other["code"] == "conflict"
        await post(api, bot, rid, "after")
        await conn.wait_for(is_message("after"))
        # Broadcasts come in seq order: a second "once" would have come before "after".
        heard = sorted(conn.messages(rid), key=lambda m: int(m["seq"]))
        assert [m["message_text"] for m in heard] == ["once", "after"]
    finally:
        await conn.close()
    assert await stored_texts(api, alice, rid) == ["once", "after"]


async def test_a_user_posts_with_their_token_on_the_same_endpoint(
    server: ServerProcess, api: Api
) -> None:
    alice, bob, carol = [await api.register(n) for n in ("alice", "bob", "carol")]
    outsider = await api.register("outsider")
    workspace = await api.workspace(alice, bob, carol)
    room = await api.room(alice, workspace["id"])
    rid = room["id"]
    await api.call("POST", f"/api/v1/room-users/room/{rid}", alice, 201, json={"user_id": bob.id})
    conn = await Ws.connect(server.ws_url, bob)
    try:
        await conn.join(rid)
        sent = await post(api, alice, rid, "from the REST API", message_content='{"k": 1}')
        heard = await conn.wait_for(is_message("from the REST API"))
        assert heard["data"] == sent and sent["user"] == alice.user
        assert sent["message_content"] == '{"k": 1}'
    finally:
        await conn.close()

    # Not in the room, not in the workspace: forbidden, and nothing stored.
    for stranger in (carol, outsider):
        refused = await post(api, stranger, rid, "let me in", 403)
        assert refused["code"] == "forbidden"
    for body in (
        {},
        {"message_text": "   "},
        {"message_text": 42},
        {"message_text": "x" * 4001},
        {"message_text": "ok", "client_msg_id": ""},
        {"message_text": "ok", "client_msg_id": "c" * 65},
        {"message_text": "ok", "message_content": ["not", "text"]},
        {"message_text": "nul \x00"},
    ):
        response = await api.http.post(
            f"/api/v1/room-chats/{rid}/messages", headers=alice.headers, json=body
        )
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    not_json = await api.http.post(
        f"/api/v1/room-chats/{rid}/messages",
        headers={**alice.headers, "Content-Type": "application/json"},
        content=b'{"message_text": ',
    )
    assert not_json.status_code == 400
    assert await stored_texts(api, alice, rid) == ["from the REST API"]


async def test_a_key_of_one_workspace_is_forbidden_in_another(
    server: ServerProcess, api: Api
) -> None:
    alice, bob = await api.register("alice"), await api.register("bob")
    mine = await api.workspace(alice)
    _, bot = await make_key(api, alice, mine["id"])
    theirs = await api.workspace(bob)
    their_room = await api.room(bob, theirs["id"])
    await post(api, bob, their_room["id"], "their secret")
    wid, rid = theirs["id"], their_room["id"]
    calls: list[tuple[str, str, dict[str, Any] | None]] = [
        ("GET", f"/api/v1/room-chats/workspace/{wid}", None),
        ("GET", f"/api/v1/room-chats/{rid}", None),
        ("GET", f"/api/v1/room-chats/{rid}/messages", None),
        ("GET", f"/api/v1/room-chats/{rid}/events", None),
        ("GET", f"/api/v1/room-users/room/{rid}", None),
        ("GET", f"/api/v1/workspaces/{wid}/members", None),
        ("GET", f"/api/v1/workspaces/{wid}/api-keys", None),
        ("POST", f"/api/v1/workspaces/{wid}/api-keys", {"name": "mine now"}),
        ("POST", "/api/v1/room-chats/", {"workspace_id": wid, "name": "bot room"}),
        ("POST", f"/api/v1/room-chats/{rid}/messages", {"message_text": "hello"}),
        ("POST", f"/api/v1/room-users/room/{rid}", {"user_id": bot.id}),
        ("DELETE", f"/api/v1/room-users/room/{rid}/users/{bob.id}", None),
        ("PATCH", f"/api/v1/room-chats/{rid}", {"name": "taken over"}),
        ("DELETE", f"/api/v1/room-chats/{rid}", None),
        ("POST", f"/api/v1/workspaces/{wid}/members", {"user_id": bot.id}),
        # Nor a workspace of its own: a bot belongs to its key's workspace only.
        ("POST", "/api/v1/workspaces/", {"name": "bot land"}),
        # Its own workspace's keys and membership are the owner's.
        ("GET", f"/api/v1/workspaces/{mine['id']}/api-keys", None),
        ("POST", f"/api/v1/workspaces/{mine['id']}/api-keys", {"name": "another"}),
        ("DELETE", f"/api/v1/workspaces/{mine['id']}/members/me", None),
        ("POST", f"/api/v1/workspaces/{mine['id']}/owner", {"user_id": bot.id}),
    ]
    for method, path, body in calls:
        response = await api.http.request(method, path, headers=bot.headers, json=body)
        assert response.status_code == 403, f"{method} {path}: {response.text}"
        assert set(response.json()) == {"status", "error"}
        assert response.json()["error"]["code"] == "forbidden"
        for secret in ("their secret", their_room["name"], theirs["name"]):
            assert secret not in response.text

    # The other owner invites the bot: the reply is as for anyone, and nothing reaches it.
    await api.call("POST", f"/api/v1/workspaces/{wid}/members", bob, 202, json={"user_id": bot.id})
    assert await api.call("GET", "/api/v1/invitations", bot) == []
    assert [w["id"] for w in await api.call("GET", "/api/v1/workspaces/", bot)] == [mine["id"]]
    # Nothing of the other workspace changed.
    assert await stored_texts(api, bob, rid) == ["their secret"]
    rooms = await api.call("GET", f"/api/v1/room-chats/workspace/{wid}", bob)
    assert [(r["id"], r["name"]) for r in rooms] == [(rid, their_room["name"])]
    members = await api.call("GET", f"/api/v1/workspaces/{wid}/members", bob)
    assert [m["user_id"] for m in members] == [bob.id]


async def ws_closed_at_once(url: str, **kw: Any) -> tuple[int, str]:
    """Open ``url``; the code and reason the server closed it with, having served nothing."""
    async with websockets.connect(url, **kw) as conn:
        with pytest.raises(websockets.ConnectionClosed) as closed:
            await asyncio.wait_for(conn.recv(), 10)
    assert closed.value.rcvd is not None
    return closed.value.rcvd.code, closed.value.rcvd.reason


async def test_a_key_opens_no_websocket_and_no_session(server: ServerProcess, api: Api) -> None:
    alice = await api.register("alice")
    workspace = await api.workspace(alice)
    _, bot = await make_key(api, alice, workspace["id"])
    # Refused as any token that is not an access token: 4401 token_invalid, at once.
    assert await ws_closed_at_once(f"{server.ws_url}?token={bot.token}") == (4401, "token_invalid")
    refusal = await ws_closed_at_once(server.ws_url, additional_headers=bot.headers)
    assert refusal == (4401, "token_invalid")
    for path in ("/api/v1/auth/ws-ticket", "/api/v1/auth/refresh", "/api/v1/auth/logout"):
        refused = await api.call("POST", path, bot, 403)
        assert refused["code"] == "forbidden"
    # Still a working key: none of that revoked or used it up.
    assert (await api.call("GET", "/api/v1/users/me", bot))["id"] == bot.id
    # Keys that are not (or no longer) keys: unauthorized.
    for token in ("rck_" + "x" * 43, bot.token + "x", "rck_", "rck_" + "y" * 200):
        refused = await api.call("GET", "/api/v1/users/me", Account({}, token), 401)
        assert refused["code"] == "unauthorized"


async def test_only_the_owner_creates_lists_and_revokes_keys(api: Api) -> None:
    alice, mia, olly = [await api.register(n) for n in ("alice", "mia", "olly")]
    workspace = await api.workspace(alice, mia)
    await api.workspace(olly)
    made, bot = await make_key(api, alice, workspace["id"], "Nightly report")
    base = f"/api/v1/workspaces/{workspace['id']}/api-keys"
    for caller in (mia, olly, bot):
        for method, path, body in (
            ("POST", base, {"name": "sneaky"}),
            ("GET", base, None),
            ("DELETE", f"{base}/{made['id']}", None),
        ):
            response = await api.http.request(method, path, headers=caller.headers, json=body)
            assert response.status_code == 403, f"{method} {path}: {response.text}"
            assert response.json()["error"]["code"] == "forbidden"
            assert made["prefix"] not in response.text and "Nightly" not in response.text

    # The owner's list: the key, still working, and never the key itself.
    response = await api.http.get(base, headers=alice.headers)
    assert made["key"] not in response.text
    (listed,) = response.json()["data"]
    shown = {k: v for k, v in made.items() if k != "key"}
    assert {**listed, "last_used_at": None} == shown  # last used: by the refusals above
    assert listed["revoked_at"] is None and listed["last_used_at"] is not None
    assert (await api.call("GET", "/api/v1/users/me", bot))["id"] == bot.id

    # Revoked: refused at once; listed as revoked; the bot's messages keep their author.
    revoked = await api.call("DELETE", f"{base}/{made['id']}", alice)
    assert revoked["id"] == made["id"] and revoked["revoked_at"] is not None
    assert (await api.call("GET", "/api/v1/users/me", bot, 401))["code"] == "unauthorized"
    (listed,) = await api.call("GET", base, alice)
    assert listed["revoked_at"] == revoked["revoked_at"]
    again = await api.call("DELETE", f"{base}/{made['id']}", alice)
    assert again["revoked_at"] == revoked["revoked_at"]


async def test_bad_input_changes_nothing(api: Api) -> None:
    alice, olly = await api.register("alice"), await api.register("olly")
    workspace = await api.workspace(alice)
    other = await api.workspace(olly)
    _, other_bot = await make_key(api, olly, other["id"])
    base = f"/api/v1/workspaces/{workspace['id']}/api-keys"
    for body in (
        {},
        {"name": ""},
        {"name": "   "},
        {"name": "n" * 65},
        {"name": 7},
        {"name": None},
        {"name": "\u202eevil"},
        {"name": "line\nbreak"},
        ["name"],
    ):
        response = await api.http.post(base, headers=alice.headers, json=body)
        assert response.status_code == 422, (body, response.text)
        assert response.json()["error"]["code"] == "validation_error"
    not_json = await api.http.post(
        base, headers={**alice.headers, "Content-Type": "application/json"}, content=b"{"
    )
    assert not_json.status_code == 400
    for key_id in ("abc", "0", "01", "-1", str(2**53), str(2**63)):
        response = await api.http.delete(f"{base}/{key_id}", headers=alice.headers)
        assert response.status_code == 422, (key_id, response.text)
    # Another workspace's key, or none, is not found here.
    (theirs,) = await api.call("GET", f"/api/v1/workspaces/{other['id']}/api-keys", olly)
    for key_id in (theirs["id"], 2**53 - 1):  # the largest id there can be
        refused = await api.call("DELETE", f"{base}/{key_id}", alice, 404)
        assert refused["code"] == "not_found"
    assert await api.call("GET", base, alice) == []
    assert (await api.call("GET", "/api/v1/users/me", other_bot))["id"] == theirs["user"]["id"]


@pytest.fixture(scope="module")
def limited(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with small bounds: 2 keys per workspace, 4 requests a minute per key,
    3 REST sends a minute per user."""
    directory: Path = tmp_path_factory.mktemp(f"keys-limited-{backend}")
    with running_server(
        backend,
        directory,
        api_keys_per_workspace="2",
        api_key_rate_limit="4/minute",
        rest_send_limit="3/minute",
    ) as process:
        yield process


async def test_a_workspace_has_a_bounded_number_of_keys(limited: ServerProcess) -> None:
    api = Api(limited.base_url)
    try:
        alice = await api.register("alice")
        workspace = await api.workspace(alice)
        base = f"/api/v1/workspaces/{workspace['id']}/api-keys"
        first, _ = await make_key(api, alice, workspace["id"], "one")
        await make_key(api, alice, workspace["id"], "two")
        full = await api.call("POST", base, alice, 409, json={"name": "three"})
        assert full["code"] == "conflict"
        assert [k["name"] for k in await api.call("GET", base, alice)] == ["one", "two"]
        # A revoked key no longer counts.
        await api.call("DELETE", f"{base}/{first['id']}", alice)
        await make_key(api, alice, workspace["id"], "three")
    finally:
        await api.aclose()


async def test_each_key_is_rate_limited_on_its_own(limited: ServerProcess) -> None:
    api = Api(limited.base_url)
    try:
        alice = await api.register("alice")
        workspace = await api.workspace(alice)
        _, busy = await make_key(api, alice, workspace["id"], "busy")
        _, quiet = await make_key(api, alice, workspace["id"], "quiet")
        room = await api.room(busy, workspace["id"])  # the key's first request
        for n in range(2):
            await post(api, busy, room["id"], f"note {n}")
        await api.call("GET", "/api/v1/users/me", busy)  # its fourth: the last this minute
        response = await api.http.post(
            f"/api/v1/room-chats/{room['id']}/messages",
            headers=busy.headers,
            json={"message_text": "one too many"},
        )
        assert response.status_code == 429
        assert response.json()["error"]["code"] == "rate_limited"
        assert 1 <= int(response.headers["Retry-After"]) <= 60
        # Another key of the workspace, and the owner, are not held back by it.
        assert (await api.call("GET", "/api/v1/users/me", quiet))["id"] == quiet.id
        path = f"/api/v1/room-users/room/{room['id']}"
        await api.call("POST", path, quiet, 201, json={"user_id": alice.id})
        assert await stored_texts(api, alice, room["id"]) == ["note 0", "note 1"]
    finally:
        await api.aclose()


async def test_a_user_posting_over_rest_is_rate_limited(limited: ServerProcess) -> None:
    api = Api(limited.base_url)
    try:
        alice = await api.register("alice")
        workspace = await api.workspace(alice)
        room = await api.room(alice, workspace["id"])
        for n in range(3):
            await post(api, alice, room["id"], f"rest {n}")
        refused = await post(api, alice, room["id"], "rest 3", 429)
        assert refused["code"] == "rate_limited"
        assert await stored_texts(api, alice, room["id"]) == ["rest 0", "rest 1", "rest 2"]
        # The WebSocket has its own limits: the user still talks there.
        conn = await Ws.connect(limited.ws_url, alice)
        try:
            await conn.join(room["id"])
            await conn.say(room["id"], "by socket")
        finally:
            await conn.close()
    finally:
        await api.aclose()


@contextmanager
def instance(database_url: str, directory: Path) -> Iterator[ServerProcess]:
    process = ServerProcess(database_url, directory)
    try:
        yield process.start()
    finally:
        process.stop()


@pytest.mark.postgres
def test_a_revoked_key_is_refused_at_once_on_every_instance(tmp_path: Path) -> None:
    """Two instances on one PostgreSQL database: a key revoked on one is refused by
    both on the very next request."""
    with (
        fresh_postgres_database() as url,
        instance(url, tmp_path / "one") as one,
        instance(url, tmp_path / "two") as two,  # after the first, which migrated
        httpx.Client(timeout=10) as http,
    ):
        (alice,) = register_sync(one.base_url, "alice")
        workspace = http.post(
            f"{one.base_url}/api/v1/workspaces/", headers=alice.headers, json={"name": "ops"}
        ).json()["data"]
        base = f"/api/v1/workspaces/{workspace['id']}/api-keys"
        made = http.post(
            f"{two.base_url}{base}", headers=alice.headers, json={"name": "cron"}
        ).json()["data"]
        bot = {"Authorization": f"Bearer {made['key']}"}
        for server in (one, two):
            me = http.get(f"{server.base_url}/api/v1/users/me", headers=bot)
            assert me.status_code == 200 and me.json()["data"]["id"] == made["user"]["id"]
        revoked = http.delete(f"{one.base_url}{base}/{made['id']}", headers=alice.headers)
        assert revoked.status_code == 200, revoked.text
        for server in (two, one):
            me = http.get(f"{server.base_url}/api/v1/users/me", headers=bot)
            assert me.status_code == 401, me.text
            assert me.json()["error"]["code"] == "unauthorized"
