"""Workspaces and who belongs to them: the boundary no data crosses."""

from __future__ import annotations

from roomchat.domain.models import User, Workspace, WorkspaceMember
from roomchat.errors import ChatError, Code, forbidden, not_found
from roomchat.store import Store
from roomchat.store.workspaces import AlreadyMember

OWNER = "owner"
MEMBER = "member"


def clean_name(name: str, what: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise ChatError(Code.VALIDATION_ERROR, f"{what} must be 1-128 characters")
    if "\x00" in name:  # PostgreSQL text cannot hold it
        raise ChatError(Code.VALIDATION_ERROR, f"{what} must not contain the NUL character")
    return name


class WorkspaceService:
    def __init__(self, store: Store) -> None:
        self._store = store

    async def create(self, user: User, name: str) -> Workspace:
        return await self._store.workspaces.create(clean_name(name, "name"), user.id)

    async def mine(self, user: User) -> list[Workspace]:
        return await self._store.workspaces.of_user(user.id)

    async def require_member(self, user: User, workspace_id: int) -> str:
        """The caller's role in the workspace; forbidden when they have none."""
        role = await self._store.workspaces.role(workspace_id, user.id)
        if role is None:
            if await self._store.workspaces.get(workspace_id) is None:
                raise not_found("workspace")
            raise forbidden("you are not a member of this workspace")
        return role

    async def add_member(
        self, owner: User, workspace_id: int, user_id: int | None, username: str | None
    ) -> WorkspaceMember:
        if await self.require_member(owner, workspace_id) != OWNER:
            raise forbidden("only the workspace owner can add members")
        if user_id is not None:
            user = await self._store.users.get(user_id)
        elif username is not None:
            user = await self._store.users.by_username(username.lower())
        else:
            raise ChatError(Code.VALIDATION_ERROR, "give user_id or username")
        if user is None:
            raise not_found("user")
        try:
            return await self._store.workspaces.add_member(workspace_id, user, MEMBER)
        except AlreadyMember:
            raise ChatError(Code.CONFLICT, "that user is already a member") from None

    async def members(self, user: User, workspace_id: int) -> list[WorkspaceMember]:
        await self.require_member(user, workspace_id)
        return await self._store.workspaces.members(workspace_id)
