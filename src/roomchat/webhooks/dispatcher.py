"""Delivers webhook endpoints' events from the room event log, once per cluster.

Every instance runs one dispatcher. An endpoint is delivered by the instance holding
its lease (a row lock-free lease on the ``webhooks`` row, renewed every third of its
length): a stopped instance's endpoints are taken over when its leases run out, a
shut-down one hands them back at once.

Work follows the events that have subscribers, never the number of endpoints. The
endpoints an instance holds are kept in memory by workspace, refreshed by every lease
renewal (one query) and at once when this instance changes one. An event heard is
placed in its room's workspace (remembered per room) and gives work only to the
endpoints there that asked for its kind; an idle endpoint costs nothing. An endpoint
with work has a task until it has none (webhooks/delivery.py delivers each room in
seq order); one that is backing off waits on the instance's one timer, set for the
earliest due. Every ``poll_s`` one query finds what no event announced: endpoints
just taken over, events this instance never heard.

The state lives in the database (a cursor per endpoint and room, the failure state on
the row), so a restart, another instance or a re-enable picks up exactly there. An
endpoint deleted where this instance does not hear of it (another instance, an
ownership transfer) is known gone at the next renewal, or sooner when recording an
attempt finds its row gone (store/webhooks.py): the attempt in flight was its last.

The database out of reach is said once by each loop and once more when it works again
(roomchat/outages.py); the loops retry meanwhile, and leases outlive a short outage.

Chat never waits for any of this: requests run in slots, at most ``concurrency`` per
instance and ``workspace_concurrency`` per workspace (webhooks/slots.py), each bounded
in time (webhooks/sender.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from roomchat.domain.events import RoomEvent
from roomchat.domain.models import Webhook
from roomchat.domain.webhooks import RetryPolicy
from roomchat.metrics import Metrics
from roomchat.outages import OutageLog
from roomchat.store.database import is_unavailable
from roomchat.store.webhooks import EndpointGone, WebhookRepo
from roomchat.webhooks.delivery import Delivery, DispatchStats
from roomchat.webhooks.metering import DispatchMetrics
from roomchat.webhooks.sender import Sender
from roomchat.webhooks.slots import SlotPool

log = logging.getLogger(__name__)

ROOMS_REMEMBERED = 100_000  # room -> workspace entries kept (a few MB at most)
ROOMS_PER_LOOKUP = 500
PENDING_PER_SWEEP = 1000


@dataclass(frozen=True, slots=True)
class DispatchLimits:
    concurrency: int = 16
    workspace_concurrency: int = 4
    lease_s: float = 15.0
    poll_s: float = 5.0
    retry_s: float = 1.0  # after the database failed us


class _RoomWorkspaces:
    """room -> workspace for the rooms heard of lately (a room never changes workspace)."""

    def __init__(self, size: int) -> None:
        self._size = size
        self._known: OrderedDict[int, int] = OrderedDict()

    def get(self, room_id: int) -> int | None:
        workspace_id = self._known.get(room_id)
        if workspace_id is not None:
            self._known.move_to_end(room_id)
        return workspace_id

    def put(self, room_id: int, workspace_id: int) -> None:
        self._known[room_id] = workspace_id
        if len(self._known) > self._size:
            self._known.popitem(last=False)


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
        self._limits = limits
        self._clock = clock
        self.stats = DispatchStats()
        self._slots = SlotPool(limits.concurrency, limits.workspace_concurrency)
        self._delivery = Delivery(repo, sender, self._slots, retry, self.stats, metrics, clock)
        self._held: dict[int, Webhook] = {}
        self._by_workspace: dict[int, set[int]] = {}
        self._rooms = _RoomWorkspaces(ROOMS_REMEMBERED)
        self._unplaced: dict[int, set[str]] = {}  # room -> actions heard, workspace unknown
        # endpoint -> rooms it may have events in, in the order they came (a dict as an
        # ordered set: a busy room goes to the back, the others get their turn)
        self._pending: dict[int, dict[int, None]] = {}
        self._running: dict[int, asyncio.Task[None]] = {}
        self._renew_now = asyncio.Event()
        self._sweep_now = asyncio.Event()
        self._place_now = asyncio.Event()
        self._due_changed = asyncio.Event()
        self._loops: list[asyncio.Task[None]] = []
        self._leasing = OutageLog(log, "webhooks: renewing leases", is_unavailable)
        self._sweeping = OutageLog(log, "webhooks: looking for pending events", is_unavailable)
        self._placing = OutageLog(log, "webhooks: finding rooms' workspaces", is_unavailable)
        self._delivering = OutageLog(
            log, "webhooks: reading or recording deliveries", is_unavailable
        )
        if metrics is not None:
            metrics.registry.register(DispatchMetrics(self, metrics.instance))

    def start(self) -> None:
        self._loops = [
            asyncio.create_task(self._hold_leases(), name="roomchat-webhook-leases"),
            asyncio.create_task(self._sweep(), name="roomchat-webhook-sweep"),
            asyncio.create_task(self._place(), name="roomchat-webhook-rooms"),
            asyncio.create_task(self._retry_when_due(), name="roomchat-webhook-retries"),
        ]

    @property
    def endpoints(self) -> int:
        """Endpoints this instance delivers now."""
        return len(self._held)

    @property
    def requests_in_flight(self) -> int:
        return self._slots.busy

    def changed(self) -> None:
        """An endpoint was made, changed or deleted on this instance: renew (and so
        re-read every endpoint held) now, not at the next renewal."""
        self._renew_now.set()

    def heard(self, event: RoomEvent) -> None:
        """A room event reached this instance: endpoints that asked for it have work."""
        if not self._held:
            return  # nothing delivered here: not even a lookup
        workspace_id = self._rooms.get(event.room_id)
        if workspace_id is None:
            self._unplaced.setdefault(event.room_id, set()).add(event.action)
            self._place_now.set()
            return
        self._notify(workspace_id, event.room_id, (event.action,))

    async def close(self) -> None:
        """Stop delivering and hand the leases back (another instance takes over now)."""
        tasks = [*self._loops, *self._running.values()]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._running.clear()
        self._held.clear()
        self._by_workspace.clear()
        try:
            await self._repo.release(self._owner)
        except Exception as exc:  # the leases run out by themselves
            log.warning("webhooks: could not hand back leases: %s", type(exc).__name__)
        await self._sender.close()

    def _db(self) -> WebhookRepo:
        self.stats.queries += 1
        return self._repo

    # --- who gets work ---

    def _notify(self, workspace_id: int, room_id: int, actions: Iterable[str]) -> None:
        for webhook_id in self._by_workspace.get(workspace_id, ()):
            if any(action in self._held[webhook_id].events for action in actions):
                self._give(webhook_id, room_id)

    def _give(self, webhook_id: int, room_id: int) -> None:
        self.stats.wakeups += 1
        self._pending.setdefault(webhook_id, {})[room_id] = None
        self._start(webhook_id)

    def _start(self, webhook_id: int) -> None:
        webhook = self._held.get(webhook_id)
        if webhook is None or webhook_id in self._running:
            return  # a running task takes what was added before it ends
        if self._until_due(webhook) > 0:
            self._due_changed.set()  # backing off: the timer starts it when due
            return
        self._running[webhook_id] = asyncio.create_task(
            self._run(webhook_id), name=f"roomchat-webhook-{webhook_id}"
        )

    def _until_due(self, webhook: Webhook) -> float:
        if webhook.next_attempt_at is None:
            return 0.0
        return (webhook.next_attempt_at - self._clock()).total_seconds()

    # --- an endpoint with work ---

    async def _run(self, webhook_id: int) -> None:
        try:
            await self._deliver_pending(webhook_id)
        finally:
            # In the same step as the last look at its rooms: a room given from now
            # finds no task running and starts one.
            if self._running.get(webhook_id) is asyncio.current_task():
                del self._running[webhook_id]

    async def _deliver_pending(self, webhook_id: int) -> None:
        reread = True
        while rooms := self._pending.get(webhook_id):
            room_id = next(iter(rooms))
            try:
                if reread:  # once a run: another instance's change, an owner's re-enable
                    found = await self._db().by_id(webhook_id)
                    if found is None or not found.enabled:
                        self._drop(webhook_id)  # deleted or disabled (maybe elsewhere)
                        return
                    self._keep(found)
                    reread = False
                webhook = self._held[webhook_id]
                if self._until_due(webhook) > 0:
                    self._due_changed.set()
                    return  # its rooms wait for the timer
                del rooms[room_id]
                outcome = await self._delivery.room(webhook, room_id)
            except EndpointGone:
                # Deleted where this instance did not hear of it: on another instance,
                # or by an ownership transfer. What was in flight was its last.
                log.info("webhooks: endpoint %d was deleted; nothing more is sent", webhook_id)
                self._drop(webhook_id)
                return
            except Exception as exc:
                self._delivering.failed(exc, f"endpoint {webhook_id}")
                self._pending.setdefault(webhook_id, {})[room_id] = None
                await asyncio.sleep(self._limits.retry_s)
                reread = True
                continue
            self._delivering.succeeded()
            if outcome.more or outcome.failed:
                self._pending.setdefault(webhook_id, {})[room_id] = None
            if not outcome.webhook.enabled:
                self._drop(webhook_id)  # disabled: its lease was handed back with it
                return
            self._keep(outcome.webhook)
            if outcome.failed:
                self._due_changed.set()
                return
        self._pending.pop(webhook_id, None)

    # --- what this instance holds ---

    def _keep(self, webhook: Webhook) -> None:
        self._held[webhook.id] = webhook
        self._by_workspace.setdefault(webhook.workspace_id, set()).add(webhook.id)

    def _drop(self, webhook_id: int) -> None:
        webhook = self._held.pop(webhook_id, None)
        if webhook is not None:
            same = self._by_workspace.get(webhook.workspace_id, set())
            same.discard(webhook_id)
            if not same:
                self._by_workspace.pop(webhook.workspace_id, None)
        self._pending.pop(webhook_id, None)
        self._delivery.forget(webhook_id)
        task = self._running.pop(webhook_id, None)
        if task is not None and task is not asyncio.current_task():
            task.cancel()  # another instance may deliver it now: stop at once

    def _apply(self, held: list[Webhook]) -> None:
        now_held = {webhook.id for webhook in held}
        for webhook_id in [i for i in self._held if i not in now_held]:
            self._drop(webhook_id)
        taken = [webhook for webhook in held if webhook.id not in self._held]
        for webhook in held:
            if webhook.id not in self._running:  # a run keeps its own, newer, state
                self._keep(webhook)
        if taken:
            self._sweep_now.set()  # what they have pending, whatever this instance heard
        self._due_changed.set()  # a re-enable or another instance's change may be due now

    # --- the loops ---

    async def _hold_leases(self) -> None:
        every = self._limits.lease_s / 3
        while True:
            self._renew_now.clear()
            now = self._clock()
            until = now + timedelta(seconds=self._limits.lease_s)
            try:
                held = await self._db().lease(self._owner, until, now)
            except Exception as exc:  # keep going: a lease outlives a short outage
                self._leasing.failed(exc)
            else:
                self._leasing.succeeded()
                self._apply(held)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._renew_now.wait(), every)

    async def _sweep(self) -> None:
        while True:
            self._sweep_now.clear()
            if self._held:
                try:
                    found = await self._db().pending(self._owner, PENDING_PER_SWEEP)
                except Exception as exc:
                    self._sweeping.failed(exc)
                    found = []
                else:
                    self._sweeping.succeeded()
                for webhook_id, room_id in found:
                    if webhook_id in self._held:
                        self._give(webhook_id, room_id)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._sweep_now.wait(), self._limits.poll_s)

    async def _place(self) -> None:
        """Finds the workspaces of rooms heard of for the first time, a batch a query."""
        while True:
            await self._place_now.wait()
            self._place_now.clear()
            heard, self._unplaced = self._unplaced, {}
            rooms = list(heard)
            for start in range(0, len(rooms), ROOMS_PER_LOOKUP):
                batch = rooms[start : start + ROOMS_PER_LOOKUP]
                try:
                    found = await self._db().workspaces_of(batch)
                except Exception as exc:
                    self._placing.failed(exc)
                    for room_id in batch:
                        self._unplaced.setdefault(room_id, set()).update(heard[room_id])
                    await asyncio.sleep(self._limits.retry_s)
                    self._place_now.set()
                    continue
                self._placing.succeeded()
                for room_id, workspace_id in found.items():
                    self._rooms.put(room_id, workspace_id)
                    self._notify(workspace_id, room_id, heard[room_id])

    async def _retry_when_due(self) -> None:
        """The one timer: starts endpoints whose back-off is over and that have work."""
        while True:
            self._due_changed.clear()
            soonest: float | None = None
            for webhook_id in list(self._pending):
                webhook = self._held.get(webhook_id)
                if webhook is None or webhook_id in self._running:
                    continue
                wait = self._until_due(webhook)
                if wait <= 0:
                    self._start(webhook_id)
                elif soonest is None or wait < soonest:
                    soonest = wait
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._due_changed.wait(), soonest)
