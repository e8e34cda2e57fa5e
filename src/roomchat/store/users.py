"""User rows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from roomchat.domain.models import User
from roomchat.domain.records import Credentials as Credentials
from roomchat.domain.records import UsernameTaken as UsernameTaken
from roomchat.store.database import reads_of
from roomchat.store.rows import USER_COLUMNS, user_from
from roomchat.store.tables import users


class UserRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def create(
        self, username: str, username_key: str, display_name: str, password_hash: str
    ) -> User:
        try:
            async with self._engine.begin() as conn:
                result = await conn.execute(
                    insert(users)
                    .values(
                        username=username,
                        username_key=username_key,
                        display_name=display_name,
                        password_hash=password_hash,
                        created_at=datetime.now(UTC),
                    )
                    .returning(users.c.id)
                )
                user_id = result.scalar_one()
        except IntegrityError as exc:
            raise UsernameTaken(username) from exc
        return User(id=user_id, username=username, display_name=display_name, avatar_url=None)

    async def credentials(self, username: str) -> Credentials | None:
        if "\x00" in username:  # PostgreSQL cannot even compare text with NUL in it
            return None
        async with self._reads.connect() as conn:
            row = (
                await conn.execute(
                    select(*USER_COLUMNS, users.c.password_hash).where(users.c.username == username)
                )
            ).first()
        if row is None:
            return None
        return Credentials(user_from(row), row.password_hash)

    async def get(self, user_id: int) -> User | None:
        async with self._reads.connect() as conn:
            row = (await conn.execute(select(*USER_COLUMNS).where(users.c.id == user_id))).first()
        return user_from(row) if row else None

    async def by_username(self, username: str) -> User | None:
        if "\x00" in username:
            return None
        async with self._reads.connect() as conn:
            row = (
                await conn.execute(select(*USER_COLUMNS).where(users.c.username == username))
            ).first()
        return user_from(row) if row else None

    async def update_password_hash(self, user_id: int, password_hash: str) -> None:
        async with self._engine.begin() as conn:
            await conn.execute(
                users.update().where(users.c.id == user_id).values(password_hash=password_hash)
            )

    async def update_profile(
        self, user_id: int, display_name: str | None, avatar_url: str | None
    ) -> User | None:
        """Set what is given (None leaves it); the user after it, None for no such user."""
        values: dict[str, str] = {}
        if display_name is not None:
            values["display_name"] = display_name
        if avatar_url is not None:
            values["avatar_url"] = avatar_url
        async with self._engine.begin() as conn:
            if values:
                await conn.execute(users.update().where(users.c.id == user_id).values(**values))
            row = (await conn.execute(select(*USER_COLUMNS).where(users.c.id == user_id))).first()
        return user_from(row) if row else None
