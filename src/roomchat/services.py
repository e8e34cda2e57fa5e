"""The running instance's parts, as the transports read them (api/deps.py, the gateway).

Built by wiring.py; starting and stopping them is the Instance's (instance.py), out of
the transports' reach.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from roomchat.avatars import Avatars
from roomchat.bus.base import Bus
from roomchat.domain.api_keys import ApiKeyService
from roomchat.domain.attachments import AttachmentService
from roomchat.domain.direct_chats import DirectChats
from roomchat.domain.messages import MessageService
from roomchat.domain.ports import EventRecorder
from roomchat.domain.rate_limits import RateLimiter
from roomchat.domain.read_state import ReadState
from roomchat.domain.replay import Replay
from roomchat.domain.rooms import RoomService
from roomchat.domain.sessions import SessionService
from roomchat.domain.threads import ThreadService
from roomchat.domain.users import UserService
from roomchat.domain.webhooks import WebhookService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.metrics import Metrics, MetricsAccess
from roomchat.outbox import Outbox
from roomchat.realtime.activity import Activity
from roomchat.realtime.fanout import Fanout
from roomchat.realtime.gateway import Gateway
from roomchat.realtime.hub import Hub
from roomchat.realtime.presence import Presence
from roomchat.realtime.sessions import SocketSessions
from roomchat.store import Store
from roomchat.webhooks.dispatcher import Dispatcher


@dataclass
class Services:
    store: Store
    bus: Bus
    outbox: Outbox | None  # None with a bus no other instance hears
    users: UserService
    workspaces: WorkspaceService
    rooms: RoomService
    direct_chats: DirectChats
    messages: MessageService
    hub: Hub
    fanout: Fanout
    gateway: Gateway
    public_base_url: str
    sessions: SessionService
    sockets: SocketSessions
    replay: Replay
    recorder: EventRecorder
    reads: ReadState
    presence: Presence
    metrics: Metrics
    metrics_access: MetricsAccess
    api_keys: ApiKeyService
    rest_sends: RateLimiter  # POST .../messages, per user (WebSocket sends: per connection)
    webhooks: WebhookService
    webhook_dispatcher: Dispatcher
    activity: Activity
    threads: ThreadService
    avatars: Avatars  # profile pictures (api/routes/users.py)
    attachments: AttachmentService | None = None  # files in messages (issue 24)

    def bus_health(self) -> dict[str, Any]:
        """The bus's report for /readyz, with the outbox's figures in it."""
        report = self.bus.health()
        if self.outbox is not None:
            report.update(self.outbox.health())
        return report
