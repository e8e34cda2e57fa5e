"""Workspace and workspace-membership rows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from roomchat.domain.models import User, Workspace, WorkspaceMember
from roomchat.store.database import reads_of
from roomchat.store.rows import USER_COLUMNS, user_from
from roomchat.store.tables import users, workspace_members, workspaces


class AlreadyMember(Exception):
    pass


class WorkspaceRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def create(self, name: str, owner_id: int) -> Workspace:
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            result = await conn.execute(
                insert(workspaces)
                .values(name=name, owner_id=owner_id, created_at=now)
                .returning(workspaces.c.id)
            )
            workspace_id = result.scalar_one()
            await conn.execute(
                insert(workspace_members).values(
                    workspace_id=workspace_id, user_id=owner_id, role="owner", joined_at=now
                )
            )
        return Workspace(id=workspace_id, name=name, owner_id=owner_id, created_at=now)

    async def get(self, workspace_id: int) -> Workspace | None:
        async with self._reads.connect() as conn:
            row = (
                await conn.execute(select(workspaces).where(workspaces.c.id == workspace_id))
            ).first()
        return Workspace(**row._mapping) if row else None

    async def of_user(self, user_id: int) -> list[Workspace]:
        query = (
            select(workspaces)
            .join(workspace_members, workspace_members.c.workspace_id == workspaces.c.id)
            .where(workspace_members.c.user_id == user_id)
            .order_by(workspaces.c.id)
        )
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [Workspace(**row._mapping) for row in rows]

    async def role(self, workspace_id: int, user_id: int) -> str | None:
        query = select(workspace_members.c.role).where(
            workspace_members.c.workspace_id == workspace_id,
            workspace_members.c.user_id == user_id,
        )
        async with self._reads.connect() as conn:
            return (await conn.execute(query)).scalar_one_or_none()

    async def add_member(self, workspace_id: int, user: User, role: str) -> WorkspaceMember:
        now = datetime.now(UTC)
        try:
            async with self._engine.begin() as conn:
                await conn.execute(
                    insert(workspace_members).values(
                        workspace_id=workspace_id, user_id=user.id, role=role, joined_at=now
                    )
                )
        except IntegrityError as exc:
            raise AlreadyMember() from exc
        return WorkspaceMember(workspace_id=workspace_id, user=user, role=role, joined_at=now)

    async def members(self, workspace_id: int) -> list[WorkspaceMember]:
        query = (
            select(*USER_COLUMNS, workspace_members.c.role, workspace_members.c.joined_at)
            .join(users, users.c.id == workspace_members.c.user_id)
            .where(workspace_members.c.workspace_id == workspace_id)
            .order_by(workspace_members.c.joined_at, users.c.id)
        )
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            WorkspaceMember(workspace_id, user_from(row), row.role, row.joined_at) for row in rows
        ]
