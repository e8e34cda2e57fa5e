"""What an edit or a delete removes is gone from the room event log too: whoever becomes
a member later (a person or a workspace's bot) and replays the room from its start, by
``GET .../events`` or by ``join_room_chat`` with ``after_seq``, reads each message as it
is now (its current text, or a tombstone), never an earlier version. The seqs and the
events stay; only what they say of those messages changes."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.support.client import Account, Api, TracedWs, Ws, marker
from tests.support.cluster import Client, Cluster, cluster, joined_clients, room_with
from tests.support.kafka import Broker
from tests.support.server import ServerProcess

NEW = "new_room_chat_message"
EDITED = "room_chat_message_edited"
DELETED = "room_chat_message_deleted"
REACTED = "room_chat_reaction_added"
DURABLE = {NEW, EDITED, DELETED, REACTED, "room_member_joined"}

# Every version but the current ones: none may be readable once replaced or deleted.
GONE_FIRST, GONE_FILE = "the launch is on friday", "attachment: plan-v1.pdf"
GONE_SECOND, GONE_FILE_2 = "the launch is on monday", "attachment: plan-v2.pdf"
KEPT_FIRST, KEPT_SECOND, KEPT_NOW = "teh draft", "the draft, almost", "the draft, final"
EARLIER = (GONE_FIRST, GONE_FILE, GONE_SECOND, GONE_FILE_2, KEPT_FIRST, KEPT_SECOND)


@dataclass
class Changed:
    """A room where a message was edited and then deleted (``gone``) and another edited
    twice (``kept``); ``live``: the durable broadcasts a member got as they happened."""

    room_id: int
    workspace_id: int
    owner: Account
    gone: dict[str, Any]
    kept: dict[str, Any]
    live: list[dict[str, Any]]


async def ok(ws: Ws | Client, action: str, **payload: Any) -> dict[str, Any]:
    reply = await ws.request(action, payload)
    assert reply["status"] == "success", reply
    return reply["data"]  # type: ignore[no-any-return]


async def change_messages(ws: Ws | Client, room_id: int) -> tuple[dict[str, Any], dict[str, Any]]:
    """Send two messages; edit the first and delete it, edit the second twice."""
    gone = await ws.say(room_id, GONE_FIRST, message_content=GONE_FILE)
    await ok(
        ws,
        "edit_room_chat_message",
        room_id=room_id,
        message_id=gone["id"],
        message_text=GONE_SECOND,
        message_content=GONE_FILE_2,
    )
    await ok(ws, "add_room_chat_reaction", room_id=room_id, message_id=gone["id"], reaction="👀")
    kept = await ws.say(room_id, KEPT_FIRST)
    for text in (KEPT_SECOND, KEPT_NOW):
        await ok(
            ws, "edit_room_chat_message", room_id=room_id, message_id=kept["id"], message_text=text
        )
    await ok(ws, "delete_room_chat_message", room_id=room_id, message_id=gone["id"])
    return gone, kept


def about(event: dict[str, Any], message_id: int) -> bool:
    data = event["data"]
    if event["action"] == NEW:
        return bool(data["id"] == message_id)
    if event["action"] == EDITED:
        return bool(data["message"]["id"] == message_id)
    return bool(data.get("message_id") == message_id)


def shows_only_what_is_now(events: list[dict[str, Any]], changed: Changed) -> None:
    """The replay of the whole room: every seq once, no earlier text anywhere, each
    message as it is now, and the same events as were broadcast, in the same order."""
    assert [e["data"]["seq"] for e in events] == list(range(1, len(events) + 1))
    encoded = json.dumps(events, ensure_ascii=False)
    for earlier in EARLIER:
        assert earlier not in encoded, f"{earlier!r} is still readable"

    gone = [e for e in events if about(e, changed.gone["id"])]
    assert [e["action"] for e in gone] == [NEW, EDITED, REACTED, DELETED]
    # Every event that shows the message (the reaction's and the delete's carry it too)
    # shows a tombstone, as history shows the message.
    new = gone[0]["data"]
    for shown in (new, *(e["data"]["message"] for e in gone[1:])):
        assert shown["id"] == changed.gone["id"]
        assert shown["message_text"] is None and shown["message_content"] is None
        assert shown["deleted_at"] is not None
    # Each keeps the reactions of its time: the reaction's event its 👀, the delete none.
    assert [r["reaction"] for r in gone[2]["data"]["message"]["reactions"]] == ["👀"]
    assert gone[3]["data"]["message"]["reactions"] == []
    assert (new["id"], new["seq"]) == (changed.gone["id"], changed.gone["seq"])

    kept = [e for e in events if about(e, changed.kept["id"])]
    assert [e["action"] for e in kept] == [NEW, EDITED, EDITED]
    assert kept[0]["data"]["message_text"] == KEPT_NOW
    assert kept[0]["data"]["edited_at"] is not None
    assert [e["data"]["message"]["message_text"] for e in kept[1:]] == [KEPT_NOW, KEPT_NOW]

    # The same events as the live broadcasts; those of other messages word for word.
    live = {e["data"]["seq"]: e for e in changed.live}
    for event in events:
        was = live.get(event["data"]["seq"])
        if was is None:
            continue  # before the member who recorded them joined
        assert event["action"] == was["action"]
        if not (about(event, changed.gone["id"]) or about(event, changed.kept["id"])):
            assert event == was


def durable(frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The durable broadcasts among a connection's frames, as the log lists them."""
    return [
        {"action": f["action"], "data": f["data"]}
        for f in frames
        if f.get("action") in DURABLE and "request_id" not in f
    ]


async def replay_by_rest(api: Api, account: Account, room_id: int) -> list[dict[str, Any]]:
    page = await api.call(
        "GET",
        f"/api/v1/room-chats/{room_id}/events",
        account,
        params={"after_seq": 0, "limit": 100},
    )
    assert page["has_more"] is False
    return list(page["events"])


async def changed_room(server_ws_url: str, api: Api) -> Changed:
    owner, author = await api.register("owner"), await api.register("author")
    workspace = await api.workspace(owner, author)
    room = await api.room(owner, workspace["id"])
    rid = room["id"]
    conn = await TracedWs.connect(server_ws_url, author)
    try:
        await conn.join(rid)
        gone, kept = await change_messages(conn, rid)
        await conn.say(rid, "and life goes on")
        await marker(conn)
    finally:
        await conn.close()
    return Changed(rid, workspace["id"], owner, gone, kept, durable(conn.arrivals))


async def test_a_later_member_replays_only_what_is_now(server: ServerProcess, api: Api) -> None:
    changed = await changed_room(server.ws_url, api)
    late = await api.register("late")
    await api.add_member(changed.owner, changed.workspace_id, late)
    conn = await Ws.connect(server.ws_url, late)
    try:
        joined = (await conn.join(changed.room_id))["data"]  # becomes a member now
        history = {m["id"]: m for m in joined["messages"]}
        assert history[changed.kept["id"]]["message_text"] == KEPT_NOW
        assert history[changed.gone["id"]]["message_text"] is None

        caught_up = (await conn.join(changed.room_id, after_seq=0))["data"]
        assert caught_up["has_more"] is False
        events = [e for e in caught_up["events"] if e["data"]["seq"] < joined["seq"]]
        shows_only_what_is_now(events, changed)
    finally:
        await conn.close()
    over_rest = await replay_by_rest(api, late, changed.room_id)
    shows_only_what_is_now([e for e in over_rest if e["data"]["seq"] < joined["seq"]], changed)


async def test_a_bot_added_later_replays_only_what_is_now(server: ServerProcess, api: Api) -> None:
    changed = await changed_room(server.ws_url, api)
    made = await api.call(
        "POST",
        f"/api/v1/workspaces/{changed.workspace_id}/api-keys",
        changed.owner,
        201,
        json={"name": "Archiver"},
    )
    bot = Account(made["user"], made["key"])
    path = f"/api/v1/room-users/room/{changed.room_id}"
    await api.call("POST", path, bot, 201, json={"user_id": bot.id})
    events = await replay_by_rest(api, bot, changed.room_id)
    assert events[-1]["action"] == "room_member_joined"  # the bot, joining after it all
    shows_only_what_is_now(events[:-1], changed)


# Across instances: the changes made on one, the late member on another (PostgreSQL and
# a Kafka-protocol broker); its catch-up and REST pages read the same log.


@pytest.fixture
def two(broker: Broker, tmp_path: Path) -> Iterator[Cluster]:
    with cluster(broker, tmp_path, 2) as running:
        yield running


@pytest.mark.integration
@pytest.mark.postgres
@pytest.mark.kafka
async def test_a_later_member_on_another_instance_replays_only_what_is_now(
    two: Cluster,
) -> None:
    api_a, api_b = Api(two.instances[0].base_url), Api(two.instances[1].base_url)
    try:
        room, (owner, author) = await room_with(api_a, 2)
        rid = room["id"]
        (on_a,) = await joined_clients(two.instances[:1], rid, [author])
        gone, kept = await change_messages(on_a, rid)
        await on_a.disconnect()
        changed = Changed(rid, room["workspace_id"], owner, gone, kept, durable(on_a.frames))

        late = await api_b.register("late")
        await api_b.add_member(owner, room["workspace_id"], late)
        (on_b,) = await joined_clients(two.instances[1:], rid, [late])
        joined = next(f for f in on_b.frames if f.get("action") == "join_room_chat")["data"]
        caught_up = await on_b.request("join_room_chat", {"room_id": rid, "after_seq": 0})
        assert caught_up["status"] == "success", caught_up
        events = caught_up["data"]["events"]
        shows_only_what_is_now([e for e in events if e["data"]["seq"] < joined["seq"]], changed)
        await on_b.disconnect()
        over_rest = await replay_by_rest(api_b, late, rid)
        shows_only_what_is_now([e for e in over_rest if e["data"]["seq"] < joined["seq"]], changed)
    finally:
        await api_a.aclose()
        await api_b.aclose()
