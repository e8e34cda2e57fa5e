"""History: the join reply's last 50, REST paging, catching up with after_seq."""

from __future__ import annotations

from typing import Any

import pytest

from tests.support.client import BAD_PAGING, Account, Api, Ws, history, paging_id, send_many
from tests.support.server import ServerProcess


async def room_with_60_messages(server: ServerProcess, api: Api) -> tuple[Account, Any]:
    alice = await api.register("alice")
    ws = await api.workspace(alice)
    room = await api.room(alice, ws["id"])
    conn = await Ws.connect(server.ws_url, alice)
    try:
        await conn.join(room["id"])
        replies = await send_many(conn, room["id"], [f"m{n}" for n in range(1, 61)])
        assert [r["data"]["seq"] for r in replies] == list(range(1, 61))
    finally:
        await conn.close()
    return alice, room


def seqs_of(messages: list[dict[str, Any]]) -> list[int]:
    return [m["seq"] for m in messages]


async def test_join_after_60_messages_returns_the_last_50_in_order(
    server: ServerProcess, api: Api
) -> None:
    alice, room = await room_with_60_messages(server, api)
    bob = await api.register("bob")
    await api.add_member(alice, room["workspace_id"], bob)
    conn = await Ws.connect(server.ws_url, bob)
    try:
        data = (await conn.join(room["id"]))["data"]
    finally:
        await conn.close()
    assert seqs_of(data["messages"]) == list(range(11, 61))
    assert [m["message_text"] for m in data["messages"]] == [f"m{n}" for n in range(11, 61)]
    assert data["has_more"] is True
    assert all(m["room_id"] == room["id"] and m["user_id"] == alice.id for m in data["messages"])


async def test_join_with_after_seq_returns_only_the_missed_events(
    server: ServerProcess, api: Api
) -> None:
    alice, room = await room_with_60_messages(server, api)
    conn = await Ws.connect(server.ws_url, alice)
    try:
        data = (await conn.join(room["id"], after_seq=55))["data"]
        assert list(data) == ["room", "events", "has_more", "seq", "online_user_ids"]
        assert {e["action"] for e in data["events"]} == {"new_room_chat_message"}
        assert seqs_of([e["data"] for e in data["events"]]) == [56, 57, 58, 59, 60]
        assert data["has_more"] is False and data["seq"] == 60
        data = (await conn.join(room["id"], after_seq=0))["data"]
        assert seqs_of([e["data"] for e in data["events"]]) == list(range(1, 61))
        data = (await conn.join(room["id"], after_seq=60))["data"]
        assert data["events"] == [] and data["seq"] == 60
    finally:
        await conn.close()


async def test_rest_history_pages_backwards_oldest_first(server: ServerProcess, api: Api) -> None:
    alice, room = await room_with_60_messages(server, api)
    rid = room["id"]

    page = await history(api, alice, rid)
    assert seqs_of(page["messages"]) == list(range(11, 61))
    assert page["has_more"] is True

    page = await history(api, alice, rid, before_seq=61, limit=20)
    assert seqs_of(page["messages"]) == list(range(41, 61))
    assert page["has_more"] is True
    page = await history(api, alice, rid, before_seq=41, limit=20)
    assert seqs_of(page["messages"]) == list(range(21, 41))
    assert page["has_more"] is True
    page = await history(api, alice, rid, before_seq=21, limit=20)
    assert seqs_of(page["messages"]) == list(range(1, 21))
    assert page["has_more"] is False
    page = await history(api, alice, rid, before_seq=11, limit=100)
    assert seqs_of(page["messages"]) == list(range(1, 11))
    assert page["has_more"] is False

    page = await history(api, alice, rid, limit=100)
    assert seqs_of(page["messages"]) == list(range(1, 61))
    assert page["has_more"] is False
    first = page["messages"][0]
    assert set(first) >= {
        "id",
        "room_id",
        "seq",
        "user_id",
        "user",
        "message_text",
        "message_content",
        "client_msg_id",
        "created_at",
        "edited_at",
        "deleted_at",
        "reactions",
    }
    assert first["created_at"].endswith("Z")


async def test_rest_history_after_seq_pages_forwards(server: ServerProcess, api: Api) -> None:
    alice, room = await room_with_60_messages(server, api)
    page = await history(api, alice, room["id"], after_seq=50, limit=5)
    assert seqs_of(page["messages"]) == [51, 52, 53, 54, 55]
    assert page["has_more"] is True
    page = await history(api, alice, room["id"], after_seq=55, limit=5)
    assert seqs_of(page["messages"]) == [56, 57, 58, 59, 60]
    assert page["has_more"] is False
    page = await history(api, alice, room["id"], after_seq=60)
    assert page == {"messages": [], "has_more": False}


@pytest.mark.parametrize(
    "params",
    [
        *BAD_PAGING,
        {"before_seq": 0},
        {"before_seq": "x"},
        {"before_seq": 10, "after_seq": 2},
    ],
    ids=paging_id,
)
async def test_rest_history_rejects_bad_paging(
    server: ServerProcess, api: Api, reader: Account, params: dict[str, Any]
) -> None:
    alice = reader
    ws = await api.workspace(alice)
    room = await api.room(alice, ws["id"])
    error = await api.call(
        "GET", f"/api/v1/room-chats/{room['id']}/messages", alice, 422, params=params
    )
    assert error["code"] == "validation_error"


async def test_rest_history_is_for_room_members_only(server: ServerProcess, api: Api) -> None:
    alice, room = await room_with_60_messages(server, api)
    bob = await api.register("bob")
    await api.add_member(alice, room["workspace_id"], bob)
    error = await api.call("GET", f"/api/v1/room-chats/{room['id']}/messages", bob, 403)
    assert error["code"] == "forbidden"
    # After joining, the same request works.
    conn = await Ws.connect(server.ws_url, bob)
    try:
        await conn.join(room["id"])
    finally:
        await conn.close()
    page = await history(api, bob, room["id"], limit=1)
    assert seqs_of(page["messages"]) == [60]
