"""Threads over real servers (SQLite and PostgreSQL): replies on the room's seq with a
``room_chat_thread_updated`` after each; history, the room list's last message and
unread counts top-level only; a thread's page; following, thread read state and the
followed-threads list; edits, deletes and reactions on replies; bad roots that change
nothing; rights and bounds."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.client import Account, Api, Frame, TracedWs, Ws, error_code, marker
from tests.support.server import ServerProcess

NEW = "new_room_chat_message"
THREAD = "room_chat_thread_updated"


def is_action(name: str) -> Any:
    return lambda f: f.get("action") == name


@dataclass
class Room:
    """A workspace of ``owner`` with alice, bob and carol, all in alice's room; alice and
    bob on the sockets ``a`` and ``b``."""

    owner: Account
    alice: Account
    bob: Account
    carol: Account
    workspace_id: int
    id: int
    a: TracedWs
    b: TracedWs


@pytest.fixture
async def room(server: ServerProcess, api: Api) -> AsyncIterator[Room]:
    owner, alice, bob, carol = [await api.register(n) for n in ("owner", "alice", "bob", "carol")]
    ws = await api.workspace(owner, alice, bob, carol)
    made = await api.room(alice, ws["id"])
    for member in (bob, carol):
        path = f"/api/v1/room-users/room/{made['id']}"
        await api.call("POST", path, alice, 201, json={"user_id": member.id})
    a = await TracedWs.connect(server.ws_url, alice)
    b = await TracedWs.connect(server.ws_url, bob)
    await a.join(made["id"])
    await b.join(made["id"])
    try:
        yield Room(owner, alice, bob, carol, ws["id"], made["id"], a, b)
    finally:
        await a.close()
        await b.close()


async def reply(ws: Ws, room_id: int, root_id: int, text: str) -> Frame:
    return await ws.request(
        "send_room_chat_message",
        {"room_id": room_id, "message_text": text, "thread_root_id": root_id},
    )


async def thread_page(api: Api, account: Account, room_id: int, root_id: int, **params: Any) -> Any:
    return await api.call(
        "GET", f"/api/v1/room-chats/{room_id}/threads/{root_id}", account, params=params
    )


async def room_row(api: Api, account: Account, room: Room) -> dict[str, Any]:
    rows = await api.call("GET", f"/api/v1/room-chats/workspace/{room.workspace_id}", account)
    [row] = [r for r in rows if r["id"] == room.id]
    return dict(row)


async def events(api: Api, account: Account, room_id: int, after: int = 0) -> list[Any]:
    page = await api.call(
        "GET",
        f"/api/v1/room-chats/{room_id}/events",
        account,
        params={"after_seq": after, "limit": 100},
    )
    return list(page["events"])


async def test_a_reply_is_a_message_then_its_thread_moves_on_the_next_seq(
    api: Api, room: Room
) -> None:
    root = await room.a.say(room.id, "deploy at 5?")
    assert root["thread_root_id"] is None and root["thread"] is None
    sent = await reply(room.b, room.id, root["id"], "at 5, yes")
    assert sent["status"] == "success"
    answer = sent["data"]
    assert answer["thread_root_id"] == root["id"] and answer["seq"] == root["seq"] + 1
    for ws in (room.a, room.b):
        new = await ws.wait_for(lambda f: is_action(NEW)(f) and f["data"]["id"] == answer["id"])
        moved = await ws.wait_for(is_action(THREAD))
        assert new["data"] == answer
        data = moved["data"]
        assert data["seq"] == answer["seq"] + 1
        assert (data["thread_root_id"], data["message_id"]) == (root["id"], root["id"])
        assert data["thread"]["reply_count"] == 1
        assert data["thread"]["participant_ids"] == [room.bob.id]
        assert data["thread"]["last_reply_at"] == answer["created_at"]
        assert data["message"]["thread"] == data["thread"]
    # Replayed from the log: both events, in seq order, as broadcast.
    logged = await events(api, room.alice, room.id, root["seq"])
    assert [e["action"] for e in logged] == [NEW, THREAD]
    assert logged[0]["data"] == answer
    # A second reply and one by the root's author: the count exact, participants once each.
    await reply(room.b, room.id, root["id"], "or 6")
    await reply(room.a, room.id, root["id"], "5 it is")
    last = await room.a.wait_for(
        lambda f: is_action(THREAD)(f) and f["data"]["thread"]["reply_count"] == 3
    )
    assert last["data"]["thread"]["participant_ids"] == [room.bob.id, room.alice.id]


async def test_history_and_the_room_list_show_top_level_messages_and_a_thread_pages_apart(
    server: ServerProcess, api: Api, room: Room
) -> None:
    root = await room.a.say(room.id, "root")
    replies = []
    for n in range(3):
        replies.append((await reply(room.b, room.id, root["id"], f"r{n}"))["data"])
    # A reply over REST, too.
    rest = await api.call(
        "POST",
        f"/api/v1/room-chats/{room.id}/messages",
        room.carol,
        201,
        json={"message_text": "r3", "thread_root_id": root["id"]},
    )
    assert rest["thread_root_id"] == root["id"]
    replies.append(rest)
    after = await room.a.say(room.id, "after")
    history = await api.call("GET", f"/api/v1/room-chats/{room.id}/messages", room.alice)
    assert [m["id"] for m in history["messages"]] == [root["id"], after["id"]]
    shown_root = history["messages"][0]
    assert shown_root["thread"]["reply_count"] == 4
    assert shown_root["thread"]["participant_ids"] == [room.bob.id, room.carol.id]
    fresh = await Ws.connect(server.ws_url, room.carol)
    try:
        joined = (await fresh.join(room.id))["data"]
        assert [m["id"] for m in joined["messages"]] == [root["id"], after["id"]]
        assert joined["messages"][0]["thread"]["reply_count"] == 4
    finally:
        await fresh.close()
    row = await room_row(api, room.carol, room)
    assert row["last_message"]["id"] == after["id"]
    # The thread, root first, paged by seq.
    page = await thread_page(api, room.carol, room.id, root["id"])
    assert [m["id"] for m in page["messages"]] == [root["id"], *(r["id"] for r in replies)]
    assert page["has_more"] is False
    first = await thread_page(api, room.carol, room.id, root["id"], limit=2)
    assert [m["id"] for m in first["messages"]] == [root["id"], replies[0]["id"]]
    assert first["has_more"] is True
    rest_page = await thread_page(
        api, room.carol, room.id, root["id"], after_seq=first["messages"][-1]["seq"]
    )
    assert [m["id"] for m in rest_page["messages"]] == [r["id"] for r in replies[1:]]


async def test_edits_deletes_and_reactions_work_on_replies(api: Api, room: Room) -> None:
    root = await room.a.say(room.id, "root")
    answer = (await reply(room.b, room.id, root["id"], "typo"))["data"]
    edited = await room.b.request(
        "edit_room_chat_message",
        {"room_id": room.id, "message_id": answer["id"], "message_text": "fixed"},
    )
    assert edited["data"]["message"]["message_text"] == "fixed"
    assert edited["data"]["message"]["thread_root_id"] == root["id"]
    reacted = await room.a.request(
        "add_room_chat_reaction",
        {"room_id": room.id, "message_id": answer["id"], "reaction": "👍"},
    )
    assert reacted["data"]["message"]["reactions"][0]["count"] == 1
    page = await thread_page(api, room.alice, room.id, root["id"])
    assert page["messages"][1]["message_text"] == "fixed"
    deleted = await room.b.request(
        "delete_room_chat_message", {"room_id": room.id, "message_id": answer["id"]}
    )
    assert deleted["status"] == "success"
    page = await thread_page(api, room.alice, room.id, root["id"])
    assert page["messages"][1]["deleted_at"] is not None
    assert page["messages"][1]["message_text"] is None
    # The tombstone stays in its thread and in the count; it is no longer unread.
    assert page["messages"][0]["thread"]["reply_count"] == 1
    assert (await room_row(api, room.alice, room))["thread_unread"] == 0


@pytest.mark.parametrize("how", ["ws", "rest"])
async def test_bad_roots_are_refused_and_store_nothing(api: Api, room: Room, how: str) -> None:
    root = await room.a.say(room.id, "root")
    answer = (await reply(room.b, room.id, root["id"], "a reply"))["data"]
    gone = await room.a.say(room.id, "gone soon")
    await room.a.request("delete_room_chat_message", {"room_id": room.id, "message_id": gone["id"]})
    other = await api.room(room.alice, room.workspace_id)
    elsewhere = await api.call(
        "POST",
        f"/api/v1/room-chats/{other['id']}/messages",
        room.alice,
        201,
        json={"message_text": "another room's"},
    )
    before = await events(api, room.alice, room.id)
    for root_id, code in (
        (answer["id"], "validation_error"),
        (gone["id"], "not_found"),
        (elsewhere["id"], "not_found"),
        (2**40, "not_found"),
    ):
        if how == "ws":
            refused = await reply(room.b, room.id, root_id, "nope")
            assert error_code(refused) == code, refused
        else:
            status = 422 if code == "validation_error" else 404
            body = {"message_text": "nope", "thread_root_id": root_id}
            found = await api.call(
                "POST", f"/api/v1/room-chats/{room.id}/messages", room.bob, status, json=body
            )
            assert found["code"] == code
    assert await events(api, room.alice, room.id) == before
    # Reading a reply's "thread" is refused as sending to it is; a deleted root's reads.
    refused = await api.call(
        "GET", f"/api/v1/room-chats/{room.id}/threads/{answer['id']}", room.bob, 422
    )
    assert refused["code"] == "validation_error"
    assert (await thread_page(api, room.bob, room.id, gone["id"]))["messages"][0]["id"] == gone[
        "id"
    ]


async def test_following_and_thread_unread_are_exact(
    server: ServerProcess, api: Api, room: Room
) -> None:
    root = await room.a.say(room.id, "root")
    await reply(room.b, room.id, root["id"], "one")
    await reply(room.b, room.id, root["id"], "two")
    # alice wrote the root: she follows it, and the replies are unread in the thread
    # only (her room's unread_count counts top-level messages).
    row = await room_row(api, room.alice, room)
    assert (row["unread_count"], row["thread_unread"]) == (0, 2)
    assert (await room_row(api, room.bob, room))["thread_unread"] == 0  # his own replies
    assert (await room_row(api, room.carol, room))["thread_unread"] == 0  # not following
    listed = await api.call("GET", f"/api/v1/workspaces/{room.workspace_id}/threads", room.alice)
    [followed] = listed["threads"]
    assert (followed["room_id"], followed["thread_root_id"]) == (room.id, root["id"])
    assert followed["unread_replies"] == 2 and followed["root"]["thread"]["reply_count"] == 2
    summary = await api.call("GET", f"/api/v1/workspaces/{room.workspace_id}/unread", room.alice)
    assert summary["thread_unread"] == 2
    assert summary["rooms"] == [
        {"room_id": room.id, "unread_count": 0, "thread_unread": 2, "mention_count": 0}
    ]
    # Marking the room read reads no thread; marking the thread read does.
    marked = await room.a.request("mark_room_read", {"room_id": room.id, "seq": 10**6})
    assert marked["data"]["thread_unread"] == 2
    read = await room.a.request(
        "mark_thread_read", {"room_id": room.id, "thread_root_id": root["id"], "seq": 10**6}
    )
    assert read["data"] == {
        "room_id": room.id,
        "thread_root_id": root["id"],
        "following": True,
        "last_read_seq": marked["data"]["last_read_seq"],
        "unread_replies": 0,
    }
    assert (await room_row(api, room.alice, room))["thread_unread"] == 0
    # carol follows; the next reply is unread for alice and carol; alice unfollows.
    c = await Ws.connect(server.ws_url, room.carol)
    try:
        follow = await c.request(
            "follow_thread", {"room_id": room.id, "thread_root_id": root["id"]}
        )
        assert follow["data"]["following"] is True
        assert follow["data"]["unread_replies"] == 2  # she never read it
        await reply(room.b, room.id, root["id"], "three")
        assert (await room_row(api, room.carol, room))["thread_unread"] == 3
        assert (await room_row(api, room.alice, room))["thread_unread"] == 1
        gone = await room.a.request(
            "unfollow_thread", {"room_id": room.id, "thread_root_id": root["id"]}
        )
        assert gone["data"]["following"] is False
        assert (await room_row(api, room.alice, room))["thread_unread"] == 0
        after = await api.call("GET", f"/api/v1/workspaces/{room.workspace_id}/threads", room.alice)
        assert after["threads"] == []
        # Her own reply follows it again, read up to that reply.
        mine = (await reply(room.a, room.id, root["id"], "back"))["data"]
        back = await api.call("GET", f"/api/v1/workspaces/{room.workspace_id}/threads", room.alice)
        assert back["threads"][0]["last_read_seq"] == mine["seq"]
        assert back["threads"][0]["unread_replies"] == 0
        # A deleted reply stops counting.
        assert (await room_row(api, room.carol, room))["thread_unread"] == 4
        await room.a.request(
            "delete_room_chat_message", {"room_id": room.id, "message_id": mine["id"]}
        )
        assert (await room_row(api, room.carol, room))["thread_unread"] == 3
    finally:
        await c.close()


async def test_rights_and_bounds_of_thread_actions(
    server: ServerProcess, api: Api, room: Room
) -> None:
    root = await room.a.say(room.id, "root")
    await reply(room.b, room.id, root["id"], "one")
    dan = await api.register("dan")  # of the workspace, not of the room
    await api.add_member(room.owner, room.workspace_id, dan)
    stranger = await api.register("stranger")  # of another workspace
    await api.workspace(stranger)
    for outsider in (dan, stranger):
        refused = await api.call(
            "GET", f"/api/v1/room-chats/{room.id}/threads/{root['id']}", outsider, 403
        )
        assert refused["code"] == "forbidden" and "root" not in refused["message"]
        ws = await Ws.connect(server.ws_url, outsider)
        try:
            for action, extra in (
                ("follow_thread", {}),
                ("unfollow_thread", {}),
                ("mark_thread_read", {"seq": 5}),
            ):
                payload = {"room_id": room.id, "thread_root_id": root["id"], **extra}
                answer = await ws.request(action, payload)
                assert error_code(answer) == "forbidden", answer
                assert "data" not in answer
            sent = await reply(ws, room.id, root["id"], "let me in")
            assert error_code(sent) == "forbidden"
        finally:
            await ws.close()
    other = await api.call("GET", f"/api/v1/workspaces/{room.workspace_id}/threads", stranger, 403)
    assert other["code"] == "forbidden"
    assert (await api.call("GET", f"/api/v1/workspaces/{room.workspace_id}/threads", dan))[
        "threads"
    ] == []
    for params in ({"limit": 0}, {"limit": 101}, {"after_seq": -1}):
        bad = await api.call(
            "GET",
            f"/api/v1/room-chats/{room.id}/threads/{root['id']}",
            room.alice,
            422,
            params=params,
        )
        assert bad["code"] == "validation_error"
    for limit in (0, 101):
        bad = await api.call(
            "GET",
            f"/api/v1/workspaces/{room.workspace_id}/threads",
            room.alice,
            422,
            params={"limit": limit},
        )
        assert bad["code"] == "validation_error"
    for payload in (
        {"room_id": room.id, "thread_root_id": "1"},
        {"room_id": room.id},
        {"room_id": room.id, "thread_root_id": root["id"], "seq": -1},
    ):
        action = "mark_thread_read" if "seq" in payload else "follow_thread"
        answer = await room.a.request(action, payload)
        assert error_code(answer) == "validation_error"


async def test_a_catch_up_replays_replies_and_thread_updates_once_in_order(
    server: ServerProcess, api: Api, room: Room
) -> None:
    root = await room.a.say(room.id, "root")
    position = root["seq"]
    for n in range(3):
        await reply(room.b, room.id, root["id"], f"r{n}")
    later = await TracedWs.connect(server.ws_url, room.alice)
    try:
        caught = (await later.join(room.id, after_seq=position))["data"]
        actions = [e["action"] for e in caught["events"]]
        assert actions == [NEW, THREAD] * 3
        seqs = [e["data"]["seq"] for e in caught["events"]]
        assert seqs == list(range(position + 1, position + 7))
        await reply(room.b, room.id, root["id"], "live")
        await later.wait_for(is_action(THREAD))
        await marker(later)
        live = [
            (f["action"], f["data"]["seq"])
            for f in later.arrivals
            if f.get("action") in (NEW, THREAD)
        ]
        assert live == [(NEW, position + 7), (THREAD, position + 8)]
    finally:
        await later.close()


async def test_the_roots_author_follows_it_before_any_reply(api: Api, room: Room) -> None:
    """Reading a thread that has no reply yet: its author follows it (wrote the root),
    another member who reads it does not (reading is not following)."""
    root = await room.a.say(room.id, "a question")
    where = {"room_id": room.id, "thread_root_id": root["id"], "seq": root["seq"]}
    mine = await room.a.request("mark_thread_read", where)
    assert mine["data"]["following"] is True
    theirs = await room.b.request("mark_thread_read", where)
    assert theirs["data"]["following"] is False
    # The first reply keeps both as they were, and counts for the author.
    await reply(room.b, room.id, root["id"], "an answer")
    listed = await api.call("GET", f"/api/v1/workspaces/{room.workspace_id}/threads", room.alice)
    assert [t["thread_root_id"] for t in listed["threads"]] == [root["id"]]
    assert listed["threads"][0]["unread_replies"] == 1


async def test_a_thread_read_on_one_device_clears_the_badge_on_the_others(
    server: ServerProcess, room: Room
) -> None:
    """Reading a thread, or unfollowing it, moves the room's thread_unread: the user's
    other connections hear ``room_read_updated`` with the new counts, as after
    mark_room_read, so their badges do not go stale."""
    root = await room.a.say(room.id, "root")
    await reply(room.b, room.id, root["id"], "one")
    second = (await reply(room.b, room.id, root["id"], "two"))["data"]
    phone = await Ws.connect(server.ws_url, room.alice)  # joined to no room
    try:
        await room.a.request(
            "mark_thread_read",
            {"room_id": room.id, "thread_root_id": root["id"], "seq": second["seq"] - 1},
        )
        heard = await phone.wait_for(is_action("room_read_updated"))
        assert heard["data"]["room_id"] == room.id
        assert heard["data"]["thread_unread"] == 1
        await room.a.request("unfollow_thread", {"room_id": room.id, "thread_root_id": root["id"]})
        heard = await phone.wait_for(is_action("room_read_updated"))
        assert heard["data"]["thread_unread"] == 0
    finally:
        await phone.close()
