"""Workspaces and who belongs to them: the boundary no data crosses."""

from __future__ import annotations

from roomchat import jsoncodec
from roomchat.domain.events import RoomEvent
from roomchat.domain.invitations import InvitationService
from roomchat.domain.models import User, Workspace, WorkspaceMember
from roomchat.domain.names import has_hidden_characters
from roomchat.domain.recorder import EventRecorder
from roomchat.domain.roles import BOT, MEMBER, OWNER
from roomchat.domain.room_changes import MEMBER_LEFT, member_left_data
from roomchat.errors import ChatError, Code, forbidden, not_found
from roomchat.store import Store
from roomchat.store.seqs import reserve_seqs


def clean_name(name: str, what: str) -> str:
    name = name.strip()
    if not 1 <= len(name) <= 128:
        raise ChatError(Code.VALIDATION_ERROR, f"{what} must be 1-128 characters")
    if has_hidden_characters(name):  # NUL, newlines, RTL overrides, zero-width...
        raise ChatError(
            Code.VALIDATION_ERROR, f"{what} must not contain control or format characters"
        )
    return name


class WorkspaceService:
    def __init__(
        self,
        store: Store,
        invitations: InvitationService | None = None,
        recorder: EventRecorder | None = None,
    ) -> None:
        self._store = store
        self.invitations = invitations or InvitationService(store)
        self._recorder = recorder or EventRecorder(store, None, "local")

    async def create(self, user: User, name: str) -> Workspace:
        name = clean_name(name, "name")
        if await self._store.workspaces.holds_role(user.id, BOT):
            raise forbidden("a bot acts in its own workspace only")
        return await self._store.workspaces.create(name, user.id)

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

    async def invite(
        self, owner: User, workspace_id: int, user_id: int | None, username: str | None
    ) -> None:
        """Invite a user (the owner only); the reply is the same whoever they are."""
        await self.require_owner(owner, workspace_id, "only the workspace owner can invite")
        await self.invitations.invite(owner, workspace_id, user_id, username)

    async def accept(self, user: User, invitation_id: int) -> Workspace:
        return await self.invitations.accept(user, invitation_id, MEMBER)

    async def leave(self, user: User, workspace_id: int) -> list[RoomEvent]:
        """Leave the workspace and its rooms; the owner hands the workspace on first.

        One ``room_member_left`` per room they were in (``removed_by``: themselves),
        stored with the leave in one transaction; the caller publishes them.
        """
        role = await self.require_member(user, workspace_id)
        if role == OWNER:
            raise ChatError(
                Code.CONFLICT, "the owner cannot leave; transfer ownership to a member first"
            )
        if role == BOT:
            raise forbidden("a bot stays in its workspace; the owner revokes its API key")
        async with self._store.transaction() as tx:
            # Deletes only a "member" row: an owner (even one made so meanwhile) stays.
            rooms = await self._store.workspaces.leave(tx.conn, workspace_id, user.id, MEMBER)
            if rooms is None:
                raise ChatError(Code.CONFLICT, "you are no longer a member (or now the owner)")
            seqs = await reserve_seqs(tx.conn, rooms) if rooms else []
            events = [
                RoomEvent.build(
                    room_id,
                    seq,
                    MEMBER_LEFT,
                    jsoncodec.dumps(member_left_data(room_id, seq, user.id, user.id)),
                    self._recorder.origin,
                )
                for room_id, seq in zip(rooms, seqs, strict=True)
            ]
            await self._recorder.append(tx, events)
        return events

    async def transfer_owner(self, owner: User, workspace_id: int, user_id: int) -> Workspace:
        await self.require_owner(owner, workspace_id, "only the workspace owner can do that")
        if user_id == owner.id:
            raise ChatError(Code.CONFLICT, "you already own this workspace")
        workspace = await self._store.workspaces.transfer_owner(
            workspace_id, owner.id, user_id, OWNER, MEMBER
        )
        if workspace is None:
            # Only the member list, which the owner can read, decides this.
            raise not_found("workspace member")
        return workspace

    async def require_owner(self, user: User, workspace_id: int, message: str) -> None:
        if await self.require_member(user, workspace_id) != OWNER:
            raise forbidden(message)

    async def members(self, user: User, workspace_id: int) -> list[WorkspaceMember]:
        await self.require_member(user, workspace_id)
        return await self._store.workspaces.members(workspace_id)
