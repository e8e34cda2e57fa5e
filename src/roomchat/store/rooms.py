"""Room, room-membership and passcode-failure rows."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, delete, exists, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.models import DIRECT, ROOM, Room, RoomUser, RoomView
from roomchat.domain.records import DirectRefused
from roomchat.domain.records import RoomAccess as RoomAccess
from roomchat.domain.records import RoomChanges as RoomChanges
from roomchat.domain.records import RoomLimits as RoomLimits
from roomchat.domain.records import TooManyRooms as TooManyRooms
from roomchat.store.database import reads_of
from roomchat.store.rows import USER_COLUMNS, direct_members_of, room_from, user_from
from roomchat.store.tables import (
    passcode_failures,
    room_users,
    rooms,
    users,
    workspace_members,
    workspaces,
)

# Every read of a room skips deleted ones: to everyone, a deleted room is not found.
_LIVE = rooms.c.deleted_at.is_(None)
_IS_ROOM = rooms.c.kind == ROOM


class RoomRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def create(
        self,
        workspace_id: int,
        name: str,
        created_by: int,
        passcode_hash: str | None,
        join_token: str,
        limits: RoomLimits,
    ) -> Room:
        """The room, its creator its first member; TooManyRooms past a bound."""
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            await _lock_workspace(conn, workspace_id)
            # Direct conversations have their own bound (``direct``).
            in_workspace = (rooms.c.workspace_id == workspace_id) & _LIVE & _IS_ROOM
            if await _count(conn, in_workspace) >= limits.per_workspace:
                raise TooManyRooms(by_creator=False)
            if await _count(conn, in_workspace & (rooms.c.created_by == created_by)) >= (
                limits.per_creator
            ):
                raise TooManyRooms(by_creator=True)
            result = await conn.execute(
                insert(rooms)
                .values(
                    workspace_id=workspace_id,
                    name=name,
                    created_by=created_by,
                    passcode_hash=passcode_hash,
                    join_token=join_token,
                    last_seq=0,
                    created_at=now,
                )
                .returning(rooms.c.id)
            )
            room_id = result.scalar_one()
            await conn.execute(
                insert(room_users).values(room_id=room_id, user_id=created_by, joined_at=now)
            )
        return Room(
            id=room_id,
            workspace_id=workspace_id,
            name=name,
            created_by=created_by,
            join_token=join_token,
            has_passcode=passcode_hash is not None,
            created_at=now,
        )

    async def in_workspace(
        self,
        workspace_id: int,
        user_id: int,
        after: int = 0,
        limit: int | None = None,
        kind: str | None = None,
    ) -> list[RoomView]:
        """The workspace's rooms the user may see, by id, after room ``after`` and at most
        ``limit`` of them (None: all), each with whether the user is a member: every
        room of kind ``room``, and the direct conversations the user is in (``kind``:
        only that kind). One query."""
        member = room_users.c.user_id.is_not(None)
        visible = {ROOM: _IS_ROOM, DIRECT: (rooms.c.kind == DIRECT) & member}
        shown = visible[kind] if kind is not None else (visible[ROOM] | visible[DIRECT])
        query = (
            select(rooms, room_users.c.user_id.label("member_id"))
            .outerjoin(
                room_users,
                (room_users.c.room_id == rooms.c.id) & (room_users.c.user_id == user_id),
            )
            .where(rooms.c.workspace_id == workspace_id, rooms.c.id > after, _LIVE, shown)
            .order_by(rooms.c.id)
            .limit(limit)
        )
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [RoomView(room_from(row), row.member_id is not None) for row in rows]

    async def direct(
        self,
        workspace_id: int,
        created_by: int,
        user_ids: Sequence[int],
        join_token: str,
        per_creator: int,
    ) -> tuple[Room, bool]:
        """The one live direct conversation of exactly ``user_ids`` (the creator among
        them) in the workspace, made if there is none: (room, made now). Each of them
        its member, no event (nobody joined: it begins with them in it).

        Raises DirectRefused: one of them is not a member of the workspace, or the
        creator made ``per_creator`` of them there already. Race-free: the workspace's
        lock serialises creations, and the unique (workspace_id, direct_key) index
        holds even without it (a concurrent insert that got past loses, and reads the
        winner's)."""
        key = direct_members_of(user_ids)
        found = await self._direct_by_key(workspace_id, key)
        if found is not None:
            return found, False
        now = datetime.now(UTC)
        try:
            async with self._engine.begin() as conn:
                await _lock_workspace(conn, workspace_id)
                again = await _direct_by_key(conn, workspace_id, key)
                if again is not None:
                    return again, False
                members = select(func.count()).where(
                    workspace_members.c.workspace_id == workspace_id,
                    workspace_members.c.user_id.in_(list(user_ids)),
                )
                if int((await conn.execute(members)).scalar_one()) != len(set(user_ids)):
                    raise DirectRefused(not_members=True)
                made = (
                    (rooms.c.workspace_id == workspace_id)
                    & (rooms.c.kind == DIRECT)
                    & (rooms.c.created_by == created_by)
                    & _LIVE
                )
                if await _count(conn, made) >= per_creator:
                    raise DirectRefused(not_members=False)
                room_id = (
                    await conn.execute(
                        insert(rooms)
                        .values(
                            workspace_id=workspace_id,
                            name="",
                            created_by=created_by,
                            passcode_hash=None,
                            join_token=join_token,
                            last_seq=0,
                            created_at=now,
                            kind=DIRECT,
                            direct_members=key,
                            direct_key=key,
                        )
                        .returning(rooms.c.id)
                    )
                ).scalar_one()
                await conn.execute(
                    insert(room_users),
                    [
                        {"room_id": room_id, "user_id": user_id, "joined_at": now}
                        for user_id in sorted(set(user_ids))
                    ],
                )
        except IntegrityError:
            found = await self._direct_by_key(workspace_id, key)
            if found is None:
                raise
            return found, False
        made_room = Room(
            id=room_id,
            workspace_id=workspace_id,
            name="",
            created_by=created_by,
            join_token=join_token,
            has_passcode=False,
            created_at=now,
            kind=DIRECT,
            member_ids=tuple(sorted(set(user_ids))),
        )
        return made_room, True

    async def _direct_by_key(self, workspace_id: int, key: str) -> Room | None:
        async with self._reads.connect() as conn:
            return await _direct_by_key(conn, workspace_id, key)

    async def by_token(self, join_token: str) -> Room | None:
        # A direct conversation's token is never shown, and no link opens one.
        query = select(rooms).where(rooms.c.join_token == join_token, _LIVE, _IS_ROOM)
        async with self._reads.connect() as conn:
            row = (await conn.execute(query)).first()
        return room_from(row) if row else None

    async def access(self, room_id: int, user_id: int) -> RoomAccess | None:
        query = (
            select(
                rooms,
                workspace_members.c.role,
                room_users.c.user_id.label("member_id"),
            )
            .outerjoin(
                workspace_members,
                (workspace_members.c.workspace_id == rooms.c.workspace_id)
                & (workspace_members.c.user_id == user_id),
            )
            .outerjoin(
                room_users,
                (room_users.c.room_id == rooms.c.id) & (room_users.c.user_id == user_id),
            )
            .where(rooms.c.id == room_id, _LIVE)
        )
        async with self._reads.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return RoomAccess(room_from(row), row.passcode_hash, row.role, row.member_id is not None)

    async def is_member(self, room_id: int, user_id: int) -> bool:
        async with self._reads.connect() as conn:
            return await _is_member(conn, room_id, user_id)

    async def join(self, conn: AsyncConnection, room_id: int, user_id: int) -> datetime | None:
        """Make the user a member in the caller's transaction: when they joined, or None
        when they already were (a concurrent insert raises IntegrityError)."""
        if await _is_member(conn, room_id, user_id):
            return None
        joined_at = datetime.now(UTC)
        await conn.execute(
            insert(room_users).values(room_id=room_id, user_id=user_id, joined_at=joined_at)
        )
        return joined_at

    async def remove_member(self, conn: AsyncConnection, room_id: int, user_id: int) -> bool:
        """Whether the user was a member (and now is not)."""
        removed = await conn.execute(
            delete(room_users).where(
                room_users.c.room_id == room_id, room_users.c.user_id == user_id
            )
        )
        return bool(removed.rowcount)

    async def change(
        self, conn: AsyncConnection, room_id: int, changes: RoomChanges
    ) -> Room | None:
        """Apply ``changes`` (at least one) to a room not deleted; the room as it is now,
        or None."""
        values: dict[str, Any] = {}
        if changes.name is not None:
            values["name"] = changes.name
        if changes.passcode_hash is not None:
            values["passcode_hash"] = changes.passcode_hash
        elif changes.clear_passcode:
            values["passcode_hash"] = None
        if changes.join_token is not None:
            values["join_token"] = changes.join_token
        query = update(rooms).where(rooms.c.id == room_id, _LIVE).values(values)
        row = (await conn.execute(query.returning(*rooms.c))).first()
        return room_from(row) if row else None

    async def mark_deleted(self, conn: AsyncConnection, room_id: int) -> bool:
        """Delete the room (kept, with its log, but never read again); False if it was."""
        deleted = await conn.execute(
            update(rooms).where(rooms.c.id == room_id, _LIVE).values(deleted_at=datetime.now(UTC))
        )
        return bool(deleted.rowcount)

    async def member(self, room_id: int, user_id: int) -> RoomUser | None:
        query = (
            select(*USER_COLUMNS, room_users.c.joined_at)
            .join(users, users.c.id == room_users.c.user_id)
            .where(room_users.c.room_id == room_id, room_users.c.user_id == user_id)
        )
        async with self._reads.connect() as conn:
            row = (await conn.execute(query)).first()
        return RoomUser(room_id, user_from(row), row.joined_at) if row else None

    async def members(self, room_id: int) -> list[RoomUser]:
        query = (
            select(*USER_COLUMNS, room_users.c.joined_at)
            .join(users, users.c.id == room_users.c.user_id)
            .where(room_users.c.room_id == room_id)
            .order_by(room_users.c.joined_at, users.c.id)
        )
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [RoomUser(room_id, user_from(row), row.joined_at) for row in rows]

    async def members_by_key(self, room_id: int, keys: Collection[str]) -> dict[str, int]:
        """The room's members whose username's look-alike key is one of ``keys``: key ->
        user id (the key is unique per user)."""
        if not keys:
            return {}
        query = (
            select(users.c.username_key, users.c.id)
            .join(room_users, room_users.c.user_id == users.c.id)
            .where(room_users.c.room_id == room_id, users.c.username_key.in_(list(keys)))
        )
        async with self._reads.connect() as conn:
            return {row.username_key: int(row.id) for row in await conn.execute(query)}

    async def member_ids(self, room_id: int) -> list[int]:
        query = select(room_users.c.user_id).where(room_users.c.room_id == room_id)
        async with self._reads.connect() as conn:
            return sorted(int(user_id) for user_id in (await conn.execute(query)).scalars())

    async def member_count(self, room_id: int) -> int:
        query = select(func.count()).where(room_users.c.room_id == room_id)
        async with self._reads.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def last_seq(self, room_id: int) -> int:
        async with self._reads.connect() as conn:
            value = (
                await conn.execute(select(rooms.c.last_seq).where(rooms.c.id == room_id))
            ).scalar_one_or_none()
        return int(value or 0)

    async def last_seqs(self, room_ids: list[int]) -> dict[int, int]:
        """Each room's seq counter, for many rooms in one query."""
        found: dict[int, int] = {}
        async with self._reads.connect() as conn:
            for start in range(0, len(room_ids), 1000):
                chunk = room_ids[start : start + 1000]
                query = select(rooms.c.id, rooms.c.last_seq).where(rooms.c.id.in_(chunk))
                found.update({row.id: int(row.last_seq) for row in await conn.execute(query)})
        return found

    async def passcode_failures_since(self, room_id: int, user_id: int, since: datetime) -> int:
        query = select(func.count()).where(
            passcode_failures.c.room_id == room_id,
            passcode_failures.c.user_id == user_id,
            passcode_failures.c.failed_at >= since,
        )
        async with self._reads.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def record_passcode_failure(
        self, room_id: int, user_id: int, prune_before: datetime
    ) -> int:
        async with self._engine.begin() as conn:
            # Old failures no longer count; drop them so the table stays small.
            await conn.execute(
                delete(passcode_failures).where(
                    passcode_failures.c.room_id == room_id,
                    passcode_failures.c.user_id == user_id,
                    passcode_failures.c.failed_at < prune_before,
                )
            )
            result = await conn.execute(
                insert(passcode_failures)
                .values(room_id=room_id, user_id=user_id, failed_at=datetime.now(UTC))
                .returning(passcode_failures.c.id)
            )
            return int(result.scalar_one())

    async def forget_passcode_failure(self, failure_id: int) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                delete(passcode_failures).where(passcode_failures.c.id == failure_id)
            )


async def _count(conn: AsyncConnection, condition: ColumnElement[bool]) -> int:
    return int((await conn.execute(select(func.count()).where(condition))).scalar_one())


async def _lock_workspace(conn: AsyncConnection, workspace_id: int) -> None:
    """Serialise room creation per workspace so its bounds hold under concurrent
    requests (PostgreSQL: the workspace row's lock; SQLite has one writer already)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(
            select(workspaces.c.id).where(workspaces.c.id == workspace_id).with_for_update()
        )


async def _direct_by_key(conn: AsyncConnection, workspace_id: int, key: str) -> Room | None:
    query = select(rooms).where(
        rooms.c.workspace_id == workspace_id, rooms.c.direct_key == key, _LIVE
    )
    row = (await conn.execute(query)).first()
    return room_from(row) if row else None


async def _is_member(conn: AsyncConnection, room_id: int, user_id: int) -> bool:
    query = select(exists().where(room_users.c.room_id == room_id, room_users.c.user_id == user_id))
    return bool((await conn.execute(query)).scalar())
