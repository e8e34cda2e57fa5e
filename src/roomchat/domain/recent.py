"""Each recently joined room's newest messages in memory, so that joining an active
room reads no database.

An entry is what a join reply's history read gives (the room, its newest messages
as they are now, and the room's seq ``S``, all at one point in time), kept exact by
the room's events, which every instance hears in ``fanout.on_event``: an entry at
seq ``S`` holds what a database read at ``S`` would. Each event must be the entry's
seq + 1; one that is not (events from the bus may come late, twice or not at all)
drops the entry: the next join reads the database again. A new message's event is the
message as history shows it, and every change event (edit, delete, reaction) carries
the message as it is after the change, so each is applied exactly. The database stays
the truth.

Why a reply served from here is as good as one read from the database: the join
reply carries ``S`` and the hub then sends the joiner every event after ``S`` (those
heard while joining, buffered, and all later ones), so the client ends at the same
state whether ``S`` came from the database or from here. What must hold is that no
event after ``S`` was delivered before the joiner was registered, or it would miss
it: the caller passes the seq the hub has delivered up to (``at_least``) and an
entry behind it is not used (this also catches events the hub read from the
database to fill a gap, which do not pass through here).

A fill (the database read after a miss) races the events heard meanwhile: they are
held while it runs and applied after it if newer than what it read, or the fill is
not kept.
"""

from __future__ import annotations

import time
from collections import OrderedDict, deque
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from roomchat import frames, jsoncodec
from roomchat.domain.events import RoomEvent
from roomchat.domain.kinds import CHANGES_ONE_MESSAGE, KINDS, NEW_MESSAGE, MessageChange
from roomchat.domain.models import Room

# Bounds of the whole cache (no setting: sane for any deployment; the byte budget is
# what matters, the room count bounds the bookkeeping of many tiny rooms).
MAX_BYTES = 64 * 1024 * 1024
MAX_ROOMS = 10_000
IDLE_S = 600.0  # an entry no join used for this long is dropped
MAX_HELD = 1_000  # events held during one fill; more, and the fill is not kept
# What a cached message costs besides its bytes (tuple, deque slot, int), roughly.
_PER_MESSAGE = 120
_PER_ENTRY = 600

# Durable kinds that change nothing a join reply's history shows, neither a message
# nor the room (a member joining or leaving): only the seq moves on. A kind that
# changes the room, or one unknown here, drops the entry.
_SEQ_ONLY = frozenset(
    k.name
    for k in KINDS.values()
    if k.durable and k.message is MessageChange.NONE and not k.changes_room
)


@dataclass(frozen=True, slots=True)
class Cut:
    """A join reply's history: messages oldest first, and whether older ones exist."""

    room: Room
    encoded: list[bytes]
    seq: int
    has_more: bool


@dataclass(slots=True)
class _Entry:
    room: Room
    seq: int
    messages: deque[tuple[int, bytes]]  # (message id, its state data), oldest first
    # Messages older than the oldest held exist. Fewer than ``history`` held with older
    # ones: those held are all that fit the reply's bytes (the read or a trim stopped
    # at one that did not fit, and only an edit that shrinks a message could change it).
    older: bool
    size: int
    used_at: float
    # The last cut, until the entry changes: most joins of a room ask for the same.
    cut: Cut | None = None


@dataclass(slots=True)
class Fill:
    """A database read under way for one room: the events heard meanwhile."""

    room_id: int
    held: list[RoomEvent] = field(default_factory=list)
    spoiled: bool = False


class RecentHistory:
    def __init__(
        self,
        history: int,
        reply_bytes: int,
        max_bytes: int = MAX_BYTES,
        max_rooms: int = MAX_ROOMS,
        idle_s: float = IDLE_S,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._history = history  # messages in a join reply
        self._reply_bytes = reply_bytes  # their encoded bytes, commas included
        self._max_bytes = max_bytes
        self._max_rooms = max_rooms
        self._idle_s = idle_s
        self._clock = clock
        self._entries: OrderedDict[int, _Entry] = OrderedDict()  # least recently used first
        self._fills: dict[int, list[Fill]] = {}
        self.size = 0  # bytes held, roughly

    def __len__(self) -> int:
        return len(self._entries)

    def cut(self, room_id: int, at_least: int) -> Cut | None:
        """The join reply's history from memory, or None (read the database)."""
        entry = self._entries.get(room_id)
        if entry is None or entry.seq < at_least:
            return None
        entry.used_at = self._clock()
        self._entries.move_to_end(room_id)
        if entry.cut is None:
            entry.cut = self._cut(entry)
        cut = entry.cut
        self._evict()
        return cut

    def _cut(self, entry: _Entry) -> Cut:
        budget = self._reply_bytes
        newest_first: list[bytes] = []
        has_more = entry.older
        for _, data in reversed(entry.messages):
            budget -= len(data) + 1
            if len(newest_first) == self._history or budget < 0:
                has_more = True
                break
            newest_first.append(data)
        newest_first.reverse()
        return Cut(entry.room, newest_first, entry.seq, has_more)

    def begin_fill(self, room_id: int) -> Fill:
        """Call before the database read starts; then ``end_fill`` or ``abandon``."""
        fill = Fill(room_id)
        self._fills.setdefault(room_id, []).append(fill)
        return fill

    def abandon(self, fill: Fill) -> None:
        fills = self._fills.get(fill.room_id)
        if fills is not None and fill in fills:
            fills.remove(fill)
            if not fills:
                del self._fills[fill.room_id]

    def end_fill(
        self, fill: Fill, room: Room, seq: int, messages: Sequence[tuple[int, bytes]], older: bool
    ) -> None:
        """Keep what the read gave (``messages`` oldest first, each with its id), brought
        up to date with the events heard meanwhile, unless they cannot bring it there."""
        self.abandon(fill)
        if fill.spoiled or fill.room_id in self._entries:
            return  # another fill came first, and the events keep it current
        entry = _Entry(room, seq, deque(messages), older, 0, self._clock())
        entry.size = _PER_ENTRY + sum(len(d) + _PER_MESSAGE for _, d in entry.messages)
        for event in sorted(fill.held, key=lambda e: e.seq):
            if event.seq <= entry.seq:
                continue  # in what the read saw already
            if event.seq != entry.seq + 1 or not self._change(entry, event):
                return
            entry.seq = event.seq
        self._trim(entry)
        self._entries[fill.room_id] = entry
        self.size += entry.size
        self._evict()

    def heard(self, event: RoomEvent) -> None:
        """Follow a room event (every durable event this instance hears, in the order
        it hears them)."""
        fills = self._fills.get(event.room_id)
        if fills is not None:
            for fill in fills:
                if len(fill.held) >= MAX_HELD:
                    fill.spoiled = True
                else:
                    fill.held.append(event)
        entry = self._entries.get(event.room_id)
        if entry is None or event.seq <= entry.seq:
            return  # not cached, or a repeat / older than the entry's read
        before = entry.size
        if event.seq != entry.seq + 1 or not self._change(entry, event):
            self._drop(event.room_id)
            return
        entry.seq = event.seq
        entry.cut = None
        self._trim(entry)
        self.size += entry.size - before
        self._evict()

    def _change(self, entry: _Entry, event: RoomEvent) -> bool:
        """Apply ``event``'s change to the entry's messages; False when it cannot be
        applied exactly (the entry must go)."""
        action = event.action
        if action == NEW_MESSAGE:
            data = frames.data_of(event)  # the message as history shows it
            if frames.thread_root_of(data) is not None:
                return True  # a reply: history shows top-level messages (its root's
                # thread moves with the room_chat_thread_updated that follows)
            entry.messages.append((frames.message_id_of(data), data))
            entry.size += len(data) + _PER_MESSAGE
            return True
        if action in _SEQ_ONLY:
            return True
        if action not in CHANGES_ONE_MESSAGE:
            return False  # the room changed or went (or an event unknown here)
        fields = jsoncodec.loads(frames.data_of(event))
        message_id = fields["message_id"]
        for index in range(len(entry.messages) - 1, -1, -1):
            cached_id, old = entry.messages[index]
            if cached_id != message_id:
                continue
            # The change carries the message as it is after it (a tombstone, the
            # reactions counted): what a database read at this seq gives.
            new = jsoncodec.dumps(fields["message"])
            if len(new) < len(old) and entry.older and len(entry.messages) < self._history:
                return False  # an older message than those held may fit the reply now
            entry.messages[index] = (message_id, new)
            entry.size += len(new) - len(old)
            return True
        return True  # older than the messages held: no reply shows it

    def _trim(self, entry: _Entry) -> None:
        """Hold no more than a reply can show: ``history`` messages, whose bytes fit."""
        # What a reply of them all would take (each message and its comma), from size.
        shown = entry.size - _PER_ENTRY - len(entry.messages) * (_PER_MESSAGE - 1)
        while entry.messages and (len(entry.messages) > self._history or shown > self._reply_bytes):
            _, data = entry.messages.popleft()
            shown -= len(data) + 1
            entry.size -= len(data) + _PER_MESSAGE
            entry.older = True

    def _drop(self, room_id: int) -> None:
        entry = self._entries.pop(room_id, None)
        if entry is not None:
            self.size -= entry.size

    def _evict(self) -> None:
        """Least recently joined first: over the budgets, or idle."""
        now = self._clock()
        entries = self._entries
        while entries:
            room_id, oldest = next(iter(entries.items()))
            if (
                self.size <= self._max_bytes
                and len(entries) <= self._max_rooms
                and now - oldest.used_at <= self._idle_s
            ):
                return
            self._drop(room_id)
