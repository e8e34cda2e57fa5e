"""Delivers each webhook endpoint's events from the room event log, once per cluster.

Every instance runs a dispatcher. An endpoint is delivered by the instance holding its
lease (a row lock-free lease on the ``webhooks`` row, renewed every third of its
length): a stopped instance's endpoints are taken over when its leases run out, a
shut-down one hands them back at once.

The holder's worker for an endpoint reads, room by room, the events past the
endpoint's cursor, posts each one the endpoint asked for, and moves the cursor once
the receiver took it (2xx). A failure stops the endpoint where it is: later events of
that room wait behind it, so a receiver sees each room in seq order. The state lives
in the database, so a restart, another instance or a re-enable picks up exactly there.

Chat never waits for any of this: workers are woken by the events the instance hears
(``heard``, a flag set per worker) and run their own requests, at most
``concurrency`` at a time per instance, each bounded in time (webhooks/sender.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from urllib.parse import urlsplit

from roomchat.domain.events import RoomEvent
from roomchat.domain.models import DeliveryAttempt, Webhook
from roomchat.domain.webhooks import RetryPolicy, event_id, signing_secrets, webhook_body
from roomchat.metrics import Metrics
from roomchat.store.webhooks import LoggedEvent, WebhookRepo
from roomchat.webhooks.sender import Sender, signature_headers

log = logging.getLogger(__name__)

ROOMS_PER_PASS = 100
EVENTS_PER_READ = 100
PRUNE_EVERY = 50  # attempts recorded between two trims of an endpoint's history
_IDLE, _MORE, _FAILED = "idle", "more", "failed"


@dataclass(frozen=True, slots=True)
class DispatchLimits:
    concurrency: int = 16
    lease_s: float = 15.0
    poll_s: float = 5.0
    retry_s: float = 1.0  # after the database failed us
    quiet_s: float = 0.1  # an idle endpoint looks for new events at most this often


class _Worker:
    def __init__(self, task_of: Callable[[_Worker], asyncio.Task[None]]) -> None:
        self.wake = asyncio.Event()
        self.task = task_of(self)


class Dispatcher:
    def __init__(
        self,
        repo: WebhookRepo,
        sender: Sender,
        owner: str,
        retry: RetryPolicy,
        limits: DispatchLimits,
        metrics: Metrics | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._repo = repo
        self._sender = sender
        self._owner = owner
        self._retry = retry
        self._limits = limits
        self._metrics = metrics
        self._clock = clock
        self._requests = asyncio.Semaphore(limits.concurrency)
        self._workers: dict[int, _Worker] = {}
        self._recorded: dict[int, int] = {}
        self._closing = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._hold_leases(), name="roomchat-webhook-leases")

    def heard(self, event: RoomEvent) -> None:
        """A room event reached this instance: endpoints may have something to send."""
        for worker in self._workers.values():
            worker.wake.set()

    @property
    def endpoints(self) -> int:
        """Endpoints this instance delivers now."""
        return len(self._workers)

    async def close(self) -> None:
        """Stop delivering and hand the leases back (another instance takes over now)."""
        self._closing.set()
        tasks = [w.task for w in self._workers.values()]
        if self._task is not None:
            tasks.append(self._task)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._workers.clear()
        try:
            await self._repo.release(self._owner)
        except Exception as exc:  # the leases run out by themselves
            log.warning("webhooks: could not hand back leases: %s", type(exc).__name__)
        await self._sender.close()

    async def _hold_leases(self) -> None:
        every = self._limits.lease_s / 3
        while not self._closing.is_set():
            now = self._clock()
            try:
                held = set(
                    await self._repo.lease(
                        self._owner, now + timedelta(seconds=self._limits.lease_s), now
                    )
                )
            except Exception:
                log.exception("webhooks: renewing leases failed")
                held = set(self._workers)  # keep going; a lease outlives a short outage
            for webhook_id in list(self._workers):
                worker = self._workers[webhook_id]
                if webhook_id not in held or worker.task.done():
                    worker.task.cancel()
                    del self._workers[webhook_id]
            for webhook_id in held - set(self._workers):
                self._workers[webhook_id] = _Worker(
                    lambda w, i=webhook_id: asyncio.create_task(  # type: ignore[misc]
                        self._work(i, w), name=f"roomchat-webhook-{i}"
                    )
                )
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._closing.wait(), every)

    async def _work(self, webhook_id: int, worker: _Worker) -> None:
        while True:
            worker.wake.clear()  # before reading: what is heard from now wakes us again
            try:
                webhook = await self._repo.by_id(webhook_id)
                if webhook is None or not webhook.enabled:
                    return  # deleted or disabled: the lease goes with the next renewal
                due_in = self._until_due(webhook)
                if due_in > 0:
                    # Backing off: what is heard does not shorten it. Re-reading the row
                    # every poll_s sees an owner's re-enable made on any instance.
                    await asyncio.sleep(min(due_in, self._limits.poll_s))
                    continue
                if await self._pass(webhook) is not _IDLE:
                    continue
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("webhooks: endpoint %d: reading or recording failed", webhook_id)
                await asyncio.sleep(self._limits.retry_s)
                continue
            idle_since = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(worker.wake.wait(), self._limits.poll_s)
            # Woken by every event the instance hears, most of them other workspaces':
            # at most one look per quiet_s, however busy the cluster (a bound on the
            # queries an idle endpoint makes, at the cost of that much latency).
            await asyncio.sleep(max(0.0, idle_since + self._limits.quiet_s - time.monotonic()))

    def _until_due(self, webhook: Webhook) -> float:
        if webhook.next_attempt_at is None:
            return 0.0
        return (webhook.next_attempt_at - self._clock()).total_seconds()

    async def _pass(self, webhook: Webhook) -> str:
        """Deliver what is pending: _IDLE (nothing was), _MORE (look again at once) or
        _FAILED (re-read the endpoint: it backs off)."""
        rooms = await self._repo.pending_rooms(webhook.id, webhook.workspace_id, ROOMS_PER_PASS)
        for room_id, cursor in rooms:
            webhook, ok = await self._room(webhook, room_id, cursor)
            if not ok:
                return _FAILED
        return _MORE if rooms else _IDLE

    async def _room(self, webhook: Webhook, room_id: int, cursor: int) -> tuple[Webhook, bool]:
        events = await self._repo.events_after(room_id, cursor, EVENTS_PER_READ)
        skipped = 0
        for event in events:
            if event.action not in webhook.events:
                skipped = event.seq  # not asked for: the cursor passes it
                continue
            webhook, ok = await self._deliver(webhook, event)
            if not ok:
                return webhook, False
            skipped = 0
        if skipped:
            await self._repo.advance(webhook.id, room_id, skipped)
        return webhook, True

    async def _deliver(self, webhook: Webhook, event: LoggedEvent) -> tuple[Webhook, bool]:
        message_id = event_id(event.room_id, event.seq)
        body = webhook_body(webhook.workspace_id, event)
        now = self._clock()
        headers = signature_headers(message_id, now, body, signing_secrets(webhook, now))
        async with self._requests:
            result = await self._sender.post(webhook.url, headers, body)
        if self._metrics is not None:
            self._metrics.webhook_delivery(result.outcome)
        attempt = DeliveryAttempt(
            event_id=message_id,
            event_type=event.action,
            room_id=event.room_id,
            seq=event.seq,
            attempt=webhook.failures + 1,
            outcome=result.outcome,
            response_code=result.response_code,
            error=result.error,
            duration_ms=result.duration_ms,
            attempted_at=now,
            next_retry_at=None,
        )
        if result.outcome == "delivered":
            await self._repo.delivered(webhook.id, attempt, was_failing=webhook.failures > 0)
            await self._trim(webhook.id)
            return dataclasses.replace(webhook, failures=0, failing_since=None), True
        state = self._retry.after_failure(webhook, now)
        attempt = dataclasses.replace(attempt, next_retry_at=state.next_attempt_at)
        await self._repo.failed(webhook.id, attempt, state)
        await self._trim(webhook.id)
        # The host only: a URL's path or query may carry the receiver's own token.
        host = urlsplit(webhook.url).hostname
        if state.disabled_reason is not None:
            log.warning("webhooks: endpoint %d (%s) disabled: %s", webhook.id, host, result.error)
        else:
            log.info(
                "webhooks: endpoint %d (%s) failed %s (%s); retry %d at %s",
                webhook.id,
                host,
                message_id,
                result.error,
                state.failures,
                state.next_attempt_at,
            )
        return webhook, False

    async def _trim(self, webhook_id: int) -> None:
        count = self._recorded.get(webhook_id, 0) + 1
        self._recorded[webhook_id] = count % PRUNE_EVERY
        if count >= PRUNE_EVERY:
            await self._repo.prune(webhook_id)
