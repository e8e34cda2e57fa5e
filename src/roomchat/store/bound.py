"""The repositories of one open transaction (domain/ports.py: ``RoomTransaction``): each
holds the transaction's connection, so the domain writes through them without ever
holding a connection itself."""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import TYPE_CHECKING

from sqlalchemy.ext.asyncio import AsyncConnection

from roomchat.domain.models import Content, Message, Room, Workspace
from roomchat.domain.records import (
    ChangeTarget,
    Mentioned,
    RevokedKey,
    RoomChanges,
    StoredEvent,
)
from roomchat.store import event_log, reactions, threads
from roomchat.store import mentions as mention_rows
from roomchat.store import messages as message_rows
from roomchat.store.webhook_removal import delete_workspace_webhooks

if TYPE_CHECKING:
    from roomchat.store import Store
    from roomchat.store.transaction import Transaction


class _Bound:
    __slots__ = ("_conn", "_store")

    def __init__(self, conn: AsyncConnection, store: Store) -> None:
        self._conn = conn
        self._store = store


class BoundMessages(_Bound):
    __slots__ = ("_tx",)

    def __init__(self, tx: Transaction, store: Store) -> None:
        super().__init__(tx.conn, store)
        self._tx = tx

    async def current(self, message_id: int) -> Message:
        return await message_rows.current(self._conn, message_id)

    async def edit(self, message_id: int, text: str, content: Content, now: datetime) -> None:
        await message_rows.edit(self._conn, message_id, text, content, now)

    async def tombstone(self, message_id: int, now: datetime) -> None:
        await message_rows.tombstone(self._conn, message_id, now)

    async def target(self, message_id: int, actor_id: int) -> ChangeTarget | None:
        return await message_rows.target(self._conn, message_id, actor_id)


class BoundReactions(_Bound):
    __slots__ = ()

    async def has(self, message_id: int, user_id: int, reaction: str) -> bool:
        return await reactions.has(self._conn, message_id, user_id, reaction)

    async def is_given(self, message_id: int, reaction: str) -> bool:
        return await reactions.is_given(self._conn, message_id, reaction)

    async def distinct_count(self, message_id: int) -> int:
        return await reactions.distinct_count(self._conn, message_id)

    async def add(self, message_id: int, user_id: int, reaction: str, now: datetime) -> None:
        await reactions.add(self._conn, message_id, user_id, reaction, now)

    async def remove(self, message_id: int, user_id: int, reaction: str) -> bool:
        return await reactions.remove(self._conn, message_id, user_id, reaction)


class BoundMentions(_Bound):
    __slots__ = ()

    async def replace(self, message: Message, mentioned: Mentioned) -> list[int]:
        return await mention_rows.replace(self._conn, message, mentioned)


class BoundThreads(_Bound):
    __slots__ = ()

    async def follow_unless_unfollowed(
        self, room_id: int, root_id: int, user_ids: Collection[int]
    ) -> None:
        await threads.follow_unless_unfollowed(self._conn, room_id, root_id, user_ids)


class BoundEventLog(_Bound):
    __slots__ = ("_tx",)

    def __init__(self, tx: Transaction, store: Store) -> None:
        super().__init__(tx.conn, store)
        self._tx = tx

    async def message_events(
        self, room_id: int, message_seq: int, message_id: int
    ) -> list[StoredEvent]:
        return await event_log.message_events(self._conn, room_id, message_seq, message_id)

    async def rewrite(self, room_id: int, data: dict[int, bytes]) -> None:
        await event_log.rewrite(self._conn, room_id, data)


class BoundRooms(_Bound):
    __slots__ = ()

    async def join(self, room_id: int, user_id: int) -> datetime | None:
        return await self._store.rooms.join(self._conn, room_id, user_id)

    async def remove_member(self, room_id: int, user_id: int) -> bool:
        return await self._store.rooms.remove_member(self._conn, room_id, user_id)

    async def change(self, room_id: int, changes: RoomChanges) -> Room | None:
        return await self._store.rooms.change(self._conn, room_id, changes)

    async def mark_deleted(self, room_id: int) -> bool:
        return await self._store.rooms.mark_deleted(self._conn, room_id)


class BoundApiKeys(_Bound):
    __slots__ = ()

    async def revoke(
        self, key_id: int, workspace_id: int | None, now: datetime
    ) -> RevokedKey | None:
        return await self._store.api_keys.revoke(self._conn, key_id, workspace_id, now)

    async def revoke_all(self, workspace_id: int, now: datetime) -> None:
        await self._store.api_keys.revoke_all(self._conn, workspace_id, now)


class BoundWorkspaces(_Bound):
    __slots__ = ()

    async def leave(self, workspace_id: int, user_id: int, role: str) -> list[int] | None:
        return await self._store.workspaces.leave(self._conn, workspace_id, user_id, role)

    async def transfer_owner(
        self,
        workspace_id: int,
        owner_id: int,
        new_owner_id: int,
        roles: tuple[str, str],
        owned_limit: int,
        promotable: tuple[str, ...] = (),
    ) -> Workspace | None:
        return await self._store.workspaces.transfer_owner(
            self._conn, workspace_id, owner_id, new_owner_id, roles, owned_limit, promotable
        )

    async def with_role(self, workspace_id: int, role: str) -> list[int]:
        return await self._store.workspaces.with_role(self._conn, workspace_id, role)

    async def delete_webhooks(self, workspace_id: int) -> int:
        return await delete_workspace_webhooks(self._conn, workspace_id)
