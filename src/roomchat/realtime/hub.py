"""Local connections joined to rooms, and delivery to them in seq order.

Every room a local client has joined has a channel (realtime/channels.py). A channel
delivers a room's durable events strictly in ``seq`` order, exactly once: its
``SeqOrder`` (realtime/ordering.py, no I/O) drops an event already delivered (the bus
may repeat itself) and keeps one that arrives early until the ones before it arrive;
the hub fills a gap that stays open from the database. So every client of every
instance sees a room's events in the same order. Signals (typing) have no seq: they
go straight to the room's joined connections.

A resting channel (nobody here joined, still following the room) that sees a gap is
dropped instead of filling it: nobody here is waiting for those events.

A gap at a room's end (the bus lost its last event, and nothing followed it) shows
no later seq to reveal it; a slow sweep compares each joined room's seq counter in
the database with what was delivered and fills what stayed missing for a whole sweep.
Both say once that the database is out of reach, and once more when they work again
(roomchat/outages.py), not at every try.

Joining is two-step so that no message is missed or doubled while a join reads
history: the connection is registered first and buffers what arrives, the history
is read, then the reply goes out followed by the buffered events newer than it.
A message can be committed (so in the history) yet reach the hub only after the
reply (its sender's task had not run yet): each member keeps the seq its reply
ended at, and nothing at or below it is sent to it again.

A delivered event that ends a membership (``kinds.ENDING``) sends the connections it
names away, right after they got it. Each join and leave is told to ``attendance``
(presence, given at construction); each user's connections and each workspace's
followers are kept apart (realtime/followers.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from typing import Protocol

from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.domain.kinds import ENDING
from roomchat.domain.room_changes import departure
from roomchat.domain.sidebar import profile_of, unfollowing
from roomchat.metrics import Metrics
from roomchat.outages import OutageLog, Unavailability
from roomchat.realtime.channels import Channels, RoomChannel
from roomchat.realtime.connection import Connection
from roomchat.realtime.followers import Followers
from roomchat.realtime.ordering import EARLY, NEXT

log = logging.getLogger(__name__)


class RoomLog(Protocol):
    """What the hub reads of the rooms' stored events (MessageService)."""

    async def last_seq(self, room_id: int) -> int:
        """The room's seq counter: the seq of its newest stored event."""

    async def last_seqs(self, room_ids: list[int]) -> dict[int, int]: ...

    async def events_between(self, room_id: int, first: int, last: int) -> list[RoomEvent]:
        """The room's stored events ``first``..``last``, rebuilt as they were broadcast."""


class Attendance(Protocol):
    """Told each time a connection here joins (or starts joining) a room, and each time
    one leaves it (realtime/presence.py)."""

    def joined(self, room_id: int, user_id: int) -> None: ...

    def left(self, room_id: int, user_id: int) -> None: ...


class Hub:
    def __init__(
        self,
        room_log: RoomLog,
        gap_delay: float,
        sweep_interval: float = 5.0,
        *,
        metrics: Metrics,
        channels: Channels,
        attendance: Attendance | None,
        is_unavailable: Unavailability,
    ) -> None:
        """``channels``: shared with presence (wiring.py); ``attendance``: presence, or
        None with presence off; ``is_unavailable``: the store's, to tell an outage of the
        database from a bug in the loops' logs."""
        self._is_unavailable = is_unavailable
        self._log = room_log
        self._metrics = metrics
        self._gap_delay = gap_delay
        self._sweep_interval = sweep_interval
        self._rooms = channels
        self._channels = self._rooms.by_room  # read once per event
        self._followers = Followers()
        self._attendance = attendance
        self._sweeper: asyncio.Task[None] | None = None
        self._sweeping = OutageLog(log, "sweeping joined rooms for missed events", is_unavailable)

    def start(self) -> None:
        self._sweeper = asyncio.create_task(self._sweep_forever(), name="roomchat-hub-sweep")

    async def close(self) -> None:
        if self._sweeper is not None:
            self._sweeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._sweeper

    @property
    def room_count(self) -> int:
        return self._rooms.joined_count

    def has_channel(self, room_id: int) -> bool:
        """Whether a connection here is joined (or joining) to the room."""
        return self._rooms.joined_here(room_id)

    def delivered(self, room_id: int) -> int | None:
        """The seq the room's events were delivered up to here (None: not known yet). A
        join reply must not end before it: the events in between went out before the
        joiner was registered and would never reach it."""
        channel = self._channels.get(room_id)
        return channel.order.delivered if channel is not None else None

    # -- connections and what they follow ------------------------------------------

    def attach(self, conn: Connection) -> None:
        """A new connection: it gets its user's signals until drop()."""
        self._followers.attach(conn)

    def drop(self, conn: Connection) -> None:
        for room_id in list(conn.rooms):
            self.leave(conn, room_id)
        self._followers.detach(conn)

    def follow(self, conn: Connection, workspace_id: int) -> None:
        self._followers.follow(conn, workspace_id)

    def unfollow(self, conn: Connection, workspace_id: int) -> None:
        self._followers.unfollow(conn, workspace_id)

    def followers(self, workspace_id: int) -> set[Connection]:
        return self._followers.of_workspace(workspace_id)

    @property
    def followed(self) -> bool:
        """Whether any connection here follows any workspace."""
        return bool(self._followers.workspaces)  # read per event (realtime/activity.py)

    # -- joining and leaving -------------------------------------------------------

    async def begin_join(self, conn: Connection, room_id: int) -> None:
        """Start buffering the room's events for ``conn``; then read its history."""
        channel = self._channels.get(room_id)
        if channel is None:
            channel = self._rooms.add(room_id)
            channel.opening = asyncio.create_task(self._open(channel))
        else:
            self._rooms.wake(channel)
        channel.members.pop(conn, None)
        channel.pending[conn] = []
        if room_id not in conn.rooms:
            conn.rooms.add(room_id)
            if self._attendance is not None:
                self._attendance.joined(room_id, conn.user.id)
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
            if self._attendance is not None:
                self._attendance.left(room_id, conn.user.id)
        channel = self._channels.get(room_id)
        if channel is None:
            return
        channel.members.pop(conn, None)
        channel.pending.pop(conn, None)
        channel.leaving.discard(conn)
        if channel.empty:
            self._rooms.rest(channel)

    async def _open(self, channel: RoomChannel) -> None:
        try:
            last_seq = await self._log.last_seq(channel.room_id)
        except Exception as exc:
            channel.ready.set_exception(exc)
            channel.ready.exception()  # retrieved: joiners see it through their own await
            self._rooms.forget(channel)
            return
        channel.order.start(last_seq)
        self._release(channel)
        if channel.order.held:
            self._gap(channel)
        channel.ready.set_result(None)

    # -- delivery ------------------------------------------------------------------

    def deliver(self, event: RoomEvent) -> None:
        """A durable event: to the room's connections in seq order, exactly once."""
        channel = self._channels.get(event.room_id)
        if channel is not None:  # else nobody here joined the room
            self._sequence(channel, event)

    def signal(self, signal: RoomSignal) -> None:
        """An ephemeral signal: to the room's joined connections now, if any (or to
        every connection of its ``to_user``)."""
        if signal.to_user is not None:
            connections = self._followers.of_user(signal.to_user)
            if not connections:
                return
            profile = profile_of(signal)
            for conn in connections:
                conn.send(signal.frame)
                if profile is not None and profile.id == conn.user.id:
                    conn.user = profile  # what it sends from now on shows the new profile
            return
        if signal.to_workspace is not None:
            self._to_followers(signal, signal.to_workspace)
            return
        channel = self._channels.get(signal.room_id)
        if channel is not None:
            channel.pass_on(signal)

    def _to_followers(self, signal: RoomSignal, workspace_id: int) -> None:
        """A workspace signal (the live sidebar) to the workspace's followers here; a
        ``workspace_member_left`` then ends its member's following (domain/sidebar.py)."""
        followers = list(self._followers.of_workspace(workspace_id))
        for conn in followers:
            conn.send(signal.frame)
        gone = unfollowing(signal) if followers else None
        if gone is not None:
            for conn in followers:
                if conn.user.id == gone[1]:
                    self._followers.unfollow(conn, workspace_id)

    def _sequence(self, channel: RoomChannel, event: RoomEvent) -> None:
        order = channel.order
        offered = order.offer(event)
        if offered is NEXT:
            self._fan_out(channel, event)
            if order.held:
                self._release(channel)
        elif offered is EARLY:
            self._gap(channel)
        # Else a repeat, or early for a channel still opening: _open sorts those out.

    def _release(self, channel: RoomChannel) -> None:
        """Deliver the held events that are next in order now."""
        while (following := channel.order.next_held()) is not None:
            self._fan_out(channel, following)

    def _gap(self, channel: RoomChannel) -> None:
        if channel.resting:
            self._rooms.discard(channel.room_id)  # nobody waits for the missing ones here
        elif channel.gap_task is None:
            channel.gap_task = asyncio.create_task(self._close_gap(channel))

    def _fan_out(self, channel: RoomChannel, event: RoomEvent) -> None:
        """The next event in order: to the members whose join history lacks it, and
        buffered for the joining ones (the per-recipient loop: keep it lean)."""
        frame = event.frame
        seq = event.seq
        for conn, history_seq in channel.members.items():
            if seq > history_seq:
                conn.send(frame)
        for buffered in channel.pending.values():
            buffered.append(event)
        if not channel.resting:
            self._metrics.broadcasts.inc()
            self._metrics.deliveries.inc(len(channel.members))  # once per broadcast
        if event.action in ENDING:
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

    # -- what the bus lost: gaps and the sweep -------------------------------------

    async def _close_gap(self, channel: RoomChannel) -> None:
        """Wait briefly for the missing events, then read them from the database."""
        filling = OutageLog(log, f"room {channel.room_id}: filling a gap", self._is_unavailable)
        try:
            while channel.order.held:
                await asyncio.sleep(self._gap_delay)
                missing = channel.order.missing()
                if missing is None:
                    continue
                first, last = missing
                try:
                    events = await self._log.events_between(channel.room_id, first, last)
                except Exception as exc:
                    filling.failed(exc, f"seq {first}-{last}")
                    continue
                filling.succeeded()
                self._metrics.gaps_filled.inc()
                log.info(
                    "room %s: filled seq %d-%d from the database", channel.room_id, first, last
                )
                for event in events:
                    self._sequence(channel, event)
        finally:
            channel.gap_task = None

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
        open_channels = [c for c in self._channels.values() if c.order.started]
        if not open_channels:
            return
        stored = await self._log.last_seqs([c.room_id for c in open_channels])
        for channel in open_channels:
            target = channel.stored_at_last_sweep
            channel.stored_at_last_sweep = stored.get(channel.room_id, 0)
            delivered = channel.order.delivered
            if delivered is None or delivered >= target or channel.gap_task is not None:
                continue
            if channel.resting:
                self._rooms.discard(channel.room_id)  # nobody here waits for what it missed
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
