"""What a member's read position moving tells others: the room (``room_chat_read``,
coalesced) and the member's own other devices (``room_read_updated``, at once).

Receipts are signals, like typing: not stored, not replayed (the room's members
re-read positions from ``GET .../readers`` after a reconnect). A member scrolling
through a room moves their position many times a second; the room hears at most one
``room_chat_read`` per member and room per interval, and always the last position:
a move inside the interval is held and sent when the interval ends.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

from roomchat import jsoncodec
from roomchat.domain.events import RoomSignal
from roomchat.domain.kinds import READ_RECEIPT, READ_UPDATED
from roomchat.domain.records import ReadPosition
from roomchat.realtime.fanout import Fanout

log = logging.getLogger(__name__)

Key = tuple[int, int]  # (room_id, user_id)


class Receipts:
    def __init__(
        self,
        fanout: Fanout,
        origin: str,
        shares: Callable[[int], Awaitable[bool]],
        interval_s: float = 1.0,
    ) -> None:
        self._fanout = fanout
        self._origin = origin
        self._shares = shares  # whether a user shows others their receipts
        self._interval = interval_s
        # Keys that sent a receipt less than an interval ago: the position held for
        # the end of the interval (None: nothing new since).
        self._recent: dict[Key, int | None] = {}
        self._tasks: set[asyncio.Task[None]] = set()

    def moved(self, user_id: int, position: ReadPosition) -> None:
        """The member's position moved (already stored): tell their devices, then the room."""
        room_id = position.room_id
        self.counts_changed(user_id, position)
        key = (room_id, user_id)
        if key in self._recent:
            self._recent[key] = position.last_read_seq  # sent when the interval ends
            return
        self._recent[key] = None
        self._spawn(self._send(key, position.last_read_seq))
        asyncio.get_running_loop().call_later(self._interval, self._interval_over, key)

    def counts_changed(self, user_id: int, position: ReadPosition) -> None:
        """The member's counts in a room changed without the room hearing of it (a
        thread read, followed or unfollowed): only their own devices are told."""
        data = jsoncodec.dumps(position.to_dict())
        self._fanout.signal(
            RoomSignal.build(
                position.room_id, user_id, READ_UPDATED, data, self._origin, to_user=user_id
            )
        )

    def _interval_over(self, key: Key) -> None:
        held = self._recent.pop(key, None)
        if held is not None:  # moved again meanwhile: send the last position now
            self._recent[key] = None
            self._spawn(self._send(key, held))
            asyncio.get_running_loop().call_later(self._interval, self._interval_over, key)

    def _spawn(self, work: Awaitable[None]) -> None:
        task = asyncio.ensure_future(work)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _send(self, key: Key, last_read_seq: int) -> None:
        room_id, user_id = key
        try:
            if not await self._shares(user_id):
                return
        except Exception:
            log.warning("room %s: could not check a member's receipt setting", room_id)
            return
        data = jsoncodec.dumps(
            {"room_id": room_id, "user_id": user_id, "last_read_seq": last_read_seq}
        )
        self._fanout.signal(RoomSignal.build(room_id, user_id, READ_RECEIPT, data, self._origin))
