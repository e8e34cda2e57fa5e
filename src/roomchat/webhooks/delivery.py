"""One endpoint's events of one room, delivered in seq order, one request at a time.

The events past the endpoint's cursor are read from the room event log; each one the
endpoint asked for is POSTed (in a request slot of its workspace, webhooks/slots.py)
and the cursor moves once the receiver took it (2xx). Events it did not ask for are
passed over. A failure stops the room where it is: the endpoint backs off, counted
from the end of the failed attempt (domain/webhooks.py), and the room's later events
wait behind the failed one.

Each request goes out after the endpoint's row was last seen: the pass's first read of
it, or the recording of the attempt before (store/webhooks.py locks the row to record
one). An endpoint deleted meanwhile raises EndpointGone there, and the dispatcher drops
it: the request that was in flight is the last it gets.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from urllib.parse import urlsplit

from roomchat.domain.models import DeliveryAttempt, Webhook
from roomchat.domain.webhooks import RetryPolicy, event_id, signing_secrets, webhook_body
from roomchat.metrics import Metrics
from roomchat.store.webhooks import LoggedEvent, WebhookRepo
from roomchat.webhooks.sender import Sender, signature_headers
from roomchat.webhooks.slots import SlotPool

log = logging.getLogger(__name__)

EVENTS_PER_READ = 100
PRUNE_EVERY = 50  # attempts recorded between two trims of an endpoint's history


@dataclass(slots=True)
class DispatchStats:
    """What /metrics shows of the dispatcher's own work (webhooks/metering.py)."""

    queries: int = 0  # database statements run
    wakeups: int = 0  # times an endpoint was given something to look at


@dataclass(frozen=True, slots=True)
class RoomOutcome:
    webhook: Webhook  # the endpoint's state after it (failures, backing off, disabled)
    failed: bool
    more: bool  # a full read: the room may have more events waiting


class Delivery:
    def __init__(
        self,
        repo: WebhookRepo,
        sender: Sender,
        slots: SlotPool,
        retry: RetryPolicy,
        stats: DispatchStats,
        metrics: Metrics | None,
        clock: Callable[[], datetime],
    ) -> None:
        self._repo = repo
        self._sender = sender
        self._slots = slots
        self._retry = retry
        self._stats = stats
        self._metrics = metrics
        self._clock = clock
        self._recorded: dict[int, int] = {}

    def _db(self) -> WebhookRepo:
        self._stats.queries += 1
        return self._repo

    async def room(self, webhook: Webhook, room_id: int) -> RoomOutcome:
        events = await self._db().events_past_cursor(webhook.id, room_id, EVENTS_PER_READ)
        skipped = 0
        for event in events:
            if event.action not in webhook.events:
                skipped = event.seq  # not asked for: the cursor passes it
                continue
            webhook, ok = await self._deliver(webhook, event)
            if not ok:
                return RoomOutcome(webhook, failed=True, more=True)
            skipped = 0
        if skipped:
            await self._db().advance(webhook.id, room_id, skipped)
        return RoomOutcome(webhook, failed=False, more=len(events) == EVENTS_PER_READ)

    async def _deliver(self, webhook: Webhook, event: LoggedEvent) -> tuple[Webhook, bool]:
        message_id = event_id(event.room_id, event.seq)
        body = webhook_body(webhook.workspace_id, event)
        async with self._slots.slot(webhook.workspace_id):
            # Signed once the slot is ours: a wait for it does not age the timestamp.
            now = self._clock()
            headers = signature_headers(message_id, now, body, signing_secrets(webhook, now))
            result = await self._sender.post(webhook.url, headers, body)
        ended = self._clock()
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
            await self._db().delivered(webhook.id, attempt, was_failing=webhook.failures > 0)
            await self._trim(webhook.id)
            well = dataclasses.replace(
                webhook, failures=0, failing_since=None, next_attempt_at=None
            )
            return well, True
        state = self._retry.after_failure(webhook, ended)
        attempt = dataclasses.replace(attempt, next_retry_at=state.next_attempt_at)
        await self._db().failed(webhook.id, attempt, state)
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
        failing = dataclasses.replace(
            webhook,
            failures=state.failures,
            failing_since=state.failing_since,
            next_attempt_at=state.next_attempt_at,
            enabled=state.disabled_reason is None,
            disabled_reason=state.disabled_reason,
        )
        return failing, False

    async def _trim(self, webhook_id: int) -> None:
        count = self._recorded.get(webhook_id, 0) + 1
        self._recorded[webhook_id] = count % PRUNE_EVERY
        if count >= PRUNE_EVERY:
            await self._db().prune(webhook_id)

    def forget(self, webhook_id: int) -> None:
        """The endpoint is no longer delivered here."""
        self._recorded.pop(webhook_id, None)
