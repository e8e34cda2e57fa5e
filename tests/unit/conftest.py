"""Domain services over a real store (SQLite file, or a throwaway PostgreSQL database)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from roomchat.domain.invitations import InvitationService
from roomchat.domain.mentions import Mentions
from roomchat.domain.messages import MessageLimits, MessageService
from roomchat.domain.models import User
from roomchat.domain.rooms import RoomService
from roomchat.domain.throttle import LoginThrottle
from roomchat.domain.users import UserService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.metrics import Metrics
from roomchat.store import Store
from roomchat.store.migrate import upgrade
from roomchat.store.recorder import Outbox, Recorder
from tests.support.databases import database_url


@pytest.fixture(scope="module", params=["sqlite", "postgres"])
def store_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """A migrated database shared by a module's tests (they use their own users and rooms)."""
    directory = tmp_path_factory.mktemp(f"store-{request.param}")
    with database_url(str(request.param), directory) as url:
        upgrade(url)
        yield url


@dataclass
class Domain:
    store: Store
    users: UserService
    workspaces: WorkspaceService
    rooms: RoomService
    messages: MessageService
    recorder: Recorder

    async def user(self, name: str = "user") -> User:
        username = f"{name}_{uuid.uuid4().hex[:8]}"
        return await self.users.register(username, "password-123", None)


def cheap_hasher() -> PasswordHasher:
    """Argon2 at its cheapest: these tests are about the rules, not the hash's strength."""
    return PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


def user_service(store: Store) -> UserService:
    # The settings' defaults; the login limits are tested through a real server.
    return UserService(
        store, LoginThrottle("10/5minutes", "50/5minutes", "20/hour"), cheap_hasher()
    )


def workspace_service(store: Store, recorder: Recorder) -> WorkspaceService:
    return WorkspaceService(store, InvitationService(store), recorder)


def room_service(
    store: Store, recorder: Recorder, workspaces: WorkspaceService | None = None
) -> RoomService:
    workspaces = workspaces or workspace_service(store, recorder)
    return RoomService(
        store, workspaces, 5, timedelta(minutes=15), hasher=cheap_hasher(), recorder=recorder
    )


def message_service(
    domain: Domain,
    origin: str = "unit",
    outbox: Outbox | None = None,
    limits: MessageLimits | None = None,
    cache_recent: bool = False,
) -> MessageService:
    """Another instance's message service over the same store and rooms (not started)."""
    return MessageService(
        domain.store,
        domain.rooms,
        Recorder(domain.store, outbox, origin),
        limits or MessageLimits(),
        metrics=Metrics(origin),
        mentions=Mentions(domain.store, origin),
        cache_recent=cache_recent,
    )


@pytest.fixture
async def domain(store_url: str) -> AsyncIterator[Domain]:
    store = Store.connect(store_url)
    recorder = Recorder(store, None, "unit")
    workspaces = workspace_service(store, recorder)
    rooms = room_service(store, recorder, workspaces)
    messages = MessageService(
        store,
        rooms,
        recorder,
        MessageLimits(),
        metrics=Metrics("unit"),
        mentions=Mentions(store, "unit"),
    )
    messages.start()
    try:
        yield Domain(store, user_service(store), workspaces, rooms, messages, recorder)
    finally:
        await messages.close()
        await store.close()
