"""API key rows, with the bot user and the workspace membership each key comes with."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, insert, select, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.models import ApiKey, User
from roomchat.domain.records import BotNameTaken as BotNameTaken
from roomchat.domain.records import KeyHolder as KeyHolder
from roomchat.domain.records import NewKey as NewKey
from roomchat.domain.records import RevokedKey as RevokedKey
from roomchat.domain.records import TooManyKeys as TooManyKeys
from roomchat.store.database import reads_of
from roomchat.store.rows import USER_COLUMNS, user_from
from roomchat.store.tables import api_keys, users, workspace_members, workspaces


def _key_from(row: Any) -> ApiKey:
    m = row._mapping
    return ApiKey(
        id=m["id"],
        workspace_id=m["workspace_id"],
        name=m["name"],
        prefix=m["prefix"],
        bot=user_from(row, "u_"),
        created_at=m["created_at"],
        last_used_at=m["last_used_at"],
        revoked_at=m["revoked_at"],
    )


def _keys_with_bots() -> Select[Any]:
    """Keys joined with their bots (the columns _key_from reads)."""
    bot = [column.label(f"u_{column.name}") for column in USER_COLUMNS]
    return select(*api_keys.c, *bot).join(users, users.c.id == api_keys.c.user_id)


class ApiKeyRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def create(self, new: NewKey, limit: int, now: datetime) -> ApiKey:
        """The key, its bot user and the bot's membership, in one transaction.

        LookupError: no such workspace; TooManyKeys: ``limit`` unrevoked keys already;
        BotNameTaken: try again with another bot username.
        """
        try:
            async with self._engine.begin() as conn:
                await _lock_workspace(conn, new.workspace_id)
                if await _count(conn, _unrevoked_in(new.workspace_id)) >= limit:
                    raise TooManyKeys()
                bot_id = (
                    await conn.execute(
                        insert(users)
                        .values(
                            username=new.bot_username,
                            username_key=new.bot_username_key,
                            display_name=new.name,
                            password_hash=new.bot_password_hash,
                            created_at=now,
                        )
                        .returning(users.c.id)
                    )
                ).scalar_one()
                await conn.execute(
                    insert(workspace_members).values(
                        workspace_id=new.workspace_id,
                        user_id=bot_id,
                        role=new.bot_role,
                        joined_at=now,
                    )
                )
                key_id = (
                    await conn.execute(
                        insert(api_keys)
                        .values(
                            workspace_id=new.workspace_id,
                            user_id=bot_id,
                            name=new.name,
                            prefix=new.prefix,
                            key_hash=new.key_hash,
                            created_at=now,
                        )
                        .returning(api_keys.c.id)
                    )
                ).scalar_one()
        except IntegrityError as exc:
            # The workspace is locked and a key hash is 256 random bits: only the
            # bot's random username can have collided.
            raise BotNameTaken() from exc
        bot = User(id=bot_id, username=new.bot_username, display_name=new.name, avatar_url=None)
        return ApiKey(key_id, new.workspace_id, new.name, new.prefix, bot, now, None, None)

    async def of_workspace(self, workspace_id: int) -> list[ApiKey]:
        query = _keys_with_bots().where(api_keys.c.workspace_id == workspace_id)
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query.order_by(api_keys.c.id))).all()
        return [_key_from(row) for row in rows]

    async def revoke(
        self, conn: AsyncConnection, key_id: int, workspace_id: int | None, now: datetime
    ) -> RevokedKey | None:
        """Revoke the key (of ``workspace_id``, when given) in the caller's transaction;
        None when there is no such key. Revoking a revoked key keeps its first
        revocation time."""
        where = _the_key(key_id, workspace_id)
        await conn.execute(
            update(api_keys).where(*where, api_keys.c.revoked_at.is_(None)).values(revoked_at=now)
        )
        row = (
            await conn.execute(select(api_keys.c.workspace_id, api_keys.c.user_id).where(*where))
        ).first()
        return RevokedKey(key_id, row.workspace_id, row.user_id) if row else None

    async def revoke_all(self, conn: AsyncConnection, workspace_id: int, now: datetime) -> None:
        """Revoke every key of the workspace still in use, in the caller's transaction."""
        await conn.execute(
            update(api_keys).where(_unrevoked_in(workspace_id)).values(revoked_at=now)
        )

    async def is_bot(self, user_id: int) -> bool:
        """Whether the user is a key's bot (the key revoked or not)."""
        query = select(api_keys.c.id).where(api_keys.c.user_id == user_id)
        async with self._reads.connect() as conn:
            return (await conn.execute(query)).first() is not None

    async def get(self, key_id: int) -> ApiKey | None:
        async with self._reads.connect() as conn:
            row = (await conn.execute(_keys_with_bots().where(api_keys.c.id == key_id))).first()
        return _key_from(row) if row else None

    async def holder(self, key_hash: str) -> KeyHolder | None:
        """The unrevoked key with this hash and its bot: read on every request made with
        a key, so a revocation counts on every instance from its commit on."""
        query = (
            select(
                api_keys.c.id.label("key_id"),
                api_keys.c.workspace_id,
                api_keys.c.last_used_at,
                *USER_COLUMNS,
            )
            .join(users, users.c.id == api_keys.c.user_id)
            .where(api_keys.c.key_hash == key_hash, api_keys.c.revoked_at.is_(None))
        )
        async with self._reads.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return KeyHolder(row.key_id, row.workspace_id, user_from(row), row.last_used_at)

    async def touch(self, key_id: int, now: datetime) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                update(api_keys).where(api_keys.c.id == key_id).values(last_used_at=now)
            )


def _the_key(key_id: int, workspace_id: int | None) -> list[ColumnElement[bool]]:
    where = [api_keys.c.id == key_id]
    if workspace_id is not None:
        where.append(api_keys.c.workspace_id == workspace_id)
    return where


def _unrevoked_in(workspace_id: int) -> ColumnElement[bool]:
    return (api_keys.c.workspace_id == workspace_id) & api_keys.c.revoked_at.is_(None)


async def _count(conn: AsyncConnection, condition: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(api_keys).where(condition)
    return int((await conn.execute(query)).scalar_one())


async def _lock_workspace(conn: AsyncConnection, workspace_id: int) -> None:
    """Serialise key creation per workspace so its bound holds under concurrent
    requests (PostgreSQL: the workspace row's lock; SQLite has one writer already).
    LookupError when there is no such workspace."""
    query = select(workspaces.c.id).where(workspaces.c.id == workspace_id)
    if conn.dialect.name == "postgresql":
        query = query.with_for_update()
    if (await conn.execute(query)).first() is None:
        raise LookupError("no such workspace")
