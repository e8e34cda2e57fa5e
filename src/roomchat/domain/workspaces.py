"""Workspaces and who belongs to them: the boundary no data crosses."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from roomchat.domain.events import RoomEvent
from roomchat.domain.invitations import InvitationService
from roomchat.domain.kinds import MEMBER_LEFT
from roomchat.domain.models import User, Workspace, WorkspaceMember
from roomchat.domain.names import has_hidden_characters
from roomchat.domain.outcome import Outcome, outcome
from roomchat.domain.ports import Describe, EventRecorder, RoomTransaction, Storage
from roomchat.domain.records import TooManyWorkspaces
from roomchat.domain.roles import BOT, MEMBER, OWNER
from roomchat.domain.room_changes import member_left_data
from roomchat.errors import ChatError, Code, forbidden, not_found

WORKSPACES_PER_OWNER = 20  # ROOMCHAT_WORKSPACES_PER_OWNER's default


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
    ) -> None:
        """Invite a user (the owner only); the reply is the same whoever they are."""
        await self.require_owner(owner, workspace_id, "only the workspace owner can invite")
        await self.invitations.invite(owner, workspace_id, user_id, username)

    async def accept(self, user: User, invitation_id: int) -> Workspace:
        return await self.invitations.accept(user, invitation_id, MEMBER)

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
        async with self._store.transaction() as tx:
            # Deletes only a "member" row: an owner (even one made so meanwhile) stays.
            rooms = await tx.workspaces.leave(workspace_id, user.id, MEMBER)
            if rooms is None:
                raise ChatError(Code.CONFLICT, "you are no longer a member (or now the owner)")
            departures = [(room_id, user.id) for room_id in rooms]
            left = await self._record_departures(tx, departures, user.id)
        return outcome(None, *left)

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
                    workspace_id, owner.id, user_id, (OWNER, MEMBER), self._owned_limit
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
        return outcome(workspace, *events)

    async def require_owner(self, user: User, workspace_id: int, message: str) -> None:
        if await self.require_member(user, workspace_id) != OWNER:
            raise forbidden(message)

    async def members(self, user: User, workspace_id: int) -> list[WorkspaceMember]:
        await self.require_member(user, workspace_id)
        return await self._store.workspaces.members(workspace_id)
