"""A join's history from memory: the same bytes a database read gives at the same seq,
kept so by the room's events, and bounded."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from datetime import UTC, datetime

import pytest

from roomchat.domain.events import RoomEvent, message_data, new_message_event
from roomchat.domain.mentions import Mentions
from roomchat.domain.message_changes import MessageChanges
from roomchat.domain.messages import History, MessageLimits, MessageService
from roomchat.domain.models import Message, Room, User
from roomchat.domain.recent import MAX_HELD, RecentHistory
from tests.unit.conftest import Domain, message_service
from tests.unit.test_domain import join_workspace


@dataclass
class Cached:
    """A MessageService that caches, the one that does not (the database's answer), and
    the room's events fed to the first as fanout would."""

    messages: MessageService
    plain: MessageService
    changes: MessageChanges
    domain: Domain

    @property
    def recent(self) -> RecentHistory:
        assert self.messages.recent is not None
        return self.messages.recent

    def heard(self, *events: RoomEvent | None) -> None:
        """Each event, as fanout would pass it on (there must be one)."""
        assert events
        for event in events:
            assert event is not None
            self.messages.heard(event)

    async def say(self, user: User, room_id: int, text: str) -> Message:
        result = await self.messages.send(user, room_id, text, None, None)
        self.heard(result.event)
        return result.message

    async def join(self, room_id: int) -> History:
        """A join as the handler does it, where the hub delivered up to the room's seq."""
        seq = await self.domain.store.rooms.last_seq(room_id)
        return await self.messages.latest(room_id, seq)

    async def same_as_database(self, room_id: int) -> History:
        got = await self.join(room_id)
        truth = await self.plain.latest(room_id)
        assert got == truth
        return got


@asynccontextmanager
async def cached_service(domain: Domain, **limits: int) -> AsyncIterator[Cached]:
    messages = message_service(domain, limits=MessageLimits(**limits), cache_recent=True)
    plain = message_service(domain, limits=MessageLimits(**limits))
    recorder = domain.recorder
    messages.start()
    try:
        yield Cached(
            messages,
            plain,
            MessageChanges(
                domain.rooms,
                recorder,
                messages.limits,
                mentions=Mentions(domain.store, "unit"),
            ),
            domain,
        )
    finally:
        await messages.close()


@pytest.fixture
async def cached(domain: Domain) -> AsyncIterator[Cached]:
    async with cached_service(domain) as made:
        yield made


async def a_room(domain: Domain) -> tuple[User, User, int]:
    owner, other = await domain.user("owner"), await domain.user("other")
    ws = await domain.workspaces.create(owner, "ws")
    await join_workspace(domain, owner, ws.id, other)
    room = await domain.rooms.create(owner, ws.id, "room", None)
    await domain.rooms.join(owner, room.id, None)
    return owner, other, room.id


async def test_new_messages_and_edits_are_followed_in_memory(cached: Cached) -> None:
    owner, other, room_id = await a_room(cached.domain)
    first = await cached.say(owner, room_id, "first")
    await cached.same_as_database(room_id)  # the miss fills the cache
    seq = await cached.domain.store.rooms.last_seq(room_id)
    assert cached.recent.cut(room_id, seq) is not None

    second = await cached.say(owner, room_id, 'second ünïcode \u2028 \\ "quoted"')
    joined = await cached.domain.rooms.join(other, room_id, None)
    cached.heard(*joined.events)  # membership moves the seq only
    edited = await cached.changes.edit(
        owner, room_id, first.id, "first, edited", "{}", keep_content=False
    )
    cached.heard(*edited.events)
    for step in range(3):
        # Each answered from memory (no fill) and equal to the database's answer.
        seq = await cached.domain.store.rooms.last_seq(room_id)
        cut = cached.recent.cut(room_id, seq)
        assert cut is not None and cut.seq == seq
        history = await cached.same_as_database(room_id)
        assert history.encoded == cut.encoded
        await cached.say(other, room_id, f"more {step}")
    assert second.id != first.id


@pytest.mark.parametrize("change", ["delete", "react", "unreact"])
async def test_deletes_and_reactions_are_followed_in_memory(cached: Cached, change: str) -> None:
    owner, other, room_id = await a_room(cached.domain)
    await cached.domain.rooms.join(other, room_id, None)
    target = await cached.say(owner, room_id, "target")
    cached.heard(*(await cached.changes.add_reaction(other, room_id, target.id, "👍")).events)
    await cached.same_as_database(room_id)
    if change == "delete":
        result = await cached.changes.delete(owner, room_id, target.id)
    elif change == "react":
        result = await cached.changes.add_reaction(owner, room_id, target.id, "🎉")
    else:
        result = await cached.changes.remove_reaction(other, room_id, target.id, "👍")
    cached.heard(*result.events)
    # Each change event carries the message as it is after it: applied in memory, and
    # the next join, answered from there, is what the database gives.
    seq = await cached.domain.store.rooms.last_seq(room_id)
    cut = cached.recent.cut(room_id, seq)
    assert cut is not None and cut.seq == seq
    history = await cached.same_as_database(room_id)
    assert history.encoded == cut.encoded


async def test_a_change_to_a_message_older_than_the_cached_ones_keeps_the_room(
    domain: Domain,
) -> None:
    async with cached_service(domain, history=3) as cached:
        owner, _, room_id = await a_room(domain)
        old = await cached.say(owner, room_id, "old")
        for n in range(4):
            await cached.say(owner, room_id, f"new {n}")
        await cached.same_as_database(room_id)
        cached.heard(*(await cached.changes.add_reaction(owner, room_id, old.id, "👍")).events)
        cached.heard(*(await cached.changes.delete(owner, room_id, old.id)).events)
        seq = await domain.store.rooms.last_seq(room_id)
        assert cached.recent.cut(room_id, seq) is not None
        history = await cached.same_as_database(room_id)
        assert history.has_more and len(history.encoded) == 3


async def test_room_updates_and_deletion_drop_the_room(cached: Cached) -> None:
    owner, _, room_id = await a_room(cached.domain)
    await cached.say(owner, room_id, "hello")
    await cached.same_as_database(room_id)
    updated = await cached.domain.rooms.update(owner, room_id, "renamed", None, False)
    cached.heard(*updated.events)
    assert len(cached.recent) == 0
    history = await cached.same_as_database(room_id)
    assert history.room.name == "renamed"
    cached.heard(*(await cached.domain.rooms.delete(owner, room_id)).events)
    assert len(cached.recent) == 0
    with pytest.raises(Exception, match="room not found"):
        await cached.join(room_id)


async def test_gaps_drop_and_repeats_are_ignored(cached: Cached) -> None:
    owner, _, room_id = await a_room(cached.domain)
    await cached.say(owner, room_id, "one")
    await cached.same_as_database(room_id)
    # A repeat of an event the read already held changes nothing.
    sent = await cached.messages.send(owner, room_id, "two", None, None)
    cached.heard(sent.event)
    cached.heard(sent.event)
    await cached.same_as_database(room_id)
    assert len(cached.recent) == 1
    # An event that skips one (its predecessor still on its way) drops the room.
    skipped = await cached.messages.send(owner, room_id, "three", None, None)
    after = await cached.messages.send(owner, room_id, "four", None, None)
    cached.heard(after.event)
    assert len(cached.recent) == 0
    cached.heard(skipped.event)
    await cached.same_as_database(room_id)


async def test_an_entry_behind_what_the_hub_delivered_is_not_used(cached: Cached) -> None:
    owner, _, room_id = await a_room(cached.domain)
    await cached.say(owner, room_id, "one")
    await cached.same_as_database(room_id)
    # Stored and delivered (say, by the hub's gap fill) without passing by the cache.
    await cached.messages.send(owner, room_id, "unheard", None, None)
    seq = await cached.domain.store.rooms.last_seq(room_id)
    assert cached.recent.cut(room_id, seq) is None
    history = await cached.messages.latest(room_id, seq)
    assert history.seq == seq and b"unheard" in history.encoded[-1]


async def test_reply_caps_hold_from_memory(domain: Domain) -> None:
    async with cached_service(domain, history=5, catch_up_max_bytes=1880) as cached:
        owner, _, room_id = await a_room(domain)
        await cached.same_as_database(room_id)  # an empty room, cached
        for n in range(10):
            await cached.say(owner, room_id, f"{n} " + "x" * (40 * n))
            seq = await domain.store.rooms.last_seq(room_id)
            assert cached.recent.cut(room_id, seq) is not None  # from memory
            history = await cached.same_as_database(room_id)
        assert history.has_more and len(history.encoded) == 2  # the byte cap, not the count
        # Shorter now: an older message than the ones held fits again.
        last = await domain.store.messages.latest(room_id, 1)
        edited = await cached.changes.edit(
            owner, room_id, last.messages[0].id, "short", None, keep_content=False
        )
        cached.heard(*edited.events)
        longer = await cached.same_as_database(room_id)
        assert len(longer.encoded) == 3, [len(m) for m in longer.encoded]


# What the store would give, without a store: for the races and the bounds.

ROOM = Room(1, 1, "r", 1, "token", False, datetime(2026, 1, 1, tzinfo=UTC))
USER = User(1, "u", "U", None)


def message(seq: int, text: str = "hi") -> Message:
    return Message(seq * 10, ROOM.id, seq, USER, text, None, None, datetime(2026, 1, 1, tzinfo=UTC))


def filled(recent: RecentHistory, room: Room, seq: int, older: bool = False) -> None:
    fill = recent.begin_fill(room.id)
    found = [(m.id, message_data(m)) for m in map(message, range(1, seq + 1))]
    recent.end_fill(fill, room, seq, found, older)


def test_a_fill_applies_what_was_heard_during_its_read() -> None:
    recent = RecentHistory(history=50, reply_bytes=1 << 20)
    fill = recent.begin_fill(ROOM.id)
    recent.heard(new_message_event(message(3), "x"))  # committed before the read: in it
    recent.heard(new_message_event(message(4), "x"))  # after the read's snapshot
    read = [(m.id, message_data(m)) for m in map(message, (1, 2, 3))]
    recent.end_fill(fill, ROOM, 3, read, older=False)
    cut = recent.cut(ROOM.id, 4)
    assert cut is not None and cut.seq == 4
    assert cut.encoded == [message_data(message(s)) for s in (1, 2, 3, 4)]


def test_a_fill_with_a_gap_after_its_read_is_not_kept() -> None:
    recent = RecentHistory(history=50, reply_bytes=1 << 20)
    fill = recent.begin_fill(ROOM.id)
    recent.heard(new_message_event(message(5), "x"))  # seq 4 not heard yet
    recent.end_fill(fill, ROOM, 3, [], older=False)
    assert len(recent) == 0


def test_an_abandoned_fill_holds_nothing() -> None:
    recent = RecentHistory(history=50, reply_bytes=1 << 20)
    fill = recent.begin_fill(ROOM.id)
    recent.abandon(fill)
    recent.heard(new_message_event(message(1), "x"))
    assert len(recent) == 0 and not recent._fills


def test_a_new_message_is_cached_as_history_shows_it() -> None:
    fresh = message(7, 'é \u2028 "q"')
    recent = RecentHistory(history=50, reply_bytes=1 << 20)
    filled(recent, ROOM, 6)
    recent.heard(new_message_event(fresh, "x", message_data(fresh)))
    cut = recent.cut(ROOM.id, 7)
    assert cut is not None and cut.encoded[-1] == message_data(fresh)


def test_memory_is_bounded_in_bytes_rooms_and_idleness() -> None:
    now = [0.0]
    recent = RecentHistory(
        history=50,
        reply_bytes=1 << 20,
        max_bytes=75_000,
        max_rooms=5,
        idle_s=60,
        clock=lambda: now[0],
    )
    for room_id in range(1, 11):
        filled(recent, Room(room_id, 1, "r", 1, "t", False, ROOM.created_at), 3)
        assert len(recent) <= 5
    assert len(recent) == 5
    # The least recently joined go first: room 6 is used again, 7 goes next.
    assert recent.cut(6, 0) is not None
    filled(recent, Room(11, 1, "r", 1, "t", False, ROOM.created_at), 3)
    assert recent.cut(6, 0) is not None and recent.cut(7, 0) is None
    # Bytes: a busy room grows until the budget drops the least recently used.
    big = Room(12, 1, "r", 1, "t", False, ROOM.created_at)
    filled(recent, big, 0)
    for seq in range(1, 200):
        m = Message(seq, big.id, seq, USER, "x" * 1000, None, None, ROOM.created_at)
        recent.heard(new_message_event(m, "x"))
        assert recent.size <= 75_000
    cut = recent.cut(big.id, 199)
    assert cut is not None and len(cut.encoded) == 50  # a join still gets its history
    # Idle: no join for idle_s, and the next change to the cache lets the room go.
    now[0] = 61.0
    assert recent.cut(big.id, 199) is not None
    assert len(recent) == 1
    assert recent.size == sum(e.size for e in recent._entries.values())


def test_a_fill_that_heard_too_much_meanwhile_is_not_kept() -> None:
    recent = RecentHistory(history=50, reply_bytes=1 << 20)
    fill = recent.begin_fill(ROOM.id)
    for seq in range(1, MAX_HELD + 2):
        recent.heard(new_message_event(message(seq), "x"))
    recent.end_fill(fill, ROOM, 0, [], older=False)
    assert len(recent) == 0
