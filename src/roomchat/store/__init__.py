"""Storage: the one place that talks SQL."""

from __future__ import annotations

from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field

from sqlalchemy.ext.asyncio import AsyncEngine

from roomchat.store.api_keys import ApiKeyRepo
from roomchat.store.database import Timeouts, create_engine, is_unavailable, ping
from roomchat.store.event_log import EventLog
from roomchat.store.invitations import InvitationRepo
from roomchat.store.messages import MessageRepo
from roomchat.store.read_state import ReadStateRepo
from roomchat.store.rooms import RoomRepo
from roomchat.store.snapshot import Snapshot, snapshot, snapshots_of
from roomchat.store.threads import ThreadRepo
from roomchat.store.tokens import TokenRepo
from roomchat.store.transaction import Transaction, transaction
from roomchat.store.users import UserRepo
from roomchat.store.webhooks import WebhookRepo
from roomchat.store.workspaces import WorkspaceRepo


@dataclass
class Store:
    engine: AsyncEngine
    users: UserRepo = field(init=False)
    workspaces: WorkspaceRepo = field(init=False)
    invitations: InvitationRepo = field(init=False)
    rooms: RoomRepo = field(init=False)
    messages: MessageRepo = field(init=False)
    tokens: TokenRepo = field(init=False)
    events: EventLog = field(init=False)
    reads: ReadStateRepo = field(init=False)
    threads: ThreadRepo = field(init=False)
    api_keys: ApiKeyRepo = field(init=False)
    webhooks: WebhookRepo = field(init=False)
    _snapshots: AsyncEngine = field(init=False, repr=False)
    timeouts: Timeouts = field(default_factory=Timeouts)

    def __post_init__(self) -> None:
        self.users = UserRepo(self.engine)
        self.workspaces = WorkspaceRepo(self.engine)
        self.invitations = InvitationRepo(self.engine)
        self.rooms = RoomRepo(self.engine)
        self.messages = MessageRepo(self.engine)
        self.tokens = TokenRepo(self.engine)
        self.events = EventLog(self.engine)
        self.reads = ReadStateRepo(self.engine)
        self.threads = ThreadRepo(self.engine)
        self.api_keys = ApiKeyRepo(self.engine)
        self.webhooks = WebhookRepo(self.engine)
        self._snapshots = snapshots_of(self.engine)

    @classmethod
    def connect(cls, url: str, pool_size: int = 10, timeouts: Timeouts | None = None) -> Store:
        timeouts = timeouts or Timeouts()
        return cls(create_engine(url, pool_size, timeouts), timeouts)

    def transaction(self) -> AbstractAsyncContextManager[Transaction]:
        """A write transaction for several repositories (and the outbox) at once."""
        return transaction(self)

    def snapshot(self) -> AbstractAsyncContextManager[Snapshot]:
        """Reads that all see one point in time (a join reply: state and seq agree)."""
        return snapshot(self._snapshots)

    def is_unavailable(self, exc: BaseException) -> bool:
        """Whether ``exc`` says the database is down or too slow (not a bad request)."""
        return is_unavailable(exc)

    async def ping(self) -> None:
        """A round trip to the database within the readiness timeout, else TimeoutError."""
        await ping(self.engine, self.timeouts.readiness_s)

    async def close(self) -> None:
        await self.engine.dispose()
