"""Workspaces and who belongs to them: the boundary no data crosses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from roomchat.domain import sidebar
from roomchat.domain.events import RoomEvent
from roomchat.domain.invitations import InvitationService
from roomchat.domain.kinds import MEMBER_LEFT
from roomchat.domain.models import PendingInvitation, User, Workspace, WorkspaceMember
from roomchat.domain.names import has_hidden_characters
from roomchat.domain.outcome import Outcome
from roomchat.domain.ports import Describe, EventRecorder, RoomTransaction, Storage
from roomchat.domain.records import NameTaken, TooManyWorkspaces
from roomchat.domain.roles import (
    ADMIN,
    ASSIGNABLE,
    BOT,
    MEMBER,
    MEMBER_MANAGERS,
    OWNER,
    may_remove,
)
from roomchat.domain.room_changes import member_left_data
from roomchat.errors import ChatError, Code, forbidden, not_found

WORKSPACES_PER_OWNER = 20  # ROOMCHAT_WORKSPACES_PER_OWNER's default
# A page of the member list, by default and at most.
MEMBER_PAGE = 500
# Pending invitations one list shows (a workspace holds at most 1000: invitations.py).
PENDING_SHOWN = 1000
NAME_TAKEN = "you own a workspace of that name already; pick another"


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
        store: Storage,
        invitations: InvitationService,
        recorder: EventRecorder,
        owned_limit: int = WORKSPACES_PER_OWNER,
    ) -> None:
        self._store = store
        self.invitations = invitations
        self._recorder = recorder
        # How many workspaces one user may own: each is another place to invite from
        # and to fill with rooms and keys.
        self._owned_limit = owned_limit

    async def create(self, user: User, name: str) -> Workspace:
        name = clean_name(name, "name")
        if await self._store.workspaces.holds_role(user.id, BOT):
            raise forbidden("a bot acts in its own workspace only")
        try:
            return await self._store.workspaces.create(name, user.id, self._owned_limit)
        except TooManyWorkspaces:
            raise self._owns_too_many("you own") from None
        except NameTaken:
            raise ChatError(Code.CONFLICT, NAME_TAKEN) from None

    async def rename(self, owner: User, workspace_id: int, name: str) -> Outcome[Workspace]:
        """Rename the workspace (the owner only); unique among the owner's workspaces.
        Its followers hear ``workspace_updated``."""
        await self.require_owner(owner, workspace_id, "only the workspace owner can rename it")
        name = clean_name(name, "name")
        try:
            workspace = await self._store.workspaces.rename(workspace_id, owner.id, name)
        except NameTaken:
            raise ChatError(Code.CONFLICT, NAME_TAKEN) from None
        if workspace is None:  # handed on meanwhile
            raise forbidden("only the workspace owner can rename it")
        signal = sidebar.workspace_updated(workspace, owner.id, self._recorder.origin)
        return Outcome(workspace, signals=(signal,))

    def _owns_too_many(self, who: str) -> ChatError:
        return ChatError(
            Code.CONFLICT,
            f"{who} {self._owned_limit} workspaces, the most one may; hand one on first",
        )

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
    ) -> Outcome[None]:
        """Invite a user (the owner or an admin); the reply is the same whoever they are.
        A new invitation reaches the invitee's connections (``invitation_received``)."""
        await self.require_manager(owner, workspace_id, "only the owner or an admin can invite")
        made = await self.invitations.invite(owner, workspace_id, user_id, username)
        if made is None:
            return Outcome(None)
        invitee_id, invitation = made
        signal = sidebar.invitation_received(invitee_id, invitation, self._recorder.origin)
        return Outcome(None, signals=(signal,))

    async def accept(self, user: User, invitation_id: int) -> Outcome[Workspace]:
        """Join the workspace; its followers hear ``workspace_member_joined``."""
        workspace = await self.invitations.accept(user, invitation_id, MEMBER)
        member = await self._store.workspaces.member(workspace.id, user.id)
        if member is None:  # removed again at once
            return Outcome(workspace)
        signal = sidebar.member_joined(
            workspace.id, member.user, member.role, member.joined_at, self._recorder.origin
        )
        return Outcome(workspace, signals=(signal,))

    async def require_manager(self, user: User, workspace_id: int, message: str) -> str:
        """The caller's role if it manages members (the owner, an admin); else forbidden."""
        role = await self.require_member(user, workspace_id)
        if role not in MEMBER_MANAGERS:
            raise forbidden(message)
        return role

    async def pending_invitations(self, user: User, workspace_id: int) -> list[PendingInvitation]:
        """The workspace's unanswered invitations, oldest first (the owner, an admin)."""
        await self.require_manager(
            user, workspace_id, "only the owner or an admin can see the invitations"
        )
        return await self.invitations.in_workspace(workspace_id, PENDING_SHOWN)

    async def cancel_invitation(self, user: User, invitation_id: int) -> Outcome[None]:
        """Cancel a pending invitation (the owner or an admin of its workspace); the
        invitee's own is declined the same way. The same not_found for none as for an
        answered or expired one; forbidden (and nothing said of it) for anyone else.
        A cancelled one leaves the invitee's lists at once (``invitation_cancelled``)."""
        workspace_id = await self.invitations.workspace_of(invitation_id)
        if workspace_id is None:
            raise not_found("invitation")
        invitee_id = await self.invitations.invitee_of(invitation_id)
        if invitee_id == user.id:
            await self.invitations.decline(user, invitation_id)
            return Outcome(None)
        role = await self._store.workspaces.role(workspace_id, user.id)
        if role not in MEMBER_MANAGERS:
            raise forbidden("only the owner or an admin of its workspace can cancel it")
        await self.invitations.cancel(invitation_id, workspace_id)
        if invitee_id is None:
            return Outcome(None)
        signal = sidebar.invitation_cancelled(
            invitee_id, invitation_id, workspace_id, user.id, self._recorder.origin
        )
        return Outcome(None, signals=(signal,))

    async def leave(self, user: User, workspace_id: int) -> Outcome[None]:
        """Leave the workspace and its rooms; the owner hands the workspace on first.

        One ``room_member_left`` per room they were in (``removed_by``: themselves),
        stored with the leave in one transaction: the outcome's events.
        """
        role = await self.require_member(user, workspace_id)
        if role == OWNER:
            raise ChatError(
                Code.CONFLICT, "the owner cannot leave; transfer ownership to a member first"
            )
        if role == BOT:
            raise forbidden("a bot stays in its workspace; the owner revokes its API key")
        return await self._depart(workspace_id, user.id, role, user.id)

    async def remove(self, actor: User, workspace_id: int, user_id: int) -> Outcome[None]:
        """Remove a member (the owner: anyone but themselves; an admin: members): the
        same departure as leaving, ``removed_by`` the actor: a ``room_member_left`` per
        room they were in (their sockets on every instance stop receiving each room at
        once) and ``workspace_member_left`` to the followers (their own connections stop
        following the workspace)."""
        if user_id == actor.id:
            return await self.leave(actor, workspace_id)
        role = await self.require_manager(
            actor, workspace_id, "only the owner or an admin can remove members"
        )
        target = await self._store.workspaces.role(workspace_id, user_id)
        if target is None:
            raise not_found("workspace member")  # the same whether the user exists or not
        if target == BOT:
            raise forbidden("a bot leaves when the owner revokes its API key")
        if not may_remove(role, target):
            raise forbidden("an admin may remove members only, not the owner or admins")
        return await self._depart(workspace_id, user_id, target, actor.id)

    async def _depart(
        self, workspace_id: int, user_id: int, role: str, removed_by: int
    ) -> Outcome[None]:
        async with self._store.transaction() as tx:
            # Deletes only a row with that role: an owner (even one made so meanwhile) stays.
            rooms = await tx.workspaces.leave(workspace_id, user_id, role)
            if rooms is None:
                raise ChatError(Code.CONFLICT, "no longer a member with that role; try again")
            departures = [(room_id, user_id) for room_id in rooms]
            left = await self._record_departures(tx, departures, removed_by)
        signal = sidebar.member_left(workspace_id, user_id, removed_by, self._recorder.origin)
        return Outcome(None, tuple(left), (signal,))

    async def set_role(
        self, owner: User, workspace_id: int, user_id: int, role: str
    ) -> Outcome[WorkspaceMember]:
        """Make a member an admin or an admin a member (the owner only). The owner's role
        moves only by handing the workspace on; a bot's never."""
        await self.require_owner(owner, workspace_id, "only the workspace owner can change roles")
        if role not in ASSIGNABLE:
            raise ChatError(
                Code.VALIDATION_ERROR,
                "role must be admin or member (hand the workspace on with POST .../owner)",
            )
        target = await self._store.workspaces.role(workspace_id, user_id)
        if target is None:
            raise not_found("workspace member")
        if target not in ASSIGNABLE:
            raise forbidden("only a member's or an admin's role can change")
        if not await self._store.workspaces.set_role(workspace_id, user_id, role, ASSIGNABLE):
            raise ChatError(Code.CONFLICT, "that member's role changed meanwhile; try again")
        member = await self._store.workspaces.member(workspace_id, user_id)
        if member is None:
            raise not_found("workspace member")
        signal = sidebar.member_updated(
            workspace_id, user_id, member.role, owner.id, self._recorder.origin
        )
        return Outcome(member, signals=(signal,))

    async def remove_bots(
        self, tx: RoomTransaction, workspace_id: int, bot_ids: Sequence[int], removed_by: int
    ) -> list[RoomEvent]:
        """Take bots (their keys revoked) out of the workspace and its rooms, in ``tx``:
        a revoked key's bot is no member of anything, so member lists show no dead bots.
        Its user stays, the author of what it posted. One ``room_member_left`` per room
        it was in, for the caller to publish once ``tx`` committed."""
        departures = []
        for bot_id in bot_ids:
            rooms = await tx.workspaces.leave(workspace_id, bot_id, BOT)
            departures += [(room_id, bot_id) for room_id in rooms or []]
        return await self._record_departures(tx, departures, removed_by)

    async def _record_departures(
        self, tx: RoomTransaction, departures: list[tuple[int, int]], removed_by: int
    ) -> list[RoomEvent]:
        """A ``room_member_left`` for each (room, user), stored in ``tx``."""

        def left(room_id: int, user_id: int) -> Describe:
            return lambda seq: (MEMBER_LEFT, member_left_data(room_id, seq, user_id, removed_by))

        return await self._recorder.record_in(tx, [(r, left(r, u)) for r, u in departures])

    async def transfer_owner(
        self, owner: User, workspace_id: int, user_id: int
    ) -> Outcome[Workspace]:
        """Hand the workspace to a member; the owner becomes a member.

        In the same transaction every API key of the workspace is revoked (their bots
        leave) and every webhook endpoint deleted: the former owner holds the keys and
        the endpoints' URLs and secrets, and the new owner could not tell who else does.
        The new owner makes fresh ones (docs/security.md). The outcome's events are the
        bots' ``room_member_left``.
        """
        await self.require_owner(owner, workspace_id, "only the workspace owner can do that")
        if user_id == owner.id:
            raise ChatError(Code.CONFLICT, "you already own this workspace")
        try:
            async with self._store.transaction() as tx:
                workspace = await tx.workspaces.transfer_owner(
                    workspace_id, owner.id, user_id, (OWNER, MEMBER), self._owned_limit, (ADMIN,)
                )
                if workspace is None:
                    # Only the member list, which the owner can read, decides this.
                    raise not_found("workspace member")
                await tx.api_keys.revoke_all(workspace_id, datetime.now(UTC))
                bots = await tx.workspaces.with_role(workspace_id, BOT)
                events = await self.remove_bots(tx, workspace_id, bots, owner.id)
                await tx.workspaces.delete_webhooks(workspace_id)
        except TooManyWorkspaces:
            raise self._owns_too_many("that member owns") from None
        origin = self._recorder.origin
        signals = (
            sidebar.member_updated(workspace_id, user_id, OWNER, owner.id, origin),
            sidebar.member_updated(workspace_id, owner.id, MEMBER, owner.id, origin),
        )
        return Outcome(workspace, tuple(e for e in events if e is not None), signals)

    async def require_owner(self, user: User, workspace_id: int, message: str) -> None:
        if await self.require_member(user, workspace_id) != OWNER:
            raise forbidden(message)

    async def members(
        self, user: User, workspace_id: int, after: int = 0, limit: int | None = None
    ) -> list[WorkspaceMember]:
        """The members by user id, after user ``after``, at most ``limit`` (None: all)."""
        await self.require_member(user, workspace_id)
        return await self._store.workspaces.members(workspace_id, after, limit)
