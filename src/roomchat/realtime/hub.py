"""Which local connections are joined to which room, and delivery to them in seq order.

Every room a local client has joined has a channel. A channel delivers a room's
durable events strictly in ``seq`` order, exactly once: an event already delivered is
dropped (the bus may repeat itself), an event that arrives early is held until the
ones before it arrive, and a gap that stays open is filled from the database. So
every client of every instance sees a room's events in the same order. Signals
(typing) have no seq: they go straight to the room's joined connections.

A channel outlives its last member for a while (resting: at most ``REST_ROOMS``, each
for up to ``REST_S``), still following the room's events: joining the room again then
needs no database read to learn where it stands. A resting channel that sees a gap
is dropped instead of filling it: nobody here is waiting for those events.

A gap at a room's end (the bus lost its last event, and nothing followed it) shows
no later seq to reveal it; a slow sweep compares each joined room's seq counter in
the database with what was delivered and fills what stayed missing for a whole sweep.
Both say once that the database is out of reach, and once more when they work again
(store/outages.py), not at every try.

Joining is two-step so that no message is missed or doubled while a join reads
history: the connection is registered first and buffers what arrives, the history
is read, then the reply goes out followed by the buffered events newer than it.
A message can be committed (so in the history) yet reach the hub only after the
reply (its sender's task had not run yet): each member keeps the seq its reply
ended at, and nothing at or below it is sent to it again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol

from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.domain.room_changes import DEPARTING, departure
from roomchat.metrics import Metrics
from roomchat.realtime.connection import Connection
from roomchat.store.outages import OutageLog

log = logging.getLogger(__name__)

# Channels kept after their last member left (no setting: each costs a few hundred
# bytes and one seq comparison per event of its room).
REST_ROOMS = 10_000
REST_S = 600.0


class RoomLog(Protocol):
    """What the hub reads of the rooms' stored events (MessageService)."""

    async def last_seq(self, room_id: int) -> int:
        """The room's seq counter: the seq of its newest stored event."""

    async def last_seqs(self, room_ids: list[int]) -> dict[int, int]: ...

    async def events_between(self, room_id: int, first: int, last: int) -> list[RoomEvent]:
        """The room's stored events ``first``..``last``, rebuilt as they were broadcast."""


class PresenceObserver(Protocol):
    """Told when a user's first local connection joins a room, and when their last
    leaves it (realtime/presence.py)."""

    def appeared(self, room_id: int, user_id: int) -> None: ...

    def gone(self, room_id: int, user_id: int) -> None: ...


class RoomChannel:
    __slots__ = (
        "delivered",
        "gap_task",
        "held",
        "leaving",
        "members",
        "opening",
        "pending",
        "ready",
        "room_id",
        "stored_at_last_sweep",
    )

    def __init__(self, room_id: int) -> None:
        self.room_id = room_id
        # Each joined connection, with the last seq its join reply held: a message
        # stored before the reply's history read but handed to the hub after it must
        # not reach that connection a second time.
        self.members: dict[Connection, int] = {}
        self.pending: dict[Connection, list[RoomEvent]] = {}
        # Joining connections that were sent away meanwhile: they leave once the join
        # reply and the event that sent them away went out.
        self.leaving: set[Connection] = set()
        self.delivered: int | None = None  # highest seq delivered; None until known
        self.held: dict[int, RoomEvent] = {}
        self.gap_task: asyncio.Task[None] | None = None
        self.opening: asyncio.Task[None] | None = None
        self.stored_at_last_sweep = 0
        self.ready: asyncio.Future[None] = asyncio.get_running_loop().create_future()

    @property
    def empty(self) -> bool:
        return not self.members and not self.pending

    def fan_out(self, event: RoomEvent) -> None:
        frame = event.frame
        seq = event.seq
        for conn, history_seq in self.members.items():
            if seq > history_seq:
                conn.send(frame)
        for buffered in self.pending.values():
            buffered.append(event)

    def pass_on(self, signal: RoomSignal) -> None:
        frame = signal.frame
        for conn in self.members:
            if conn.user.id != signal.sender_id:
                conn.send(frame)


class Hub:
    def __init__(
        self,
        room_log: RoomLog,
        gap_delay: float,
        sweep_interval: float = 5.0,
        metrics: Metrics | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._log = room_log
        self._metrics = metrics or Metrics("local")
        self._gap_delay = gap_delay
        self._sweep_interval = sweep_interval
        self._channels: dict[int, RoomChannel] = {}
        # Channels nobody here is joined to (still following their room), oldest first,
        # with when their last member left.
        self._resting: OrderedDict[int, float] = OrderedDict()
        self._clock = clock
        # Every open connection of each user, joined to rooms or not (user signals).
        self._users: dict[int, set[Connection]] = {}
        # The connections following each workspace's activity (subscribe_workspace).
        self._followers: dict[int, set[Connection]] = {}
        # Local connections joined (or joining) per room and user, for presence.
        self._present: dict[int, dict[int, int]] = {}
        self.presence: PresenceObserver | None = None
        self._sweeper: asyncio.Task[None] | None = None
        self._sweeping = OutageLog(log, "sweeping joined rooms for missed events")

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="roomchat-hub-sweep")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    async def _sweep_forever(self) -> None:
        while True:
            await asyncio.sleep(self._sweep_interval)
            try:
                await self.sweep()
            except Exception as exc:
                self._sweeping.failed(exc)
            else:
                self._sweeping.succeeded()

    async def sweep(self) -> None:
        """Fill what is still missing of what the database held one sweep ago."""
        open_channels = [c for c in self._channels.values() if c.delivered is not None]
        if not open_channels:
            return
        stored = await self._log.last_seqs([c.room_id for c in open_channels])
        for channel in open_channels:
            target = channel.stored_at_last_sweep
            channel.stored_at_last_sweep = stored.get(channel.room_id, 0)
            delivered = channel.delivered
            if delivered is None or delivered >= target or channel.gap_task is not None:
                continue
            if channel.room_id in self._resting:
                self._discard(channel.room_id)  # nobody here waits for what it missed
                continue
            self._metrics.sweeps_found.inc()
            log.warning(
                "room %s: seq %d-%d never arrived on the bus; reading them from the database",
                channel.room_id,
                delivered + 1,
                target,
            )
            for event in await self._log.events_between(channel.room_id, delivered + 1, target):
                if self._channels.get(channel.room_id) is channel:
                    self._sequence(channel, event)

    @property
    def room_count(self) -> int:
        return len(self._channels) - len(self._resting)

    async def begin_join(self, conn: Connection, room_id: int) -> None:
        """Start buffering the room's events for ``conn``; then read its history."""
        channel = self._channels.get(room_id)
        if channel is None:
            channel = self._channels[room_id] = RoomChannel(room_id)
            channel.opening = asyncio.create_task(self._open(channel))
        else:
            self._resting.pop(room_id, None)
        channel.members.pop(conn, None)
        channel.pending[conn] = []
        if room_id not in conn.rooms:
            conn.rooms.add(room_id)
            self._arrived(room_id, conn.user.id)
        if channel.ready.done() and not channel.ready.cancelled() and not channel.ready.exception():
            return  # open already (no task switch: the join goes on at once)
        try:
            # The history read must come after the channel learnt where the room stands.
            await asyncio.shield(channel.ready)
        except Exception:
            self.leave(conn, room_id)
            raise

    def complete_join(self, conn: Connection, room_id: int, reply: bytes, history_seq: int) -> None:
        """Send the join reply, then what arrived meanwhile that the history did not hold."""
        channel = self._channels.get(room_id)
        buffered = channel.pending.pop(conn, None) if channel else None
        if channel is None or buffered is None or conn.closed:
            return
        conn.send(reply)
        for event in buffered:
            if event.seq > history_seq:
                conn.send(event.frame)
        if conn in channel.leaving:
            self.leave(conn, room_id)
        else:
            channel.members[conn] = history_seq

    def leave(self, conn: Connection, room_id: int) -> None:
        if room_id in conn.rooms:
            conn.rooms.discard(room_id)
            self._departed(room_id, conn.user.id)
        channel = self._channels.get(room_id)
        if channel is None:
            return
        channel.members.pop(conn, None)
        channel.pending.pop(conn, None)
        channel.leaving.discard(conn)
        if channel.empty:
            self._rest(channel)

    def _rest(self, channel: RoomChannel) -> None:
        """Keep an empty channel following its room, unless it cannot be trusted to."""
        if channel.delivered is None or channel.held or channel.gap_task is not None:
            self._discard(channel.room_id)
            return
        now = self._clock()
        self._resting[channel.room_id] = now
        while self._resting:
            oldest, since = next(iter(self._resting.items()))
            if len(self._resting) <= REST_ROOMS and now - since <= REST_S:
                break
            self._discard(oldest)

    def _discard(self, room_id: int) -> None:
        self._resting.pop(room_id, None)
        channel = self._channels.pop(room_id, None)
        if channel is not None and channel.gap_task is not None:
            channel.gap_task.cancel()

    def _arrived(self, room_id: int, user_id: int) -> None:
        users = self._present.setdefault(room_id, {})
        count = users.get(user_id, 0) + 1
        users[user_id] = count
        if count == 1 and self.presence is not None:
            self.presence.appeared(room_id, user_id)

    def _departed(self, room_id: int, user_id: int) -> None:
        users = self._present.get(room_id, {})
        count = users.get(user_id, 0) - 1
        if count > 0:
            users[user_id] = count
            return
        users.pop(user_id, None)
        if not users:
            self._present.pop(room_id, None)
        if self.presence is not None:
            self.presence.gone(room_id, user_id)

    def delivered(self, room_id: int) -> int | None:
        """The seq the room's events were delivered up to here (None: not known yet). A
        join reply must not end before it: the events in between went out before the
        joiner was registered and would never reach it."""
        channel = self._channels.get(room_id)
        return channel.delivered if channel is not None else None

    def has_channel(self, room_id: int) -> bool:
        """Whether a connection here is joined (or joining) to the room."""
        return room_id in self._channels and room_id not in self._resting

    def present_here(self) -> dict[int, list[int]]:
        """Per room, the users with a connection joined to it on this instance."""
        return {room_id: list(users) for room_id, users in self._present.items()}

    def attach(self, conn: Connection) -> None:
        """A new connection: it gets its user's signals until drop()."""
        self._users.setdefault(conn.user.id, set()).add(conn)

    def follow(self, conn: Connection, workspace_id: int) -> None:
        conn.workspaces.add(workspace_id)
        self._followers.setdefault(workspace_id, set()).add(conn)

    def unfollow(self, conn: Connection, workspace_id: int) -> None:
        conn.workspaces.discard(workspace_id)
        followers = self._followers.get(workspace_id)
        if followers is not None:
            followers.discard(conn)
            if not followers:
                del self._followers[workspace_id]

    def followers(self, workspace_id: int) -> set[Connection]:
        return self._followers.get(workspace_id, set())

    @property
    def followed(self) -> bool:
        """Whether any connection here follows any workspace."""
        return bool(self._followers)

    def drop(self, conn: Connection) -> None:
        for room_id in list(conn.rooms):
            self.leave(conn, room_id)
        for workspace_id in list(conn.workspaces):
            self.unfollow(conn, workspace_id)
        mine = self._users.get(conn.user.id)
        if mine is not None:
            mine.discard(conn)
            if not mine:
                del self._users[conn.user.id]

    def deliver(self, event: RoomEvent) -> None:
        """A durable event: to the room's connections in seq order, exactly once."""
        channel = self._channels.get(event.room_id)
        if channel is None:
            return  # nobody here joined the room
        if channel.delivered is None:
            channel.held[event.seq] = event  # sorted out once the channel is open
        else:
            self._sequence(channel, event)

    def signal(self, signal: RoomSignal) -> None:
        """An ephemeral signal: to the room's joined connections now, if any (or to
        every connection of its ``to_user``)."""
        if signal.to_user is not None:
            for conn in self._users.get(signal.to_user, ()):
                conn.send(signal.frame)
            return
        channel = self._channels.get(signal.room_id)
        if channel is not None:
            channel.pass_on(signal)

    async def _open(self, channel: RoomChannel) -> None:
        try:
            channel.delivered = await self._log.last_seq(channel.room_id)
        except Exception as exc:
            channel.ready.set_exception(exc)
            channel.ready.exception()  # retrieved: joiners see it through their own await
            if self._channels.get(channel.room_id) is channel:
                del self._channels[channel.room_id]
            return
        held, channel.held = channel.held, {}
        for seq in sorted(held):
            self._sequence(channel, held[seq])
        channel.ready.set_result(None)

    def _sequence(self, channel: RoomChannel, event: RoomEvent) -> None:
        assert channel.delivered is not None
        if event.seq <= channel.delivered:
            return  # already delivered: a repeat from the bus, or older than the channel
        if event.seq > channel.delivered + 1:
            if channel.room_id in self._resting:
                self._discard(channel.room_id)  # nobody waits for the missing ones here
                return
            channel.held[event.seq] = event
            if channel.gap_task is None:
                channel.gap_task = asyncio.create_task(self._close_gap(channel))
            return
        self._fan_out(channel, event)
        held = channel.held
        while held:
            following = held.pop(channel.delivered + 1, None)
            if following is None:
                break
            self._fan_out(channel, following)

    def _fan_out(self, channel: RoomChannel, event: RoomEvent) -> None:
        channel.fan_out(event)
        if channel.room_id not in self._resting:
            self._metrics.broadcasts.inc()
            self._metrics.deliveries.inc(len(channel.members))  # once per broadcast
        channel.delivered = event.seq
        if event.action in DEPARTING:
            gone = departure(event)
            if gone is not None:
                self._depart(channel, gone.user_id)

    def _depart(self, channel: RoomChannel, user_id: int | None) -> None:
        """The user's connections (everyone's: None) leave the room, having just been sent
        the event that says so. A connection still joining gets its buffered copy."""
        for conn in [*channel.members, *channel.pending]:
            if user_id is None or conn.user.id == user_id:
                if conn in channel.pending:
                    # Its join reply is not out yet: keep it until complete_join sends
                    # the reply and this event, then let it go.
                    channel.leaving.add(conn)
                else:
                    self.leave(conn, channel.room_id)

    async def _close_gap(self, channel: RoomChannel) -> None:
        """Wait briefly for the missing events, then read them from the database."""
        filling = OutageLog(log, f"room {channel.room_id}: filling a gap")
        try:
            while channel.held:
                await asyncio.sleep(self._gap_delay)
                if not channel.held or channel.delivered is None:
                    continue
                first, last = channel.delivered + 1, min(channel.held) - 1
                if last < first:
                    continue
                try:
                    missing = await self._log.events_between(channel.room_id, first, last)
                except Exception as exc:
                    filling.failed(exc, f"seq {first}-{last}")
                    continue
                filling.succeeded()
                self._metrics.gaps_filled.inc()
                log.info(
                    "room %s: filled seq %d-%d from the database", channel.room_id, first, last
                )
                for event in missing:
                    self._sequence(channel, event)
        finally:
            channel.gap_task = None
