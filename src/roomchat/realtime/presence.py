"""Who is in a room right now, across the cluster: ``online_user_ids`` in a join
reply and ``room_presence`` broadcasts.

A member is online in a room while at least one of their connections, on any
instance, is joined to it. Each instance counts its own connections per room and
user (the hub tells it of each join and leave: realtime/hub.py's ``Attendance``) and
learns the others' from internal signals on the bus, the same bus as everything else:

- ``up`` and ``down`` as a user appears or goes on an instance; ``down`` only after
  a grace period, so a reconnect (to any instance) within it is no offline-then-online;
- a ``snapshot`` per room every refresh interval, which heals a lost signal: what an
  instance last said of a room expires after ``ttl``, so a killed instance's users go
  offline everywhere within it, without anyone calling anything.

``room_presence`` {room_id, user_id, online} goes to the room's joined connections on
every instance when the cluster-wide answer changes. Rooms with more members than
``max_members`` are not tracked (their ``online_user_ids`` is null): a broadcast per
arrival in a room of thousands costs more than it tells.

Presence is given what it calls through its constructor: ``tell_others`` (the bus's
``signal``: its internal signals are for the other instances only), and the local
rooms' ``joined_here`` and ``pass_on`` (realtime/channels.py). It needs nothing of the
hub, so the hub can be given presence when it is built.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from roomchat import jsoncodec
from roomchat.domain.events import RoomEvent, RoomSignal
from roomchat.domain.kinds import CHANGES_MEMBERS, PRESENCE

log = logging.getLogger(__name__)

# Rooms whose member count is kept before those no longer joined here are forgotten.
_MAX_COUNTED = 10_000


@dataclass(frozen=True, slots=True)
class PresenceLimits:
    enabled: bool = True  # off: nothing tracked, online_user_ids null, nothing sent
    grace_s: float = 5.0
    ttl_s: float = 15.0  # what an instance said of a room, unless refreshed
    refresh_s: float = 5.0
    max_members: int = 1000


class Presence:
    def __init__(
        self,
        origin: str,
        member_count: Callable[[int], Awaitable[int]],
        limits: PresenceLimits,
        *,
        tell_others: Callable[[RoomSignal], None],
        joined_here: Callable[[int], bool],
        pass_on: Callable[[RoomSignal], None],
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._origin = origin
        self._member_count = member_count
        self._limits = limits
        self._tell_others = tell_others
        self._joined_here = joined_here
        self._pass_on = pass_on
        self._clock = clock
        # room -> user -> their connections here joined (or joining) to it
        self._here: dict[int, dict[int, int]] = {}
        # room -> user -> instance -> until when it counts (inf: this instance, present)
        self._seen: dict[int, dict[int, dict[str, float]]] = {}
        self._leaving: dict[tuple[int, int], asyncio.TimerHandle] = {}
        self._large: dict[int, bool] = {}  # rooms over max_members (as last counted)
        self._recounts: set[asyncio.Task[None]] = set()
        self._task: asyncio.Task[None] | None = None

    # -- what the hub says of this instance ----------------------------------------

    def joined(self, room_id: int, user_id: int) -> None:
        users = self._here.setdefault(room_id, {})
        count = users.get(user_id, 0) + 1
        users[user_id] = count
        if count == 1:
            self._appeared(room_id, user_id)

    def left(self, room_id: int, user_id: int) -> None:
        users = self._here.get(room_id, {})
        count = users.get(user_id, 0) - 1
        if count > 0:
            users[user_id] = count
            return
        users.pop(user_id, None)
        if not users:
            self._here.pop(room_id, None)
        self._gone(room_id, user_id)

    def _appeared(self, room_id: int, user_id: int) -> None:
        """The user's first connection here joined the room."""
        pending = self._leaving.pop((room_id, user_id), None)
        if pending is not None:
            pending.cancel()  # back within the grace period: nothing happened
            return
        self._mark(room_id, user_id, self._origin, float("inf"))
        self._tell("up", room_id, [user_id])

    def _gone(self, room_id: int, user_id: int) -> None:
        """The user's last connection here left the room."""
        key = (room_id, user_id)
        if key not in self._leaving:
            loop = asyncio.get_running_loop()
            self._leaving[key] = loop.call_later(self._limits.grace_s, self._went, key)

    def _went(self, key: tuple[int, int]) -> None:
        self._leaving.pop(key, None)
        room_id, user_id = key
        self._unmark(room_id, user_id, self._origin)
        self._tell("down", room_id, [user_id])

    # -- what the other instances say ------------------------------------------------

    def heard(self, signal: RoomSignal) -> None:
        try:
            said = jsoncodec.loads(signal.frame)
            kind, users = said["kind"], [int(u) for u in said["user_ids"]]
        except (ValueError, KeyError, TypeError):
            return  # not ours, or from a newer version
        room_id, instance = signal.room_id, signal.origin
        until = self._clock() + self._limits.ttl_s
        if kind == "down":
            for user_id in users:
                self._unmark(room_id, user_id, instance)
            return
        if kind == "snapshot":  # what is not in it is gone from that instance
            listed = set(users)
            for user_id, instances in list(self._seen.get(room_id, {}).items()):
                if instance in instances and user_id not in listed:
                    self._unmark(room_id, user_id, instance)
        for user_id in users:
            self._mark(room_id, user_id, instance, until)

    # -- answers -------------------------------------------------------------------

    async def online(self, room_id: int) -> list[int] | None:
        """The room's members online anywhere, or None for a room too large to track."""
        if not self._limits.enabled or await self._too_large(room_id):
            return None
        return sorted(self._seen.get(room_id, {}))

    def heard_event(self, event: RoomEvent) -> None:
        """A room event (Fanout listener): after a membership change, count a room
        already counted again (until then its last count stands)."""
        room_id = event.room_id
        if event.action in CHANGES_MEMBERS and room_id in self._large:
            task = asyncio.create_task(self._recount_quietly(room_id))
            self._recounts.add(task)
            task.add_done_callback(self._recounts.discard)

    async def recount(self, room_id: int) -> None:
        if not self._limits.enabled:
            return
        large = await self._member_count(room_id) > self._limits.max_members
        if len(self._large) >= _MAX_COUNTED:
            # Keep the counts of rooms joined here; the others are counted again if
            # they are joined again (an instance lives long, rooms come and go).
            for gone in [r for r in self._large if not self._joined_here(r)]:
                del self._large[gone]
        self._large[room_id] = large

    async def _recount_quietly(self, room_id: int) -> None:
        try:
            await self.recount(room_id)
        except Exception:
            log.warning("room %s: counting its members for presence failed", room_id)

    async def _too_large(self, room_id: int) -> bool:
        if room_id not in self._large:
            await self.recount(room_id)
        return self._large[room_id]

    # -- the cluster view ------------------------------------------------------------

    def _mark(self, room_id: int, user_id: int, instance: str, until: float) -> None:
        users = self._seen.setdefault(room_id, {})
        instances = users.get(user_id)
        if instances is None:
            instances = users[user_id] = {}
            instances[instance] = until
            self._broadcast(room_id, user_id, online=True)
        else:
            instances[instance] = until

    def _unmark(self, room_id: int, user_id: int, instance: str) -> None:
        users = self._seen.get(room_id)
        instances = users.get(user_id) if users else None
        if users is None or instances is None or instances.pop(instance, None) is None:
            return
        if not instances:
            del users[user_id]
            if not users:
                del self._seen[room_id]
            self._broadcast(room_id, user_id, online=False)

    def _broadcast(self, room_id: int, user_id: int, online: bool) -> None:
        if self._large.get(room_id, True) or not self._joined_here(room_id):
            return  # nobody here to tell, or a room too large (or not yet counted)
        data = jsoncodec.dumps({"room_id": room_id, "user_id": user_id, "online": online})
        self._pass_on(RoomSignal.build(room_id, 0, PRESENCE, data, self._origin))

    def _tell(self, kind: str, room_id: int, user_ids: list[int]) -> None:
        data = jsoncodec.dumps({"kind": kind, "user_ids": user_ids})
        self._tell_others(RoomSignal(room_id, 0, self._origin, data, internal=True))

    # -- upkeep --------------------------------------------------------------------

    def start(self) -> None:
        if not self._limits.enabled:
            return
        self._task = asyncio.create_task(self._upkeep(), name="roomchat-presence")

    async def close(self) -> None:
        for handle in self._leaving.values():
            handle.cancel()
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _upkeep(self) -> None:
        while True:
            await asyncio.sleep(self._limits.refresh_s)
            try:
                self.refresh()
            except Exception:
                log.exception("presence upkeep failed")

    def refresh(self) -> None:
        """Say again what is here, and let what the others stopped saying expire."""
        for room_id, here in list(self._here.items()):
            self._tell("snapshot", room_id, list(here))
        now = self._clock()
        for room_id, seen in list(self._seen.items()):
            for user_id, instances in list(seen.items()):
                for instance, until in list(instances.items()):
                    if until < now:
                        self._unmark(room_id, user_id, instance)
