"""roomchat.client without a server: typed events, backoff, the bounded inbox, and the
exactly-once sequencing of room events whatever way they arrive."""

from __future__ import annotations

import asyncio
import random
import subprocess
import sys
from collections.abc import Mapping
from typing import Any

import pytest

from roomchat.client import (
    Backoff,
    ClientClosed,
    EventPage,
    MemberJoined,
    MemberLeft,
    MessageDeleted,
    MessageEdited,
    NewMessage,
    PresenceChanged,
    ReactionAdded,
    ReactionRemoved,
    ReadReceipt,
    ReadStateUpdated,
    RoomActivity,
    RoomDeleted,
    RoomEvent,
    RoomUpdated,
    Typing,
    UnknownEvent,
    parse_event,
)
from roomchat.client.events import room_position
from roomchat.client.inbox import Inbox
from roomchat.client.sequencer import RoomSequencer

USER = {"id": 5, "username": "alice", "display_name": "Alice", "avatar_url": None}
TIME = "2026-11-26T05:40:38.835918Z"


def message(seq: int, text: str = "hi", room_id: int = 1, **fields: Any) -> dict[str, Any]:
    """The one message object (new_room_chat_message, a change event's ``message``)."""
    return {
        "id": 100 + seq,
        "room_id": room_id,
        "seq": seq,
        "user_id": 5,
        "user": USER,
        "message_text": text,
        "message_content": None,
        "client_msg_id": None,
        "created_at": TIME,
        "edited_at": None,
        "deleted_at": None,
        "reactions": [],
        **fields,
    }


def frame(action: str, data: Mapping[str, Any]) -> dict[str, Any]:
    return {"action": action, "status": "success", "data": dict(data)}


ROOM = {
    "id": 1,
    "workspace_id": 2,
    "name": "General",
    "created_by": 5,
    "link_join": None,
    "link_token": None,
    "created_at": TIME,
    "has_passcode": False,
}
R = {"room_id": 1}  # every broadcast names its room
JOINED = {**R, "seq": 13, "user_id": 5, "user": USER, "joined_at": TIME}
THUMB = [{"reaction": "👍", "count": 1, "user_ids": [7]}]
REACTION = {**R, "message_id": 107, "user_id": 7, "reaction": "👍"}
TOMBSTONE = message(7, message_text=None, deleted_at=TIME)
EVERY_BROADCAST = [
    (frame("new_room_chat_message", message(7)), NewMessage),
    (
        frame(
            "room_chat_message_edited", {**R, "seq": 9, "message_id": 107, "message": message(7)}
        ),
        MessageEdited,
    ),
    (
        frame(
            "room_chat_message_deleted",
            {**R, "seq": 10, "message_id": 107, "deleted_by": 5, "message": TOMBSTONE},
        ),
        MessageDeleted,
    ),
    (
        frame(
            "room_chat_reaction_added",
            {**REACTION, "seq": 11, "message": message(7, reactions=THUMB)},
        ),
        ReactionAdded,
    ),
    (
        frame("room_chat_reaction_removed", {**REACTION, "seq": 12, "message": message(7)}),
        ReactionRemoved,
    ),
    (
        frame(
            "room_member_joined", {**R, "seq": 13, "user_id": 5, "user": USER, "joined_at": TIME}
        ),
        MemberJoined,
    ),
    (frame("room_member_left", {**R, "seq": 14, "user_id": 7, "removed_by": 5}), MemberLeft),
    (frame("room_chat_updated", {**R, "seq": 15, "room": ROOM}), RoomUpdated),
    (frame("room_chat_deleted", {**R, "seq": 16}), RoomDeleted),
    (frame("typing_indicator", {**R, "user_id": 5, "is_typing": True}), Typing),
    (frame("room_chat_read", {**R, "user_id": 5, "last_read_seq": 57}), ReadReceipt),
    (
        frame("room_read_updated", {**R, "last_read_seq": 57, "unread_count": 2}),
        ReadStateUpdated,
    ),
    (frame("room_presence", {**R, "user_id": 5, "online": True}), PresenceChanged),
    (
        frame("room_activity", {**R, "seq": 88, "unread_count": 3, "last_message": None}),
        RoomActivity,
    ),
]


@pytest.mark.parametrize(
    ("broadcast", "kind"), EVERY_BROADCAST, ids=[k.__name__ for _, k in EVERY_BROADCAST]
)
def test_every_broadcast_of_the_protocol_has_its_type(
    broadcast: dict[str, Any], kind: type
) -> None:
    event = parse_event(broadcast)
    assert type(event) is kind
    # Room events are sequenced by their seq; signals (room_activity too) are not.
    position = room_position(broadcast)
    if isinstance(event, RoomEvent):
        assert position == (event.room_id, event.seq)
    else:
        assert position is None


def test_change_events_carry_the_message_as_it_is_after_them() -> None:
    deleted = parse_event(EVERY_BROADCAST[2][0])
    assert isinstance(deleted, MessageDeleted) and deleted.message is not None
    assert deleted.message.deleted and deleted.message.text is None
    added = parse_event(EVERY_BROADCAST[3][0])
    assert isinstance(added, ReactionAdded) and added.message is not None
    assert [(r.reaction, r.count, r.user_ids) for r in added.message.reactions] == [("👍", 1, (7,))]
    # From a server older than the field: no message, the rest as before.
    old = parse_event(frame("room_chat_reaction_removed", {**REACTION, "seq": 12}))
    assert isinstance(old, ReactionRemoved) and old.message is None


def test_content_is_a_string_an_object_or_none_as_sent() -> None:
    for content in ("", "plain", {"type": "image", "size": [640, 480]}, None):
        event = parse_event(frame("new_room_chat_message", message(7, message_content=content)))
        assert isinstance(event, NewMessage) and event.message.content == content
    odd = parse_event(frame("new_room_chat_message", message(7, message_content=[1])))
    assert isinstance(odd, UnknownEvent)  # not a shape of the protocol


def test_a_room_reads_its_link_token() -> None:
    room = {**ROOM, "link_join": "http://h/join/tok", "link_token": "tok"}
    event = parse_event(frame("room_chat_updated", {**R, "seq": 15, "room": room}))
    assert isinstance(event, RoomUpdated) and event.room.link_token == "tok"


def test_a_message_reads_as_typed_fields() -> None:
    event = parse_event(frame("new_room_chat_message", message(7, "hello")))
    assert isinstance(event, NewMessage)
    assert (event.room_id, event.seq, event.message.text, event.message.user.name) == (
        1,
        7,
        "hello",
        "Alice",
    )
    assert event.message.created_at.tzinfo is not None  # ...Z is UTC, not naive
    assert (event.message.edited_at, event.message.deleted, event.message.reactions) == (
        None,
        False,
        (),
    )


def test_an_unknown_action_comes_through_as_a_generic_event_and_keeps_its_order() -> None:
    future = frame("room_pinned_message", {"room_id": 1, "seq": 17, "message_id": 107})
    event = parse_event(future)
    assert event == UnknownEvent("room_pinned_message", future["data"])
    assert room_position(future) == (1, 17)  # still handed over once, in seq order
    broken = frame("new_room_chat_message", {"room_id": 1, "seq": "7"})
    assert isinstance(parse_event(broken), UnknownEvent)
    assert isinstance(parse_event({"action": "whatever"}), UnknownEvent)


def test_backoff_grows_exponentially_with_jitter_up_to_its_cap() -> None:
    backoff = Backoff(initial=0.5, cap=4.0, rng=random.Random(7))
    delays = [backoff.next_delay() for _ in range(2000)]
    ceilings = [min(4.0, 0.5 * 2 ** min(n, 60)) for n in range(2000)]
    assert all(0 <= d <= c for d, c in zip(delays, ceilings, strict=True))
    assert len(set(delays)) == len(delays)  # jittered: no two clients in step
    assert max(delays[10:]) > 3.0  # and it does reach up to the cap
    backoff.reset()
    assert backoff.next_delay() <= 0.5
    with pytest.raises(ValueError):
        Backoff(initial=2, cap=1)


async def test_the_inbox_is_bounded_and_drops_only_signals() -> None:
    inbox = Inbox(2)
    typing = parse_event(EVERY_BROADCAST[9][0])
    assert inbox.offer(typing) and inbox.offer(typing)
    assert not inbox.offer(typing)
    inbox.offer_signal(typing)
    assert (len(inbox), inbox.dropped_signals) == (2, 1)
    waiting = asyncio.create_task(inbox.put(typing))  # waits for room, does not grow
    await asyncio.sleep(0)
    assert not waiting.done() and len(inbox) == 2
    await inbox.get()
    await waiting
    assert len(inbox) == 2
    inbox.end(ClientClosed("closed"))
    assert [await inbox.get(), await inbox.get()] == [typing, typing]  # queued ones first
    with pytest.raises(ClientClosed):
        await inbox.get()


class EventLog:
    """A room's event log, as GET .../events pages it."""

    def __init__(self, events: list[dict[str, Any]], page: int = 3) -> None:
        self.events = events
        self.page = page
        self.reads: list[int] = []

    async def read(self, room_id: int, after_seq: int) -> EventPage:
        self.reads.append(after_seq)
        later = [e for e in self.events if e["data"]["seq"] > after_seq]
        return EventPage(tuple(later[: self.page]), len(later) > self.page)


def log_of(count: int) -> list[dict[str, Any]]:
    return [frame("new_room_chat_message", message(seq, f"m{seq}")) for seq in range(1, count + 1)]


async def drain(inbox: Inbox, count: int) -> list[int]:
    seqs = []
    async with asyncio.timeout(5):
        for _ in range(count):
            event = await inbox.get()
            assert isinstance(event, RoomEvent)
            seqs.append(event.seq)
    return seqs


def sequencer(inbox: Inbox, log: EventLog) -> RoomSequencer:
    return RoomSequencer(inbox, log.read, lambda: Backoff(initial=0.001, cap=0.01))


async def test_repeats_are_dropped_and_a_gap_is_filled_from_the_log() -> None:
    events = log_of(8)
    inbox, log = Inbox(100), EventLog(events)
    rooms = sequencer(inbox, log)
    rooms.follow(1, 2)  # a join reply: the room stood at seq 2
    for seq in (1, 2, 3, 3, 4, 7, 5, 8):  # repeats, and 5 and 6 missing at first
        rooms.on_broadcast(events[seq - 1])
    assert await drain(inbox, 6) == [3, 4, 5, 6, 7, 8]
    assert rooms.position(1) == 8 and len(inbox) == 0
    await rooms.close()


async def test_a_catch_up_with_has_more_pages_the_rest_once_while_live_ones_arrive() -> None:
    events = log_of(20)
    inbox, log = Inbox(100), EventLog(events)
    rooms = sequencer(inbox, log)
    rooms.on_catch_up(1, 0, {"events": events[:5], "has_more": True, "seq": 5})
    for live in events[17:]:  # the room's live point runs ahead meanwhile
        rooms.on_broadcast(live)
    assert await drain(inbox, 20) == list(range(1, 21))
    assert log.reads[0] == 5
    await rooms.close()


async def test_a_full_inbox_reads_the_events_again_from_the_log_at_the_applications_pace() -> None:
    events = log_of(30)
    inbox, log = Inbox(2), EventLog(events, page=10)
    rooms = sequencer(inbox, log)
    rooms.follow(1, 0)
    for event in events:
        rooms.on_broadcast(event)  # the application reads nothing meanwhile
    assert len(inbox) == 2
    assert await drain(inbox, 30) == list(range(1, 31))
    await rooms.close()


async def test_leaving_a_room_stops_following_it() -> None:
    inbox, log = Inbox(10), EventLog([])
    rooms = sequencer(inbox, log)
    rooms.me = 7
    rooms.follow(1, 0)
    left = frame("room_member_left", {"room_id": 1, "seq": 1, "user_id": 7, "removed_by": 5})
    rooms.on_broadcast(left)
    assert rooms.followed() == [] and rooms.position(1) is None
    rooms.on_broadcast(frame("new_room_chat_message", message(2)))
    assert len(inbox) == 1  # the leave itself, and nothing after it


def test_importing_the_client_without_httpx_says_what_to_install() -> None:
    code = "import sys; sys.modules['httpx'] = None; import roomchat.client"
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 1
    assert "roomchat.client needs httpx" in result.stderr
    # Not "pip install 'roomchat[client]'": roomchat is not on PyPI (docs/integration.md).
    assert "from its checkout or wheel" in result.stderr
