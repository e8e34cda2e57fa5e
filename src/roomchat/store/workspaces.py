"""Workspace and workspace-membership rows."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from roomchat.domain.models import Workspace, WorkspaceMember
from roomchat.domain.records import NameTaken as NameTaken
from roomchat.domain.records import TooManyWorkspaces as TooManyWorkspaces
from roomchat.store.database import reads_of
from roomchat.store.rows import USER_COLUMNS, user_from
from roomchat.store.tables import room_users, rooms, users, workspace_members, workspaces


class WorkspaceRepo:
    def __init__(self, engine: AsyncEngine) -> None:
        self._engine = engine
        self._reads = reads_of(engine)

    async def create(self, name: str, owner_id: int, owned_limit: int) -> Workspace:
        """The workspace, its owner its first member; TooManyWorkspaces when the owner
        owns ``owned_limit`` already."""
        now = datetime.now(UTC)
        async with self._engine.begin() as conn:
            await _lock_user(conn, owner_id)
            if await _owned_by(conn, owner_id) >= owned_limit:
                raise TooManyWorkspaces()
            if await _name_taken(conn, owner_id, name):
                raise NameTaken()
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

    async def holds_role(self, user_id: int, role: str) -> bool:
        """Whether the user has ``role`` in any workspace."""
        query = select(workspace_members.c.user_id).where(
            workspace_members.c.user_id == user_id, workspace_members.c.role == role
        )
        async with self._reads.connect() as conn:
            return (await conn.execute(query.limit(1))).first() is not None

    async def leave(
        self, conn: AsyncConnection, workspace_id: int, user_id: int, role: str
    ) -> list[int] | None:
        """Drop a member who has ``role`` and their room memberships in the workspace, in
        the caller's transaction.

        The rooms (not deleted) they left, or None when they are not a member with that
        role (the owner, whose row this never deletes: a workspace always has its owner).
        """
        removed = await conn.execute(
            delete(workspace_members).where(
                workspace_members.c.workspace_id == workspace_id,
                workspace_members.c.user_id == user_id,
                workspace_members.c.role == role,
            )
        )
        if not removed.rowcount:
            return None
        in_workspace = select(rooms.c.id).where(
            rooms.c.workspace_id == workspace_id, rooms.c.deleted_at.is_(None)
        )
        left = await conn.execute(
            delete(room_users)
            .where(room_users.c.user_id == user_id, room_users.c.room_id.in_(in_workspace))
            .returning(room_users.c.room_id)
        )
        room_ids = sorted(int(room_id) for room_id in left.scalars())
        if room_ids:
            # Their direct conversations stay with the others, but no longer as the
            # conversation of that set: meeting again (say after a new invitation) makes
            # a new one, which shows nothing said while they were away.
            await conn.execute(
                update(rooms)
                .where(rooms.c.id.in_(room_ids), rooms.c.direct_key.is_not(None))
                .values(direct_key=None)
            )
        return room_ids

    async def with_role(self, conn: AsyncConnection, workspace_id: int, role: str) -> list[int]:
        """The members who have ``role`` in the workspace, in the caller's transaction."""
        query = select(workspace_members.c.user_id).where(
            workspace_members.c.workspace_id == workspace_id, workspace_members.c.role == role
        )
        return sorted(int(user_id) for user_id in (await conn.execute(query)).scalars())

    async def transfer_owner(
        self,
        conn: AsyncConnection,
        workspace_id: int,
        owner_id: int,
        new_owner_id: int,
        roles: tuple[str, str],
        owned_limit: int,
        promotable: tuple[str, ...] = (),
    ) -> Workspace | None:
        """Make a member the owner and the owner a member (``roles``: the owner's and a
        member's), in the caller's transaction, which rolls back when this does not
        return the workspace.

        None unless ``owner_id`` still owns the workspace and ``new_owner_id`` is still
        a member of it; TooManyWorkspaces when the new owner would own more than
        ``owned_limit``.
        """
        owner, member = roles
        # The member first: only then is new_owner_id known to be a user (owner_id
        # references users, and an unknown id must not reach that foreign key).
        promoted = await conn.execute(
            update(workspace_members)
            .where(
                workspace_members.c.workspace_id == workspace_id,
                workspace_members.c.user_id == new_owner_id,
                workspace_members.c.role.in_((member, *promotable)),
            )
            .values(role=owner)
        )
        if not promoted.rowcount:
            return None
        moved = await conn.execute(
            update(workspaces)
            .where(workspaces.c.id == workspace_id, workspaces.c.owner_id == owner_id)
            .values(owner_id=new_owner_id)
        )
        if not moved.rowcount:
            return None
        # Counted after the move, under the new owner's lock (always taken after the
        # workspace's, as inviting does): this one is among theirs now.
        await _lock_user(conn, new_owner_id)
        if await _owned_by(conn, new_owner_id) > owned_limit:
            raise TooManyWorkspaces()
        await conn.execute(
            update(workspace_members)
            .where(
                workspace_members.c.workspace_id == workspace_id,
                workspace_members.c.user_id == owner_id,
            )
            .values(role=member)
        )
        row = (await conn.execute(select(workspaces).where(workspaces.c.id == workspace_id))).one()
        return Workspace(**row._mapping)

    async def members(
        self, workspace_id: int, after: int = 0, limit: int | None = None
    ) -> list[WorkspaceMember]:
        """The members by user id, those after user ``after``, at most ``limit`` (None: all)."""
        query = (
            select(*USER_COLUMNS, workspace_members.c.role, workspace_members.c.joined_at)
            .join(users, users.c.id == workspace_members.c.user_id)
            .where(workspace_members.c.workspace_id == workspace_id, users.c.id > after)
            .order_by(users.c.id)
        )
        if limit is not None:
            query = query.limit(limit)
        async with self._reads.connect() as conn:
            rows = (await conn.execute(query)).all()
        return [
            WorkspaceMember(workspace_id, user_from(row), row.role, row.joined_at) for row in rows
        ]

    async def member(self, workspace_id: int, user_id: int) -> WorkspaceMember | None:
        query = (
            select(*USER_COLUMNS, workspace_members.c.role, workspace_members.c.joined_at)
            .join(users, users.c.id == workspace_members.c.user_id)
            .where(
                workspace_members.c.workspace_id == workspace_id,
                workspace_members.c.user_id == user_id,
            )
        )
        async with self._reads.connect() as conn:
            row = (await conn.execute(query)).first()
        if row is None:
            return None
        return WorkspaceMember(workspace_id, user_from(row), row.role, row.joined_at)

    async def set_role(
        self, workspace_id: int, user_id: int, role: str, changeable: tuple[str, ...]
    ) -> bool:
        """Give a member ``role`` if their role now is one of ``changeable``."""
        async with self._engine.begin() as conn:
            changed = await conn.execute(
                update(workspace_members)
                .where(
                    workspace_members.c.workspace_id == workspace_id,
                    workspace_members.c.user_id == user_id,
                    workspace_members.c.role.in_(changeable),
                )
                .values(role=role)
            )
        return bool(changed.rowcount)

    async def rename(self, workspace_id: int, owner_id: int, name: str) -> Workspace | None:
        """Rename a workspace ``owner_id`` owns; None when they do not (any more).
        NameTaken when another workspace of theirs has that name (any case)."""
        async with self._engine.begin() as conn:
            await _lock_user(conn, owner_id)
            if await _name_taken(conn, owner_id, name, workspace_id):
                raise NameTaken()
            changed = await conn.execute(
                update(workspaces)
                .where(workspaces.c.id == workspace_id, workspaces.c.owner_id == owner_id)
                .values(name=name)
            )
            if not changed.rowcount:
                return None
            row = (
                await conn.execute(select(workspaces).where(workspaces.c.id == workspace_id))
            ).one()
        return Workspace(**row._mapping)

    async def room_ids_of(self, user_id: int) -> tuple[list[int], list[int]]:
        """The rooms (not deleted) a user is in, and the workspaces they belong to."""
        in_rooms = (
            select(room_users.c.room_id)
            .join(rooms, rooms.c.id == room_users.c.room_id)
            .where(room_users.c.user_id == user_id, rooms.c.deleted_at.is_(None))
            .order_by(room_users.c.room_id)
        )
        of_workspaces = (
            select(workspace_members.c.workspace_id)
            .where(workspace_members.c.user_id == user_id)
            .order_by(workspace_members.c.workspace_id)
        )
        async with self._reads.connect() as conn:
            room_ids = [int(r) for r in (await conn.execute(in_rooms)).scalars()]
            workspace_ids = [int(w) for w in (await conn.execute(of_workspaces)).scalars()]
        return room_ids, workspace_ids


async def _name_taken(
    conn: AsyncConnection, owner_id: int, name: str, other_than: int | None = None
) -> bool:
    """Whether ``owner_id`` owns a workspace (but ``other_than``) named ``name``, in any
    case (ASCII case on SQLite, whose lower() folds only that)."""
    query = select(workspaces.c.id).where(
        workspaces.c.owner_id == owner_id, func.lower(workspaces.c.name) == name.lower()
    )
    if other_than is not None:
        query = query.where(workspaces.c.id != other_than)
    return (await conn.execute(query.limit(1))).first() is not None


async def _owned_by(conn: AsyncConnection, user_id: int) -> int:
    query = select(func.count()).select_from(workspaces).where(workspaces.c.owner_id == user_id)
    return int((await conn.execute(query)).scalar_one())


async def _lock_user(conn: AsyncConnection, user_id: int) -> None:
    """Serialise what counts a user's workspaces, so the bound holds under concurrent
    requests (PostgreSQL: the user's row lock; SQLite has one writer already)."""
    if conn.dialect.name == "postgresql":
        await conn.execute(select(users.c.id).where(users.c.id == user_id).with_for_update())
