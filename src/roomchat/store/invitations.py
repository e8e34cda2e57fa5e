"""Pending workspace invitations: created by an owner, answered by the invitee."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import case, delete, exists, func, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.sql import ColumnElement
from sqlalchemy.sql.expression import FromClause

from roomchat.domain.models import Invitation, PendingInvitation, Workspace
from roomchat.domain.records import InvitationLimits as InvitationLimits
from roomchat.domain.records import Invited as Invited
from roomchat.store.database import reads_of
from roomchat.store.rows import user_from
from roomchat.store.tables import users, workspace_invitations, workspace_members, workspaces

# Invitation ids are random, and at most 2^53 - 1: JavaScript's numbers hold every
# integer up to there exactly (the web client reads ids as numbers).
MAX_SAFE_ID = 2**53 - 1


class InvitationRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def pending_in_workspace(self, workspace_id: int, since: datetime) -> int:
        query = select(func.count()).where(
            workspace_invitations.c.workspace_id == workspace_id,
            workspace_invitations.c.created_at >= since,
        )
        async with self._reads.connect() as conn:
            return int((await conn.execute(query)).scalar_one())

    async def create(
        self,
        workspace_id: int,
        user_id: int,
        invited_by: int,
        now: datetime,
        since: datetime,
        limits: InvitationLimits,
    ) -> Invited:
        """Invite the user unless they are a member, already invited, or the workspace's
        bound is reached.

        The invitation always goes in: past the inviter's share of the user's list, it
        replaces the inviter's oldest; in a full list, it takes the place of the oldest
        from a stranger (an inviter who shares no workspace with the user), or, with
        none, the oldest. Invitations created before ``since`` have expired: they are
        dropped here, so no bound is ever held by invitations nobody answers.
        """
        try:
            async with self._engine.begin() as conn:
                await _lock(conn, workspace_id, user_id)
                await conn.execute(
                    delete(workspace_invitations).where(
                        (
                            (workspace_invitations.c.workspace_id == workspace_id)
                            | (workspace_invitations.c.user_id == user_id)
                        ),
                        workspace_invitations.c.created_at < since,
                    )
                )
                is_member = exists().where(
                    workspace_members.c.workspace_id == workspace_id,
                    workspace_members.c.user_id == user_id,
                )
                if (await conn.execute(select(is_member))).scalar():
                    return Invited.ALREADY_MEMBER
                this_one = (workspace_invitations.c.workspace_id == workspace_id) & (
                    workspace_invitations.c.user_id == user_id
                )
                if await _count(conn, this_one):
                    return Invited.ALREADY_PENDING  # before anything makes room for it
                if await _count(conn, workspace_invitations.c.workspace_id == workspace_id) >= (
                    limits.per_workspace
                ):
                    return Invited.WORKSPACE_FULL
                theirs = (workspace_invitations.c.user_id == user_id) & (
                    workspace_invitations.c.invited_by == invited_by
                )
                await _drop_oldest(conn, theirs, limits.per_inviter)
                await _drop_oldest(
                    conn,
                    workspace_invitations.c.user_id == user_id,
                    limits.per_invitee,
                    strangers_first=_strangers_to(user_id),
                )
                await conn.execute(
                    insert(workspace_invitations).values(
                        # A random id: a sequential one would tell an owner, by the gap
                        # between two invitations to their own second account, whether
                        # an invitation to someone else was created in between.
                        id=secrets.randbelow(MAX_SAFE_ID) + 1,
                        workspace_id=workspace_id,
                        user_id=user_id,
                        invited_by=invited_by,
                        created_at=now,
                    )
                )
        except IntegrityError:
            # (workspace, user) is unique: a concurrent invitation is pending (the locks
            # rule it out on PostgreSQL). A random id colliding is a one-in-2^53 chance;
            # the owner invites again.
            return Invited.ALREADY_PENDING
        return Invited.CREATED

    async def for_user(self, user_id: int, since: datetime, limit: int) -> list[Invitation]:
        return await self._of_user(user_id, since, limit)

    async def _of_user(
        self, user_id: int, since: datetime, limit: int, workspace_id: int | None = None
    ) -> list[Invitation]:
        inviter = users.alias("inviter")
        query = (
            select(
                workspace_invitations.c.id.label("invitation_id"),
                workspace_invitations.c.workspace_id,
                workspaces.c.name.label("workspace_name"),
                workspace_invitations.c.created_at,
                inviter.c.id.label("u_id"),
                inviter.c.username.label("u_username"),
                inviter.c.display_name.label("u_display_name"),
                inviter.c.avatar_url.label("u_avatar_url"),
            )
            .join(workspaces, workspaces.c.id == workspace_invitations.c.workspace_id)
            .join(inviter, inviter.c.id == workspace_invitations.c.invited_by)
            .where(
                workspace_invitations.c.user_id == user_id,
                workspace_invitations.c.created_at >= since,
            )
            .order_by(workspace_invitations.c.created_at, workspace_invitations.c.id)
            .limit(limit)
        )
        if workspace_id is not None:
            query = query.where(workspace_invitations.c.workspace_id == workspace_id)
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            Invitation(
                id=row.invitation_id,
                workspace_id=row.workspace_id,
                workspace_name=row.workspace_name,
                invited_by=user_from(row, "u_"),
                created_at=row.created_at,
            )
            for row in rows
        ]

    async def find(self, workspace_id: int, user_id: int, since: datetime) -> Invitation | None:
        """The user's pending invitation to the workspace, as they see it."""
        for invitation in await self._of_user(user_id, since, 1, workspace_id):
            return invitation
        return None

    async def in_workspace(
        self, workspace_id: int, since: datetime, limit: int, ttl: timedelta
    ) -> list[PendingInvitation]:
        """The workspace's pending invitations (made at ``since`` or later; each lapses
        ``ttl`` after it was made), oldest first, as its managers see them."""
        inviter, invitee = users.alias("inviter"), users.alias("invitee")
        query = (
            select(
                workspace_invitations.c.id.label("invitation_id"),
                workspace_invitations.c.created_at,
                *(c.label(f"u_{c.name}") for c in _user_columns(invitee)),
                *(c.label(f"i_{c.name}") for c in _user_columns(inviter)),
            )
            .join(invitee, invitee.c.id == workspace_invitations.c.user_id)
            .join(inviter, inviter.c.id == workspace_invitations.c.invited_by)
            .where(
                workspace_invitations.c.workspace_id == workspace_id,
                workspace_invitations.c.created_at >= since,
            )
            .order_by(workspace_invitations.c.created_at, workspace_invitations.c.id)
            .limit(limit)
        )
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            PendingInvitation(
                id=row.invitation_id,
                workspace_id=workspace_id,
                user=user_from(row, "u_"),
                invited_by=user_from(row, "i_"),
                created_at=row.created_at,
                expires_at=row.created_at + ttl,
            )
            for row in rows
        ]

    async def workspace_of(self, invitation_id: int, since: datetime) -> int | None:
        """The workspace a pending invitation is to; None when there is none by that id."""
        query = select(workspace_invitations.c.workspace_id).where(
            workspace_invitations.c.id == invitation_id,
            workspace_invitations.c.created_at >= since,
        )
        async with self._reads.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def cancel(self, invitation_id: int, workspace_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(workspace_invitations).where(
                    workspace_invitations.c.id == invitation_id,
                    workspace_invitations.c.workspace_id == workspace_id,
                )
            )
        return bool(result.rowcount)

    async def invitee(self, invitation_id: int, since: datetime) -> int | None:
        """Whose the pending invitation is; None when there is none by that id."""
        query = select(workspace_invitations.c.user_id).where(
            workspace_invitations.c.id == invitation_id,
            workspace_invitations.c.created_at >= since,
        )
        async with self._reads.connect() as conn:
            value = (await conn.execute(query)).scalar_one_or_none()
        return int(value) if value is not None else None

    async def accept(
        self, invitation_id: int, user_id: int, since: datetime, role: str
    ) -> Workspace | None:
        """Make the invitee a member and drop the invitation, in one transaction.

        None when the user has no pending invitation by that id (someone else's,
        answered, expired, or never made).
        """
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            removed = await conn.execute(
                delete(workspace_invitations)
                .where(
                    workspace_invitations.c.id == invitation_id,
                    workspace_invitations.c.user_id == user_id,
                    workspace_invitations.c.created_at >= since,
                )
                .returning(workspace_invitations.c.workspace_id)
            )
            workspace_id = removed.scalar_one_or_none()
            if workspace_id is None:
                return None
            is_member = exists().where(
                workspace_members.c.workspace_id == workspace_id,
                workspace_members.c.user_id == user_id,
            )
            if not (await conn.execute(select(is_member))).scalar():
                await conn.execute(
                    insert(workspace_members).values(
                        workspace_id=workspace_id, user_id=user_id, role=role, joined_at=now
                    )
                )
            row = (
                await conn.execute(select(workspaces).where(workspaces.c.id == workspace_id))
            ).one()
        return Workspace(**row._mapping)

    async def decline(self, invitation_id: int, user_id: int) -> bool:
        async with self._engine.begin() as conn:
            result = await conn.execute(
                delete(workspace_invitations).where(
                    workspace_invitations.c.id == invitation_id,
                    workspace_invitations.c.user_id == user_id,
                )
            )
        return bool(result.rowcount)


async def _count(conn: AsyncConnection, condition: ColumnElement[bool]) -> int:
    query = select(func.count()).select_from(workspace_invitations).where(condition)
    return int((await conn.execute(query)).scalar_one())


def _strangers_to(user_id: int) -> ColumnElement[bool]:
    """Whether an invitation's inviter shares no workspace with the user."""
    inviter, invitee = workspace_members.alias("inviter"), workspace_members.alias("invitee")
    return ~exists().where(
        inviter.c.user_id == workspace_invitations.c.invited_by,
        invitee.c.user_id == user_id,
        invitee.c.workspace_id == inviter.c.workspace_id,
    )


async def _drop_oldest(
    conn: AsyncConnection,
    condition: ColumnElement[bool],
    keep_fewer_than: int,
    strangers_first: ColumnElement[bool] | None = None,
) -> None:
    """Delete the oldest invitations that match until fewer than ``keep_fewer_than``
    do (room for one more); ``strangers_first``: those it holds for go before the rest."""
    over = await _count(conn, condition) - keep_fewer_than + 1
    if over <= 0:
        return
    order: list[ColumnElement[Any]] = [
        workspace_invitations.c.created_at,
        workspace_invitations.c.id,
    ]
    if strangers_first is not None:
        order.insert(0, case((strangers_first, 0), else_=1))
    oldest = select(workspace_invitations.c.id).where(condition).order_by(*order).limit(over)
    ids = list((await conn.execute(oldest)).scalars())
    await conn.execute(delete(workspace_invitations).where(workspace_invitations.c.id.in_(ids)))


async def _lock(conn: AsyncConnection, workspace_id: int, user_id: int) -> None:
    """Serialise invitations to one workspace and to one invitee, so every bound holds
    under concurrent requests: PostgreSQL row locks, always the workspace first (SQLite
    has one writer already)."""
    if conn.dialect.name == "postgresql":
        for table, row_id in ((workspaces, workspace_id), (users, user_id)):
            await conn.execute(select(table.c.id).where(table.c.id == row_id).with_for_update())


def _user_columns(table: FromClause) -> list[Any]:
    return [table.c.id, table.c.username, table.c.display_name, table.c.avatar_url]
