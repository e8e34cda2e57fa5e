"""Mentions over real servers (SQLite and PostgreSQL): ``@username`` resolved to room
members (case and look-alikes aside), ``@room`` and who may use it in a large room;
``room_chat_mention`` to every connection of the mentioned member, joined or not, once
per message; ``mention_count`` exact through edits, deletes, marks and thread replies."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.client import Account, Api, Frame, TracedWs, Ws, marker
from tests.support.server import ServerProcess

MENTION = "room_chat_mention"


@dataclass
class Room:
    """ann's room in owner's workspace, with bob and cy; dan is of the workspace only.
    ``a`` (ann) joined the room; ``bob_idle`` and ``cy_idle`` are bob's and cy's sockets
    that joined nothing."""

    owner: Account
    ann: Account
    bob: Account
    cy: Account
    dan: Account
    workspace_id: int
    id: int
    a: TracedWs
    bob_idle: TracedWs
    cy_idle: TracedWs


@pytest.fixture
async def room(server: ServerProcess, api: Api) -> AsyncIterator[Room]:
    owner, ann, bob, cy, dan = [await api.register(n) for n in ("owner", "ann", "bob", "cy", "dan")]
    ws = await api.workspace(owner, ann, bob, cy, dan)
    made = await api.room(ann, ws["id"])
    for member in (bob, cy):
        path = f"/api/v1/room-users/room/{made['id']}"
        await api.call("POST", path, ann, 201, json={"user_id": member.id})
    a = await TracedWs.connect(server.ws_url, ann)
    await a.join(made["id"])
    bob_idle = await TracedWs.connect(server.ws_url, bob)
    cy_idle = await TracedWs.connect(server.ws_url, cy)
    try:
        yield Room(owner, ann, bob, cy, dan, ws["id"], made["id"], a, bob_idle, cy_idle)
    finally:
        for sock in (a, bob_idle, cy_idle):
            await sock.close()


def at(account: Account) -> str:
    """How a member names another in a text: ``@`` and their username."""
    return "@" + str(account.user["username"])


def mentions_of(ws: TracedWs, message_id: int) -> list[Frame]:
    return [
        f
        for f in ws.arrivals
        if f.get("action") == MENTION and f["data"]["message"]["id"] == message_id
    ]


async def counts(api: Api, account: Account, room: Room) -> tuple[int, int]:
    """(the room list row's mention_count, the unread summary's mentions)."""
    rows = await api.call("GET", f"/api/v1/room-chats/workspace/{room.workspace_id}", account)
    [row] = [r for r in rows if r["id"] == room.id]
    summary = await api.call("GET", f"/api/v1/workspaces/{room.workspace_id}/unread", account)
    return row["mention_count"], summary["mentions"]


async def edit(ws: Ws, room: Room, message_id: int, text: str) -> Any:
    reply = await ws.request(
        "edit_room_chat_message",
        {"room_id": room.id, "message_id": message_id, "message_text": text},
    )
    assert reply["status"] == "success", reply
    return reply["data"]


async def test_a_named_member_is_mentioned_and_told_wherever_they_are(api: Api, room: Room) -> None:
    bob = at(room.bob)
    text = (
        f"{bob.upper()}. can you look, and {bob.replace('o', '0')} again, "
        f"{at(room.dan)} @nobody_at_all {at(room.ann)}"
    )
    said = await room.a.say(room.id, text)
    # bob, once (the look-alike names the same user); dan is no room member, ann the author
    assert said["mentions"] == [room.bob.id]
    assert said["mentions_room"] is False
    told = await room.bob_idle.wait_for(lambda f: f.get("action") == MENTION)
    assert told["data"] == {"room_id": room.id, "seq": said["seq"], "message": said}
    await marker(room.bob_idle)
    await marker(room.cy_idle)
    await marker(room.a)
    assert len(mentions_of(room.bob_idle, said["id"])) == 1
    assert mentions_of(room.cy_idle, said["id"]) == [] and mentions_of(room.a, said["id"]) == []
    assert await counts(api, room.bob, room) == (1, 1)
    assert await counts(api, room.cy, room) == (0, 0)
    assert await counts(api, room.ann, room) == (0, 0)


async def test_counts_are_exact_through_edits_deletes_and_marks(api: Api, room: Room) -> None:
    said = await room.a.say(room.id, "plain at first")
    assert said["mentions"] == []
    cy = at(room.cy)
    added = await edit(room.a, room, said["id"], f"now for {cy}")
    assert added["message"]["mentions"] == [room.cy.id]
    await room.cy_idle.wait_for(lambda f: f.get("action") == MENTION)
    assert await counts(api, room.cy, room) == (1, 1)
    await edit(room.a, room, said["id"], "not for anyone")
    assert await counts(api, room.cy, room) == (0, 0)
    await edit(room.a, room, said["id"], f"for {cy} again")
    assert await counts(api, room.cy, room) == (1, 1)
    await marker(room.cy_idle)
    assert len(mentions_of(room.cy_idle, said["id"])) == 1  # once per message
    # The event log shows the message with its mentions as they are now.
    page = await api.call(
        "GET", f"/api/v1/room-chats/{room.id}/events", room.cy, params={"after_seq": 0}
    )
    shown = [e["data"] for e in page["events"] if e["action"] == "new_room_chat_message"]
    assert [m["mentions"] for m in shown if m["id"] == said["id"]] == [[room.cy.id]]
    # A delete takes it back; so does marking read.
    second = await room.a.say(room.id, f"and {cy} once more")
    assert await counts(api, room.cy, room) == (2, 2)
    gone = await room.a.request(
        "delete_room_chat_message", {"room_id": room.id, "message_id": second["id"]}
    )
    assert gone["data"]["message"]["mentions"] == []
    assert await counts(api, room.cy, room) == (1, 1)
    marked = await room.cy_idle.request("mark_room_read", {"room_id": room.id, "seq": 10**6})
    assert marked["data"]["mention_count"] == 0
    assert await counts(api, room.cy, room) == (0, 0)


async def test_room_mentions_every_member_in_a_small_room(
    server: ServerProcess, api: Api, room: Room
) -> None:
    said = await room.a.say(room.id, "@room standup in 5")
    assert said["mentions_room"] is True and said["mentions"] == []
    for idle, member in ((room.bob_idle, room.bob), (room.cy_idle, room.cy)):
        await idle.wait_for(lambda f: f.get("action") == MENTION)
        assert await counts(api, member, room) == (1, 1)
    assert await counts(api, room.ann, room) == (0, 0)
    # bob (not the creator) may too, in a room this small; he is not mentioned by it.
    b = await Ws.connect(server.ws_url, room.bob)
    try:
        await b.join(room.id)
        his = await b.say(room.id, "@room me too")
        assert his["mentions_room"] is True
        assert await counts(api, room.ann, room) == (1, 1)
        # Sending read the room up to his message: ann's @room too.
        assert await counts(api, room.bob, room) == (0, 0)
        assert await counts(api, room.cy, room) == (2, 2)
    finally:
        await b.close()


async def test_a_mention_in_a_reply_counts_follows_and_reads_with_its_thread(
    server: ServerProcess, api: Api, room: Room
) -> None:
    root = await room.a.say(room.id, "the plan")
    answer = await room.a.request(
        "send_room_chat_message",
        {
            "room_id": room.id,
            "message_text": f"{at(room.cy)} thoughts?",
            "thread_root_id": root["id"],
        },
    )
    assert answer["data"]["mentions"] == [room.cy.id]
    told = await room.cy_idle.wait_for(lambda f: f.get("action") == MENTION)
    assert told["data"]["message"]["thread_root_id"] == root["id"]
    assert await counts(api, room.cy, room) == (1, 1)
    followed = await api.call("GET", f"/api/v1/workspaces/{room.workspace_id}/threads", room.cy)
    assert [t["thread_root_id"] for t in followed["threads"]] == [root["id"]]
    read = await room.cy_idle.request(
        "mark_thread_read",
        {"room_id": room.id, "thread_root_id": root["id"], "seq": answer["data"]["seq"]},
    )
    assert read["data"]["unread_replies"] == 0
    assert await counts(api, room.cy, room) == (0, 0)


async def test_room_in_a_large_room_is_for_those_who_manage_it(
    server: ServerProcess, api: Api, room: Room
) -> None:
    crowd = [await api.register(f"c{n}") for n in range(49)]
    for member in crowd:
        await api.add_member(room.owner, room.workspace_id, member)
        path = f"/api/v1/room-users/room/{room.id}"
        await api.call("POST", path, room.ann, 201, json={"user_id": member.id})
    # 52 members now: bob may not mention them all; ann (the creator) and the owner may.
    b = await Ws.connect(server.ws_url, room.bob)
    owner = await Ws.connect(server.ws_url, room.owner)
    try:
        await b.join(room.id)
        refused = await b.say(room.id, "@room hello everyone")
        assert refused["mentions_room"] is False and refused["message_text"].startswith("@room")
        assert await counts(api, room.cy, room) == (0, 0)
        allowed = await room.a.say(room.id, "@room from the creator")
        assert allowed["mentions_room"] is True
        assert await counts(api, room.cy, room) == (1, 1)
        assert await counts(api, crowd[0], room) == (1, 1)
        await api.call(
            "POST",
            f"/api/v1/room-users/room/{room.id}",
            room.ann,
            201,
            json={"user_id": room.owner.id},
        )
        await owner.join(room.id)
        by_owner = await owner.say(room.id, "@room from the owner")
        assert by_owner["mentions_room"] is True
        assert await counts(api, room.cy, room) == (2, 2)
        # An admin manages the workspace's rooms, so may too.
        await api.call(
            "PATCH",
            f"/api/v1/workspaces/{room.workspace_id}/members/{room.bob.id}",
            room.owner,
            json={"role": "admin"},
        )
        by_admin = await b.say(room.id, "@room from an admin")
        assert by_admin["mentions_room"] is True
        assert await counts(api, room.cy, room) == (3, 3)
    finally:
        await b.close()
        await owner.close()
