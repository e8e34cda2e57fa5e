"""Membership and room changes as room events, over real sockets on real servers:
joins, adds, leaves and removals, updates, link rotation and deletion; who may; and
what a removed member or a deleted room's sockets get (the event, then nothing)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.client import Account, Api, Frame, TracedWs, Ws, error_code, marker
from tests.support.server import ServerProcess

JOINED = "room_member_joined"
LEFT = "room_member_left"
UPDATED = "room_chat_updated"
DELETED = "room_chat_deleted"
NEW = "new_room_chat_message"


def room_path(room_id: int) -> str:
    return f"/api/v1/room-chats/{room_id}"


def member_path(room_id: int, user_id: int) -> str:
    return f"/api/v1/room-users/room/{room_id}/users/{user_id}"


def action(name: str, user_id: int | None = None) -> Any:
    """Frames of that broadcast (about that user, if given)."""
    return lambda f: (
        f.get("action") == name and (user_id is None or f["data"]["user_id"] == user_id)
    )


async def room_events(api: Api, account: Account, room_id: int, after: int = 0) -> list[Any]:
    page = await api.call(
        "GET", f"{room_path(room_id)}/events", account, params={"after_seq": after, "limit": 100}
    )
    assert page["has_more"] is False
    return list(page["events"])


def as_event(frame: Frame) -> dict[str, Any]:
    return {"action": frame["action"], "data": frame["data"]}


def broadcasts(ws: TracedWs, *actions: str) -> list[dict[str, Any]]:
    """The socket's broadcasts of these actions, in arrival order, as events."""
    return [as_event(f) for f in ws.arrivals if f.get("action") in actions]


async def nothing_after(ws: TracedWs, frame: Frame) -> None:
    """The socket got nothing after ``frame`` (proved by a ping's pong)."""
    await marker(ws)
    later = ws.arrivals[ws.arrivals.index(frame) + 1 :]
    assert [f["action"] for f in later if f.get("action") != "pong"] == []


@dataclass
class Room:
    """A workspace (owned by ``owner``) with alice, bob and carol; alice's room, which
    alice (its creator) and bob joined on the sockets ``a`` and ``b``."""

    owner: Account
    alice: Account
    bob: Account
    carol: Account
    workspace_id: int
    room: dict[str, Any]
    a: TracedWs
    b: TracedWs

    @property
    def id(self) -> int:
        return int(self.room["id"])


@pytest.fixture
async def room(server: ServerProcess, api: Api) -> AsyncIterator[Room]:
    owner, alice, bob, carol = [await api.register(n) for n in ("owner", "alice", "bob", "carol")]
    ws = await api.workspace(owner, alice, bob, carol)
    made = await api.room(alice, ws["id"])
    a = await TracedWs.connect(server.ws_url, alice)
    b = await TracedWs.connect(server.ws_url, bob)
    await a.join(made["id"])
    reply = await b.join(made["id"])
    # bob's room_member_joined: alice gets it; bob's join reply already holds it.
    joined = await a.wait_for(action(JOINED))
    assert joined["data"]["user_id"] == bob.id
    assert reply["data"]["seq"] == joined["data"]["seq"]
    online = await a.wait_for(action("room_presence", bob.id))  # bob is online
    assert online["data"]["online"] is True
    try:
        yield Room(owner, alice, bob, carol, ws["id"], made, a, b)
    finally:
        await a.close()
        await b.close()


async def test_joining_broadcasts_member_joined_once_and_replays_it(
    server: ServerProcess, api: Api, room: Room
) -> None:
    # The fixture's join by bob: alice got it; the creator's own membership made none.
    [joined] = [f for f in room.a.arrivals if f.get("action") == JOINED]
    data = joined["data"]
    assert set(data) == {"room_id", "seq", "user_id", "user", "joined_at"}
    assert (data["room_id"], data["user_id"], data["user"]["id"]) == (
        room.id,
        room.bob.id,
        room.bob.id,
    )
    assert await room_events(api, room.alice, room.id) == [as_event(joined)]
    # A second join of a member (another socket) creates no membership: no event.
    again = await Ws.connect(server.ws_url, room.bob)
    try:
        await again.join(room.id)
        said = await room.a.say(room.id, "after the rejoin")
        frames = await marker(room.a)
        assert [f["action"] for f in frames] == [NEW]
        assert frames[0]["data"]["seq"] == said["seq"] == data["seq"] + 1
    finally:
        await again.close()


async def test_the_creator_or_owner_adds_a_workspace_member(api: Api, room: Room) -> None:
    path = f"/api/v1/room-users/room/{room.id}"
    added = await api.call("POST", path, room.alice, 201, json={"user_id": room.carol.id})
    assert (added["room_id"], added["user_id"]) == (room.id, room.carol.id)
    frame = await room.b.wait_for(action(JOINED))
    assert frame["data"]["user_id"] == room.carol.id
    assert frame["data"]["user"]["id"] == room.carol.id
    # Already a member: the same member, no event.
    again = await api.call("POST", path, room.owner, 200, json={"user_id": room.carol.id})
    assert again == added
    # bob neither created the room nor owns the workspace.
    dave = await api.register("dave")
    await api.add_member(room.owner, room.workspace_id, dave)
    error = await api.call("POST", path, room.bob, 403, json={"user_id": dave.id})
    assert error["code"] == "forbidden"
    # Someone outside the workspace, or no one: not found, the same either way.
    outsider = await api.register("outsider")
    for user_id in (outsider.id, 2**53 - 1):  # the largest id there can be
        error = await api.call("POST", path, room.alice, 404, json={"user_id": user_id})
        assert error["code"] == "not_found"
    for body in ({}, {"user_id": "1"}, {"user_id": 0}):
        error = await api.call("POST", path, room.alice, 422, json=body)
        assert error["code"] == "validation_error"
    # The workspace owner (not a room member) adds dave.
    await api.call("POST", path, room.owner, 201, json={"user_id": dave.id})
    frame = await room.b.wait_for(action(JOINED))
    assert frame["data"]["user_id"] == dave.id
    await marker(room.a)
    received = broadcasts(room.a, JOINED)
    assert await room_events(api, room.alice, room.id) == received
    assert [e["data"]["user_id"] for e in received] == [room.bob.id, room.carol.id, dave.id]


async def test_a_removed_member_gets_member_left_then_nothing(api: Api, room: Room) -> None:
    removed = await api.call("DELETE", member_path(room.id, room.bob.id), room.alice)
    assert removed["user_id"] == room.bob.id and removed["removed_by"] == room.alice.id
    expected = {
        "room_id": room.id,
        "seq": removed["seq"],
        "user_id": room.bob.id,
        "removed_by": room.alice.id,
    }
    assert (await room.b.wait_for(action(LEFT)))["data"] == expected
    assert (await room.a.wait_for(action(LEFT)))["data"] == expected
    # Later broadcasts reach alice, never bob's socket.
    await room.a.say(room.id, "bob is gone")
    await room.a.wait_for(action(NEW))
    assert await marker(room.b) == []
    # bob's further actions on the room are forbidden.
    reply = await room.b.request(
        "send_room_chat_message", {"room_id": room.id, "message_text": "x"}
    )
    assert error_code(reply) == "forbidden"
    reply = await room.b.request("typing_indicator", {"room_id": room.id, "is_typing": True})
    assert error_code(reply) == "forbidden"
    error = await api.call("GET", f"{room_path(room.id)}/events", room.bob, 403)
    assert error["code"] == "forbidden"
    assert await marker(room.a) == []  # the typing never reached alice
    # Removing him again: not a member.
    error = await api.call("DELETE", member_path(room.id, room.bob.id), room.alice, 404)
    assert error["code"] == "not_found"
    await marker(room.a)
    assert await room_events(api, room.alice, room.id) == broadcasts(room.a, JOINED, LEFT, NEW)


async def test_leaving_yourself_and_who_may_remove_others(
    server: ServerProcess, api: Api, room: Room
) -> None:
    c = await TracedWs.connect(server.ws_url, room.carol)
    try:
        await c.join(room.id)
        # bob may not remove carol, nor the creator.
        for target in (room.carol, room.alice):
            error = await api.call("DELETE", member_path(room.id, target.id), room.bob, 403)
            assert error["code"] == "forbidden"
        # carol leaves on her own.
        left = await api.call("DELETE", member_path(room.id, room.carol.id), room.carol)
        frame = await c.wait_for(action(LEFT))
        assert frame["data"]["user_id"] == frame["data"]["removed_by"] == room.carol.id
        assert frame["data"]["seq"] == left["seq"]
        assert (await room.b.wait_for(action(LEFT)))["data"] == frame["data"]
        # The workspace owner removes the creator.
        await api.call("DELETE", member_path(room.id, room.alice.id), room.owner)
        alice_left = await room.a.wait_for(action(LEFT, room.alice.id))
        assert alice_left["data"]["removed_by"] == room.owner.id
        await room.b.say(room.id, "only bob now")
        await room.b.wait_for(action(NEW))
        await nothing_after(room.a, alice_left)
        await nothing_after(c, frame)
    finally:
        await c.close()


async def test_updating_a_room_broadcasts_it_without_secrets(
    server: ServerProcess, api: Api, room: Room
) -> None:
    path = room_path(room.id)
    renamed = await api.call("PATCH", path, room.alice, json={"name": "  Renamed  "})
    assert renamed["name"] == "Renamed" and renamed["has_passcode"] is False
    frame = await room.b.wait_for(action(UPDATED))
    assert frame["data"]["room"] == renamed
    assert set(frame["data"]) == {"room_id", "seq", "room"}
    # The owner sets a passcode: no passcode anywhere in what anyone gets.
    locked = await api.call("PATCH", path, room.owner, json={"passcode": "tiger-2024"})
    assert locked["has_passcode"] is True and locked["name"] == "Renamed"
    frame = await room.b.wait_for(action(UPDATED))
    assert frame["data"]["room"] == locked
    assert "tiger-2024" not in str(frame) and "passcode_hash" not in str(frame)
    # A new member now needs it; then it is cleared.
    c = await Ws.connect(server.ws_url, room.carol)
    try:
        reply = await c.request("join_room_chat", {"room_id": room.id})
        assert error_code(reply) == "wrong_passcode"
        opened = await api.call("PATCH", path, room.alice, json={"passcode": None})
        assert opened["has_passcode"] is False
        await room.b.wait_for(action(UPDATED))
        await c.join(room.id)
    finally:
        await c.close()
    # Members see the link; a workspace member who is not one does not, in GET.
    dave = await api.register("dave")
    await api.add_member(room.owner, room.workspace_id, dave)
    assert (await api.call("GET", path, dave))["link_join"] is None
    await room.a.wait_for(
        lambda f: f.get("action") == JOINED and f["data"]["user_id"] == room.carol.id
    )
    assert await room_events(api, room.alice, room.id) == broadcasts(room.a, UPDATED, JOINED)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"name": ""},
        {"name": "   "},
        {"name": None},
        {"name": "x" * 129},
        {"name": "evil\u202etxt"},
        {"name": "two\nlines"},
        {"name": 5},
        {"passcode": "abc"},
        {"passcode": "p" * 65},
        {"passcode": 1234},
        {"name": "fine", "passcode": "abc"},
    ],
    ids=lambda b: repr(b)[:40],
)
async def test_bad_updates_change_nothing(api: Api, room: Room, body: dict[str, Any]) -> None:
    before = await api.call("GET", room_path(room.id), room.alice)
    events_before = await room_events(api, room.alice, room.id)
    error = await api.call("PATCH", room_path(room.id), room.alice, 422, json=body)
    assert error["code"] == "validation_error"
    assert await api.call("GET", room_path(room.id), room.alice) == before
    assert await room_events(api, room.alice, room.id) == events_before


async def test_only_the_creator_or_owner_changes_a_room(api: Api, room: Room) -> None:
    path = room_path(room.id)
    for method, suffix, body in (
        ("PATCH", "", {"name": "mine"}),
        ("POST", "/link/rotate", None),
        ("DELETE", "", None),
    ):
        error = await api.call(method, path + suffix, room.bob, 403, json=body)
        assert error["code"] == "forbidden"
    assert (await api.call("GET", path, room.bob))["name"] == room.room["name"]
    assert await marker(room.b) == []


async def test_another_workspace_gets_forbidden_never_data(api: Api, room: Room) -> None:
    stranger = await api.register("stranger")
    await api.workspace(stranger)
    path = room_path(room.id)
    for method, url, body in (
        ("PATCH", path, {"name": "taken"}),
        ("POST", f"{path}/link/rotate", None),
        ("DELETE", path, None),
        ("POST", f"/api/v1/room-users/room/{room.id}", {"user_id": stranger.id}),
        ("DELETE", member_path(room.id, room.bob.id), None),
        ("DELETE", member_path(room.id, stranger.id), None),
    ):
        error = await api.call(method, url, stranger, 403, json=body)
        assert error["code"] == "forbidden", (method, url)
        assert room.room["name"] not in str(error) and room.room["link_join"] not in str(error)
    assert await marker(room.a) == []
    # No token: unauthorized.
    await api.call("DELETE", path, None, 401)


async def test_rotating_the_link_stops_the_old_one(api: Api, room: Room) -> None:
    old_token = room.room["link_join"].rsplit("/", 1)[1]
    rotated = await api.call("POST", f"{room_path(room.id)}/link/rotate", room.owner)
    assert rotated["link_join"] != room.room["link_join"]
    frame = await room.b.wait_for(action(UPDATED))
    assert frame["data"]["room"] == rotated
    error = await api.call("POST", f"/api/v1/room-chats/join/{old_token}", room.carol, 404)
    assert error["code"] == "not_found"
    new_token = rotated["link_join"].rsplit("/", 1)[1]
    joined = await api.call("POST", f"/api/v1/room-chats/join/{new_token}", room.carol)
    assert joined["id"] == room.id
    frame = await room.b.wait_for(action(JOINED))  # joining by link is a join too
    assert frame["data"]["user_id"] == room.carol.id
    await marker(room.a)
    assert await room_events(api, room.alice, room.id) == broadcasts(room.a, JOINED, UPDATED)


async def test_a_deleted_room_is_not_found_everywhere(
    server: ServerProcess, api: Api, room: Room
) -> None:
    token = room.room["link_join"].rsplit("/", 1)[1]
    deleted = await api.call("DELETE", room_path(room.id), room.alice)
    expected = {"room_id": room.id, "seq": deleted["seq"]}
    assert (await room.a.wait_for(action(DELETED)))["data"] == expected
    assert (await room.b.wait_for(action(DELETED)))["data"] == expected
    # Joined sockets were left: nothing of the room reaches them, and they get not_found.
    for conn in (room.a, room.b):
        assert await marker(conn) == []
        reply = await conn.request(
            "send_room_chat_message", {"room_id": room.id, "message_text": "anyone?"}
        )
        assert error_code(reply) == "not_found"
        reply = await conn.request("join_room_chat", {"room_id": room.id})
        assert error_code(reply) == "not_found"
    fresh = await Ws.connect(server.ws_url, room.bob)
    try:
        reply = await fresh.request("join_room_chat", {"room_id": room.id})
        assert error_code(reply) == "not_found"
    finally:
        await fresh.close()
    path = room_path(room.id)
    for method, url, body in (
        ("GET", path, None),
        ("GET", f"{path}/messages", None),
        ("GET", f"{path}/events", None),
        ("GET", f"/api/v1/room-users/room/{room.id}", None),
        ("PATCH", path, {"name": "back"}),
        ("POST", f"{path}/link/rotate", None),
        ("DELETE", path, None),
        ("POST", f"/api/v1/room-users/room/{room.id}", {"user_id": room.carol.id}),
        ("DELETE", member_path(room.id, room.bob.id), None),
        ("POST", f"/api/v1/room-chats/join/{token}", None),
    ):
        error = await api.call(method, url, room.alice, 404, json=body)
        assert error["code"] == "not_found", (method, url)
    listed = await api.call("GET", f"/api/v1/room-chats/workspace/{room.workspace_id}", room.bob)
    assert room.id not in [r["id"] for r in listed]


async def test_leaving_the_workspace_leaves_each_room_with_an_event(
    server: ServerProcess, api: Api, room: Room
) -> None:
    second = await api.room(room.alice, room.workspace_id)
    await room.a.join(second["id"])
    await room.b.join(second["id"])
    await room.a.wait_for(
        lambda f: f.get("action") == JOINED and f["data"]["room_id"] == second["id"]
    )
    await api.call("DELETE", f"/api/v1/workspaces/{room.workspace_id}/members/me", room.bob)
    for room_id in (room.id, second["id"]):
        match = lambda f, r=room_id: f.get("action") == LEFT and f["data"]["room_id"] == r  # noqa: E731
        frame = await room.b.wait_for(match)
        assert frame["data"]["user_id"] == frame["data"]["removed_by"] == room.bob.id
        assert (await room.a.wait_for(match))["data"] == frame["data"]
        await room.a.say(room_id, "without bob")
        await room.a.wait_for(action(NEW))
        last = frame
    await nothing_after(room.b, last)


async def test_a_catch_up_join_never_makes_a_removed_member_again(
    server: ServerProcess, api: Api, room: Room
) -> None:
    """Removed while offline, bob's client reconnects and joins with after_seq: it is
    told he is no longer a member, and nobody sees him join again. Joining without
    after_seq (a decision of his) still works, as for any workspace member."""
    await room.b.close()
    removed = await api.call("DELETE", member_path(room.id, room.bob.id), room.alice)
    back = await Ws.connect(server.ws_url, room.bob)
    try:
        reply = await back.request("join_room_chat", {"room_id": room.id, "after_seq": 1})
        assert error_code(reply) == "forbidden"
        members = await api.call("GET", f"/api/v1/room-users/room/{room.id}", room.alice)
        assert room.bob.id not in [m["user_id"] for m in members]
        await nothing_after(room.a, await room.a.wait_for(action(LEFT, room.bob.id)))
        rejoined = (await back.join(room.id))["data"]
        assert rejoined["seq"] == removed["seq"] + 1
        joined = await room.a.wait_for(action(JOINED, room.bob.id))
        assert joined["data"]["seq"] == rejoined["seq"]
    finally:
        await back.close()
