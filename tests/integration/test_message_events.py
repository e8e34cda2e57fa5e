"""Edits, deletes and reactions over real sockets: each a durable event on the room's
seq, replied to first, broadcast in seq order, replayed exactly as broadcast, and
kept in the history (tombstones, reactions) by the transaction that records it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from tests.support.client import (
    Account,
    Api,
    Frame,
    TracedWs,
    Ws,
    error_code,
    history,
    marker,
    register_sync,
)
from tests.support.server import ServerProcess, module_server

EDITED = "room_chat_message_edited"
DELETED = "room_chat_message_deleted"
ADDED = "room_chat_reaction_added"
REMOVED = "room_chat_reaction_removed"
NEW = "new_room_chat_message"
DURABLE = {NEW, EDITED, DELETED, ADDED, REMOVED}


@pytest.fixture(scope="module")
def server(backend: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """The module's server, its per-connection limits out of the way (tested apart)."""
    limits = {
        "join_rate_per_second": "1000",
        "join_burst": "1000",
        "edit_rate_per_second": "1000",
        "edit_burst": "1000",
        "max_ws_per_user": "1000",
    }
    with module_server(backend, tmp_path_factory, "message-events", **limits) as process:
        yield process


@dataclass
class People:
    owner: Account  # owns the workspace
    creator: Account  # created the room
    author: Account  # writes the messages
    other: Account  # a member like any other
    outsider: Account  # in a workspace of their own
    crowd: list[Account]  # for the user_ids cap


@pytest.fixture(scope="module")
def people(server: ServerProcess) -> People:
    """Registered once per server (registration is slow); each test has its own rooms."""
    owner, creator, author, other, outsider = register_sync(
        server.base_url, "owner", "creator", "author", "other", "outsider"
    )
    crowd = register_sync(server.base_url, *[f"crowd{n}" for n in range(21)])
    return People(owner, creator, author, other, outsider, crowd)


@dataclass
class Room:
    id: int
    workspace_id: int
    author: TracedWs
    other: TracedWs
    creator: Ws
    owner: Ws


@pytest.fixture
async def room(server: ServerProcess, api: Api, people: People) -> AsyncIterator[Room]:
    """A new workspace (the owner's) with a room the creator made; the author, the other
    member, the creator and the owner each joined on a connection of their own."""
    ws = await api.workspace(people.owner, people.creator, people.author, people.other)
    created = await api.room(people.creator, ws["id"])
    author = await TracedWs.connect(server.ws_url, people.author)
    other = await TracedWs.connect(server.ws_url, people.other)
    creator = await Ws.connect(server.ws_url, people.creator)
    owner = await Ws.connect(server.ws_url, people.owner)
    for conn in (author, other, creator, owner):
        await conn.join(created["id"])
    try:
        yield Room(created["id"], ws["id"], author, other, creator, owner)
    finally:
        for conn in (author, other, creator, owner):
            # Read what is left first: a client whose unread frames fill its queue stops
            # reading, misses the close handshake and closes only at its timeout.
            await marker(conn)
            await conn.close()


async def act(ws: Ws, action: str, **payload: Any) -> Frame:
    return await ws.request(action, payload)


async def ok(ws: Ws, action: str, **payload: Any) -> dict[str, Any]:
    reply = await act(ws, action, **payload)
    assert reply["status"] == "success", reply
    assert reply["action"] == action
    return reply["data"]  # type: ignore[no-any-return]


async def react(ws: Ws, room_id: int, message_id: int, reaction: str) -> dict[str, Any]:
    return await ok(
        ws, "add_room_chat_reaction", room_id=room_id, message_id=message_id, reaction=reaction
    )


def durable(ws: TracedWs, room_id: int) -> list[Frame]:
    """The room's durable broadcasts the connection got, in arrival order."""
    return [
        f
        for f in ws.arrivals
        if f.get("action") in DURABLE and "request_id" not in f and f["data"]["room_id"] == room_id
    ]


async def next_event(ws: Ws, action: str, **match: Any) -> dict[str, Any]:
    """The first broadcast of ``action`` not consumed yet whose data has ``match``."""
    frame = await ws.wait_for(
        lambda f: (
            f.get("action") == action
            and "request_id" not in f
            and all(f["data"].get(k) == v for k, v in match.items())
        )
    )
    return frame["data"]  # type: ignore[no-any-return]


async def rest_messages(api: Api, account: Account, room_id: int) -> list[dict[str, Any]]:
    page = await history(api, account, room_id, after_seq=0, limit=100)
    return page["messages"]  # type: ignore[no-any-return]


async def rest_events(api: Api, account: Account, room_id: int, after_seq: int) -> list[Any]:
    path = f"/api/v1/room-chats/{room_id}/events"
    page = await api.call("GET", path, account, params={"after_seq": after_seq, "limit": 100})
    return page["events"]  # type: ignore[no-any-return]


async def test_each_change_is_replied_to_then_broadcast_in_seq_order_and_replayed(
    api: Api, people: People, room: Room
) -> None:
    rid = room.id
    sent = await room.author.say(rid, "first", message_content="rich")
    edit = await ok(
        room.author,
        "edit_room_chat_message",
        room_id=rid,
        message_id=sent["id"],
        message_text="first, edited",
    )
    assert edit["changed"] is True and edit["seq"] == sent["seq"] + 1
    edited = edit["message"]
    assert (edited["id"], edited["seq"]) == (sent["id"], sent["seq"])  # its place stays
    assert edited["message_text"] == "first, edited"
    assert edited["message_content"] == "rich"  # not given: kept
    assert edited["edited_at"] is not None and edited["deleted_at"] is None
    assert edited["reactions"] == []

    added = await ok(
        room.other, "add_room_chat_reaction", room_id=rid, message_id=sent["id"], reaction="👍"
    )
    assert added == {
        "room_id": rid,
        "seq": sent["seq"] + 2,
        "message_id": sent["id"],
        "user_id": people.other.id,
        "reaction": "👍",
        # The message as it is after the change: one message object.
        "message": {
            **edited,
            "reactions": [{"reaction": "👍", "count": 1, "user_ids": [people.other.id]}],
        },
        "changed": True,
    }
    await ok(
        room.author, "add_room_chat_reaction", room_id=rid, message_id=sent["id"], reaction=":tada:"
    )
    removed = await ok(
        room.other, "remove_room_chat_reaction", room_id=rid, message_id=sent["id"], reaction="👍"
    )
    assert removed["seq"] == sent["seq"] + 4 and removed["changed"] is True
    assert removed["message"]["reactions"] == [
        {"reaction": ":tada:", "count": 1, "user_ids": [people.author.id]}
    ]
    deleted = await ok(room.author, "delete_room_chat_message", room_id=rid, message_id=sent["id"])
    tombstone = deleted["message"]
    assert deleted == {
        "room_id": rid,
        "seq": sent["seq"] + 5,
        "message_id": sent["id"],
        "deleted_by": people.author.id,
        "message": {
            **edited,
            "message_text": None,
            "message_content": None,
            "deleted_at": tombstone["deleted_at"],
            "reactions": [],
        },
        "changed": True,
    }
    assert tombstone["deleted_at"] is not None

    await next_event(room.other, DELETED)
    got = durable(room.other, rid)
    assert [f["action"] for f in got] == [NEW, EDITED, ADDED, ADDED, REMOVED, DELETED]
    assert [f["data"]["seq"] for f in got] == list(range(sent["seq"], sent["seq"] + 6))
    assert got[1]["data"] == {
        "room_id": rid,
        "seq": edit["seq"],
        "message_id": sent["id"],
        "message": edited,
    }
    assert got[2]["data"] == {k: v for k, v in added.items() if k != "changed"}
    assert got[5]["data"] == {k: v for k, v in deleted.items() if k != "changed"}
    assert got[1]["data"]["message"]["reactions"] == []

    # The caller's reply comes before the broadcast of its own change.
    await next_event(room.author, DELETED)
    mine = [
        (f["action"], "request_id" in f)
        for f in room.author.arrivals
        if f.get("action") in {"delete_room_chat_message", DELETED}
    ]
    assert mine == [("delete_room_chat_message", True), (DELETED, False)]

    # Replayed after the message's seq: the same events, as broadcast but for the
    # message each shows, which is now as the delete left it (no earlier text); each
    # keeps the reactions of its time.
    replayed = await rest_events(api, people.other, rid, after_seq=sent["seq"])
    assert [e["action"] for e in replayed] == [f["action"] for f in got[1:]]
    for event, live in zip(replayed, got[1:], strict=True):
        shown, then = event["data"]["message"], live["data"]["message"]
        assert {**event["data"], "message": None} == {**live["data"], "message": None}
        assert shown == {
            **then,
            "message_text": None,
            "message_content": None,
            "deleted_at": tombstone["deleted_at"],
        }
    assert replayed[-1]["data"] == got[-1]["data"]
    body = (
        await api.http.get(
            f"/api/v1/room-chats/{rid}/events",
            headers=people.other.headers,
            params={"after_seq": sent["seq"]},
        )
    ).content
    raw = [r for r in room.other.raw_arrivals if b'"action":"room_chat_' in r[:40]]
    assert len(raw) == 5
    # The delete's broadcast data, byte for byte, in the replay.
    assert raw[-1][raw[-1].index(b',"data":') + 8 : -1] in body
    assert b"first, edited" not in body and b"rich" not in body


async def test_edit_sets_or_clears_content_only_when_given(room: Room) -> None:
    rid = room.id
    sent = await room.author.say(rid, "text", message_content="attachment")
    kept = await ok(
        room.author, "edit_room_chat_message", room_id=rid, message_id=sent["id"], message_text="a"
    )
    assert kept["message"]["message_content"] == "attachment"
    cleared = await ok(
        room.author,
        "edit_room_chat_message",
        room_id=rid,
        message_id=sent["id"],
        message_text="a",
        message_content=None,
    )
    assert cleared["message"]["message_content"] is None
    assert cleared["seq"] == kept["seq"] + 1


async def test_only_the_author_edits_and_moderators_delete(
    api: Api, people: People, room: Room
) -> None:
    rid = room.id
    messages = [await room.author.say(rid, f"m{n}") for n in range(3)]
    first = messages[0]["id"]
    for ws in (room.other, room.creator, room.owner):
        reply = await act(
            ws, "edit_room_chat_message", room_id=rid, message_id=first, message_text="mine now"
        )
        assert error_code(reply) == "forbidden", reply
    reply = await act(room.other, "delete_room_chat_message", room_id=rid, message_id=first)
    assert error_code(reply) == "forbidden"
    # A reaction is removed only by who added it: anyone else's remove changes nothing.
    await ok(room.author, "add_room_chat_reaction", room_id=rid, message_id=first, reaction="👍")
    theirs = await ok(
        room.other, "remove_room_chat_reaction", room_id=rid, message_id=first, reaction="👍"
    )
    assert theirs["changed"] is False and "seq" not in theirs

    stored = await rest_messages(api, people.author, rid)
    assert stored[0]["message_text"] == "m0" and stored[0]["edited_at"] is None
    assert stored[0]["reactions"] == [
        {"reaction": "👍", "count": 1, "user_ids": [people.author.id]}
    ]

    by_creator = await ok(room.creator, "delete_room_chat_message", room_id=rid, message_id=first)
    assert by_creator["deleted_by"] == people.creator.id
    by_owner = await ok(
        room.owner, "delete_room_chat_message", room_id=rid, message_id=messages[1]["id"]
    )
    assert by_owner["deleted_by"] == people.owner.id
    by_author = await ok(
        room.author, "delete_room_chat_message", room_id=rid, message_id=messages[2]["id"]
    )
    assert by_author["deleted_by"] == people.author.id
    base = messages[2]["seq"] + 2  # after the 👍 (the unasked remove took no seq)
    assert [by_creator["seq"], by_owner["seq"], by_author["seq"]] == [base, base + 1, base + 2]
    assert all(m["deleted_at"] for m in await rest_messages(api, people.other, rid))


async def test_a_deleted_message_is_a_tombstone_that_cannot_be_changed(
    server: ServerProcess, api: Api, people: People, room: Room
) -> None:
    rid = room.id
    gone = await room.author.say(rid, "to delete", message_content="file")
    kept = await room.author.say(rid, "to keep")
    await ok(
        room.other, "add_room_chat_reaction", room_id=rid, message_id=gone["id"], reaction="👀"
    )
    await ok(room.author, "delete_room_chat_message", room_id=rid, message_id=gone["id"])
    deleted = await next_event(room.other, DELETED)

    for action, extra in [
        ("edit_room_chat_message", {"message_text": "back"}),
        ("add_room_chat_reaction", {"reaction": "👍"}),
        ("remove_room_chat_reaction", {"reaction": "👀"}),
        ("delete_room_chat_message", {}),
    ]:
        reply = await act(room.author, action, room_id=rid, message_id=gone["id"], **extra)
        assert error_code(reply) == "not_found", (action, reply)

    # None of those took a seq: the next change's broadcast follows the delete.
    await ok(
        room.other, "add_room_chat_reaction", room_id=rid, message_id=kept["id"], reaction="👍"
    )
    assert (await next_event(room.other, ADDED, message_id=kept["id"]))["seq"] == deleted["seq"] + 1

    late = await Ws.connect(server.ws_url, people.other)
    try:
        joined = (await late.join(rid))["data"]
    finally:
        await late.close()
    over_rest = await rest_messages(api, people.other, rid)
    for shown in (joined["messages"], over_rest):
        tomb = next(m for m in shown if m["id"] == gone["id"])
        assert tomb["seq"] == gone["seq"]
        assert tomb["message_text"] is None and tomb["message_content"] is None
        assert tomb["deleted_at"] is not None and tomb["reactions"] == []
        alive = next(m for m in shown if m["id"] == kept["id"])
        assert alive["message_text"] == "to keep" and alive["deleted_at"] is None
        assert alive["reactions"] == [{"reaction": "👍", "count": 1, "user_ids": [people.other.id]}]


async def test_reactions_given_twice_or_removed_unasked_change_nothing(
    api: Api, people: People, room: Room
) -> None:
    rid = room.id
    sent = await room.author.say(rid, "react to me")
    first = await ok(
        room.other, "add_room_chat_reaction", room_id=rid, message_id=sent["id"], reaction="👩‍💻"
    )
    again = await ok(
        room.other, "add_room_chat_reaction", room_id=rid, message_id=sent["id"], reaction="👩‍💻"
    )
    assert again == {
        "room_id": rid,
        "message_id": sent["id"],
        "user_id": people.other.id,
        "reaction": "👩‍💻",
        "message": first["message"],  # as it is: unchanged
        "changed": False,
    }
    never = await ok(
        room.other, "remove_room_chat_reaction", room_id=rid, message_id=sent["id"], reaction="🎉"
    )
    assert never["changed"] is False
    same = await ok(
        room.author,
        "edit_room_chat_message",
        room_id=rid,
        message_id=sent["id"],
        message_text="react to me",
    )
    assert same["changed"] is False and same["message"]["edited_at"] is None

    await ok(
        room.author, "add_room_chat_reaction", room_id=rid, message_id=sent["id"], reaction="👩‍💻"
    )
    await next_event(room.other, ADDED)
    latest = await next_event(room.other, ADDED)
    assert latest["seq"] == first["seq"] + 1  # no event in between
    (stored,) = await rest_messages(api, people.other, rid)
    assert stored["reactions"] == [
        {"reaction": "👩‍💻", "count": 2, "user_ids": [people.other.id, people.author.id]}
    ]


async def test_at_most_twenty_distinct_reactions_and_twenty_user_ids_shown(
    server: ServerProcess, api: Api, people: People, room: Room
) -> None:
    rid = room.id
    sent = await room.author.say(rid, "popular")
    mid = sent["id"]
    codes = [f":r{n}:" for n in range(20)]
    for code in codes:
        await ok(room.author, "add_room_chat_reaction", room_id=rid, message_id=mid, reaction=code)
    reply = await act(
        room.author, "add_room_chat_reaction", room_id=rid, message_id=mid, reaction="🙂"
    )
    assert error_code(reply) == "conflict", reply
    # One of the twenty is still open to everyone.
    await ok(room.other, "add_room_chat_reaction", room_id=rid, message_id=mid, reaction=":r0:")

    # 21 more people give the same reaction: 22 counted, the first 20 listed.
    for account in people.crowd:
        await api.add_member(people.owner, room.workspace_id, account)
    for account in people.crowd:
        # One at a time, closed at once: a connection left open with unread broadcasts
        # would take seconds to close.
        conn = await Ws.connect(server.ws_url, account)
        try:
            await conn.join(rid)
            await ok(conn, "add_room_chat_reaction", room_id=rid, message_id=mid, reaction=":r0:")
        finally:
            await conn.close()
    (stored,) = await rest_messages(api, people.author, rid)
    assert [r["reaction"] for r in stored["reactions"]] == codes  # in the order first given
    top = stored["reactions"][0]
    assert top["count"] == 2 + len(people.crowd)
    expected = [people.author.id, people.other.id, *(a.id for a in people.crowd)][:20]
    assert top["user_ids"] == expected
    assert all(r["count"] == 1 for r in stored["reactions"][1:])


async def test_another_workspace_is_forbidden_and_another_room_not_found(
    server: ServerProcess, api: Api, people: People, room: Room
) -> None:
    rid = room.id
    sent = await room.author.say(rid, "private")
    own_ws = await api.workspace(people.outsider)
    own_room = await api.room(people.outsider, own_ws["id"])
    outsider = await Ws.connect(server.ws_url, people.outsider)
    try:
        await outsider.join(own_room["id"])
        own = await outsider.say(own_room["id"], "mine")
        attempts = [
            ("edit_room_chat_message", {"message_text": "x"}),
            ("delete_room_chat_message", {}),
            ("add_room_chat_reaction", {"reaction": "👎"}),
            ("remove_room_chat_reaction", {"reaction": "👎"}),
        ]
        for action, extra in attempts:
            reply = await act(outsider, action, room_id=rid, message_id=sent["id"], **extra)
            assert error_code(reply) == "forbidden", (action, reply)
            assert "private" not in str(reply)
            # Their own room with another room's message: that message is not there.
            reply = await act(
                outsider, action, room_id=own_room["id"], message_id=sent["id"], **extra
            )
            assert error_code(reply) == "not_found", (action, reply)
            # And the other way round: a member naming a message of another room.
            reply = await act(room.author, action, room_id=rid, message_id=own["id"], **extra)
            assert error_code(reply) == "not_found", (action, reply)
    finally:
        await outsider.close()
    (stored,) = await rest_messages(api, people.author, rid)
    assert stored["message_text"] == "private" and stored["reactions"] == []
    assert stored["edited_at"] is None and stored["deleted_at"] is None


BAD: list[tuple[str, dict[str, Any]]] = [
    ("edit_room_chat_message", {"message_text": ""}),
    ("edit_room_chat_message", {"message_text": "   "}),
    ("edit_room_chat_message", {"message_text": "x" * 4001}),
    ("edit_room_chat_message", {"message_text": "a\x00b"}),
    ("edit_room_chat_message", {"message_text": 5}),
    ("edit_room_chat_message", {"message_text": "ok", "message_content": "x" * (16 * 1024 + 1)}),
    ("edit_room_chat_message", {"message_text": "ok", "message_content": {"k": "x" * 16 * 1024}}),
    ("edit_room_chat_message", {"message_text": "ok", "message_content": ["an", "array"]}),
    ("edit_room_chat_message", {"message_text": "ok", "message_content": 1}),
    ("edit_room_chat_message", {"message_text": "ok", "message_content": False}),
    ("edit_room_chat_message", {}),
    ("add_room_chat_reaction", {"reaction": ""}),
    ("add_room_chat_reaction", {"reaction": "x" * 33}),
    ("add_room_chat_reaction", {"reaction": ":two words:"}),
    ("add_room_chat_reaction", {"reaction": "\u202e👍"}),
    ("add_room_chat_reaction", {"reaction": "a\x00"}),
    ("add_room_chat_reaction", {"reaction": "\n"}),
    ("add_room_chat_reaction", {"reaction": 1}),
    ("remove_room_chat_reaction", {"reaction": ""}),
    ("delete_room_chat_message", {"message_id": "1"}),
    ("delete_room_chat_message", {"message_id": 2**63}),
    ("delete_room_chat_message", {"room_id": None}),
]


async def test_bad_input_is_a_validation_error_that_changes_nothing(
    api: Api, people: People, room: Room
) -> None:
    rid = room.id
    sent = await room.author.say(rid, "untouched")
    for action, extra in BAD:
        payload = {"room_id": rid, "message_id": sent["id"], **extra}
        reply = await room.author.request(action, payload)
        assert error_code(reply) == "validation_error", (action, extra, reply)
    (stored,) = await rest_messages(api, people.author, rid)
    assert stored["message_text"] == "untouched" and stored["reactions"] == []
    assert stored["edited_at"] is None
    # Nothing took a seq: the next change follows the message.
    await ok(
        room.author, "add_room_chat_reaction", room_id=rid, message_id=sent["id"], reaction="✅"
    )
    assert (await next_event(room.other, ADDED))["seq"] == sent["seq"] + 1
    assert [f["action"] for f in durable(room.other, rid)] == [NEW, ADDED]
