"""Which open sockets speak for which token, so none outlives it.

A socket is authenticated once, at the handshake (a single-use ticket, the bearer
header, or ``?token=``); a refused one is closed at once with 4401 and the reason
(domain/sessions.py ``Refusal``). From then on this registry closes it with 4401 when its
token expires (reason ``token_expired``) or is revoked (``token_revoked``). A
revocation is a row in the shared database: every instance polls new rows and
closes its own sockets of that login session, or of that user for "log out
everywhere". The instance that took the logout polls at once. While the database is
out of reach the poll says so once, and once more when it works again
(roomchat/outages.py).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime
from typing import TypeVar

from starlette.websockets import WebSocket

from roomchat.domain.records import Revocation
from roomchat.domain.sessions import Session, SessionService
from roomchat.outages import OutageLog, Unavailability

log = logging.getLogger(__name__)

SESSION_ENDED_CLOSE = 4401
PRUNE_EVERY_S = 60.0
# Row ids are taken at insert and become visible at commit, not always in id order:
# the poll passes over an id only once its row is this old (grace for slow commits).
COMMIT_GRACE_S = 30.0
REVOCATION_PAGE = 1000

K = TypeVar("K")
Closer = Callable[[int, str], Awaitable[None]]


class LiveSocket:
    __slots__ = ("_close", "closing", "session", "timer")

    def __init__(self, session: Session, close: Closer) -> None:
        self.session = session
        self._close = close
        self.timer: asyncio.TimerHandle | None = None
        self.closing: asyncio.Task[None] | None = None

    def end(self, reason: str) -> None:
        if self.closing is None:
            self.closing = asyncio.create_task(self._end(reason))

    async def _end(self, reason: str) -> None:
        try:
            await self._close(SESSION_ENDED_CLOSE, reason)
        except Exception:  # the socket is gone already: nothing left to close
            log.debug("closing a socket (%s) failed", reason, exc_info=True)


def _bearer(websocket: WebSocket) -> str | None:
    header = websocket.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    return value.strip() if scheme.lower() == "bearer" else None


class SocketSessions:
    def __init__(
        self, sessions: SessionService, poll_interval_s: float, is_unavailable: Unavailability
    ) -> None:
        self._sessions = sessions
        self._poll_interval = poll_interval_s
        self._by_session: dict[str, set[LiveSocket]] = {}
        self._by_user: dict[int, set[LiveSocket]] = {}
        self._task: asyncio.Task[None] | None = None
        self._floor = 0  # every revocation with an id up to this one has been applied
        self._seen: dict[int, datetime] = {}  # applied ids above the floor
        self._outage = OutageLog(log, "polling token revocations", is_unavailable)

    async def authenticate(self, websocket: WebSocket) -> Session:
        """The handshake's session; ``Refused`` (its ``reason`` is the 4401 close's) when
        there is none. A ticket given is the only credential tried."""
        params = websocket.query_params
        ticket = params.get("ticket")
        if ticket is not None:
            return await self._sessions.redeem_ticket(ticket)
        token = _bearer(websocket) or params.get("token") or ""
        return await self._sessions.authenticate(token)  # "": token_missing

    def opened(self, session: Session, close: Closer) -> LiveSocket:
        """Track a socket of ``session`` (``close``: its sink's) until closed()."""
        live = LiveSocket(session, close)
        self._by_session.setdefault(session.sid, set()).add(live)
        self._by_user.setdefault(session.user.id, set()).add(live)
        delay = session.expires_at - time.time()
        if delay <= 0:
            live.end("token_expired")
        else:
            live.timer = asyncio.get_running_loop().call_later(delay, live.end, "token_expired")
        return live

    def closed(self, live: LiveSocket) -> None:
        if live.timer is not None:
            live.timer.cancel()
        session = live.session
        _discard(self._by_session, session.sid, live)
        _discard(self._by_user, session.user.id, live)

    def revoke(self, revocation: Revocation) -> int:
        """Close the local sockets a revocation names; how many."""
        if revocation.session_id is not None:
            targets = list(self._by_session.get(revocation.session_id, ()))
        else:
            before = revocation.issued_before.timestamp() if revocation.issued_before else 0.0
            targets = [
                live
                for live in self._by_user.get(revocation.user_id, ())
                if live.session.issued_at < before
            ]
        for live in targets:
            live.end("token_revoked")
        return len(targets)

    # --- the poller --------------------------------------------------------------

    async def start(self) -> None:
        self._floor = await self._sessions.last_revocation_id()
        self._task = asyncio.create_task(self._poll_forever())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)

    async def _poll_forever(self) -> None:
        next_prune = time.monotonic() + PRUNE_EVERY_S
        while True:
            await asyncio.sleep(self._poll_interval)
            try:
                await self.poll()
                if time.monotonic() >= next_prune:
                    next_prune = time.monotonic() + PRUNE_EVERY_S
                    await self._sessions.prune()
            except Exception as exc:  # try again next time
                self._outage.failed(exc)
            else:
                self._outage.succeeded()

    def poll_soon(self) -> None:
        """Poll now rather than at the next tick (a logout on this instance)."""
        if self._task is not None and not self._task.done():
            asyncio.get_running_loop().create_task(self._poll_logged())

    async def _poll_logged(self) -> None:
        try:
            await self.poll()
        except Exception as exc:
            self._outage.failed(exc)
        else:
            self._outage.succeeded()

    async def poll(self) -> None:
        # Page by the highest id seen so far, not by the floor: a flood of logouts
        # must not hold later revocations back behind rows already applied.
        after = self._floor
        while True:
            page = await self._sessions.revocations_after(after, REVOCATION_PAGE)
            for revocation in page:
                after = max(after, revocation.id)
                if revocation.id in self._seen:
                    continue
                self._seen[revocation.id] = revocation.revoked_at
                self.revoke(revocation)
            if len(page) < REVOCATION_PAGE:
                break
        self._advance_floor()

    def _advance_floor(self) -> None:
        settled_before = time.time() - COMMIT_GRACE_S
        for row_id in [i for i, at in self._seen.items() if at.timestamp() < settled_before]:
            self._floor = max(self._floor, row_id)
            del self._seen[row_id]


def _discard(index: dict[K, set[LiveSocket]], key: K, live: LiveSocket) -> None:
    group = index.get(key)
    if group is not None:
        group.discard(live)
        if not group:
            del index[key]
