"""Domain services over a real store (SQLite file, or a throwaway PostgreSQL database)."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from datetime import timedelta

import pytest
from argon2 import PasswordHasher

from roomchat.domain.messages import MessageLimits, MessageService
from roomchat.domain.models import User
from roomchat.domain.rooms import RoomService
from roomchat.domain.users import UserService
from roomchat.domain.workspaces import WorkspaceService
from roomchat.store import Store
from roomchat.store.migrate import upgrade
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

    async def user(self, name: str = "user") -> User:
        username = f"{name}_{uuid.uuid4().hex[:8]}"
        return await self.users.register(username, "password-123", None)


def cheap_hasher() -> PasswordHasher:
    """Argon2 at its cheapest: these tests are about the rules, not the hash's strength."""
    return PasswordHasher(time_cost=1, memory_cost=64, parallelism=1)


@pytest.fixture
async def domain(store_url: str) -> AsyncIterator[Domain]:
    store = Store.connect(store_url)
    workspaces = WorkspaceService(store)
    rooms = RoomService(store, workspaces, 5, timedelta(minutes=15), hasher=cheap_hasher())
    messages = MessageService(store, rooms, "unit", limits=MessageLimits())
    messages.start()
    try:
        yield Domain(
            store,
            UserService(store, hasher=cheap_hasher()),
            workspaces,
            rooms,
            messages,
        )
    finally:
        await messages.close()
        await store.close()
