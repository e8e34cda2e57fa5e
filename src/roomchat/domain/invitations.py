"""Workspace invitations: nobody joins a workspace without saying yes.

An owner invites by username or id and gets one answer whatever the user is
(unknown, already a member, already invited, or invited now), so inviting cannot be
used to find out who has an account. Only the invitee sees the invitation.

A user's list is bounded, and nobody can keep it full to crowd out the invitations
that matter: one inviter holds only a few of its places (their newest), and a new
invitation to a full list takes the place of the oldest from a stranger (an inviter
who shares no workspace with the user), so a colleague's always arrives; a later
invitation is never the one dropped. Each inviter is rate limited.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from roomchat.domain.models import Invitation, PendingInvitation, User, Workspace
from roomchat.domain.names import normalise_username
from roomchat.domain.ports import Storage
from roomchat.domain.rate_limits import RateLimiter
from roomchat.domain.records import InvitationLimits, Invited
from roomchat.errors import ChatError, Code, forbidden, not_found

# Pending invitations a workspace may have: nobody can make the server hold an
# unbounded number of them.
MAX_PENDING_PER_WORKSPACE = 1000
# ROOMCHAT_INVITATIONS_PER_USER's and ROOMCHAT_INVITATIONS_FROM_ONE_INVITER's defaults.
MAX_PENDING_PER_INVITEE = 100
MAX_PENDING_PER_INVITER = 3
# An invitation nobody answered expires, so it stops counting against any bound.
INVITATION_TTL = timedelta(days=30)

DEFAULT_LIMITS = InvitationLimits(
    MAX_PENDING_PER_WORKSPACE, MAX_PENDING_PER_INVITEE, MAX_PENDING_PER_INVITER
)


class InvitationService:
    def __init__(
        self,
        store: Storage,
        limits: InvitationLimits = DEFAULT_LIMITS,
        ttl: timedelta = INVITATION_TTL,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
        limiter: RateLimiter | None = None,
    ) -> None:
        self._store = store
        self._limits = limits
        self._ttl = ttl
        self._clock = clock
        # Per inviter; None: not limited (the operator's commands, unit tests).
        self._limiter = limiter

    def _since(self) -> datetime:
        return self._clock() - self._ttl

    async def invite(
        self, owner: User, workspace_id: int, user_id: int | None, username: str | None
    ) -> tuple[int, Invitation] | None:
        """Invite someone to a workspace the caller owns (the caller checked that).

        Every outcome but a full workspace or the rate limit looks the same to the
        owner (the caller tells the invitee of a new one: (invitee, invitation), None
        when none was made). Both are checked before the user is looked up, so hitting them says
        nothing about the user; what the invitee's list makes room by is silent.
        """
        if (user_id is None) == (username is None):
            raise ChatError(Code.VALIDATION_ERROR, "give either user_id or username")
        canonical = None
        if username is not None:
            canonical = normalise_username(username)
            if canonical is None:
                # Says only that this cannot be a username at all, never whether one exists.
                raise ChatError(
                    Code.VALIDATION_ERROR,
                    "username must be 3-32 letters, digits, '_', '.' or '-'",
                )
        if self._limiter is not None:
            self._limiter.hit(str(owner.id))
        pending = await self._store.invitations.pending_in_workspace(workspace_id, self._since())
        if pending >= self._limits.per_workspace:
            raise ChatError(
                Code.CONFLICT,
                f"this workspace has {self._limits.per_workspace} unanswered invitations; "
                "more can be sent when some are answered or expire",
            )
        invitee = await self._resolve(user_id, canonical)
        # A bot belongs to its own workspace only (a revoked key's to none): inviting
        # one is inviting nobody.
        if invitee is None or await self._store.api_keys.is_bot(invitee.id):
            return None
        now = self._clock()
        made = await self._store.invitations.create(
            workspace_id, invitee.id, owner.id, now, now - self._ttl, self._limits
        )
        if made is not Invited.CREATED:
            return None
        invitation = await self._store.invitations.find(workspace_id, invitee.id, self._since())
        return None if invitation is None else (invitee.id, invitation)

    async def in_workspace(self, workspace_id: int, limit: int) -> list[PendingInvitation]:
        """The workspace's pending invitations (the caller checked the right to see them)."""
        return await self._store.invitations.in_workspace(
            workspace_id, self._since(), limit, self._ttl
        )

    async def workspace_of(self, invitation_id: int) -> int | None:
        return await self._store.invitations.workspace_of(invitation_id, self._since())

    async def invitee_of(self, invitation_id: int) -> int | None:
        return await self._store.invitations.invitee(invitation_id, self._since())

    async def cancel(self, invitation_id: int, workspace_id: int) -> None:
        """Cancel a pending invitation (the caller checked the right to)."""
        if not await self._store.invitations.cancel(invitation_id, workspace_id):
            raise not_found("invitation")

    async def _resolve(self, user_id: int | None, canonical: str | None) -> User | None:
        if user_id is not None:
            return await self._store.users.get(user_id)
        assert canonical is not None
        return await self._store.users.by_username(canonical)

    async def pending(self, user: User) -> list[Invitation]:
        return await self._store.invitations.for_user(
            user.id, self._since(), self._limits.per_invitee
        )

    async def accept(self, user: User, invitation_id: int, role: str) -> Workspace:
        workspace = await self._store.invitations.accept(
            invitation_id, user.id, self._since(), role
        )
        if workspace is None:
            raise await self._not_yours(invitation_id)
        return workspace

    async def decline(self, user: User, invitation_id: int) -> None:
        if not await self._store.invitations.decline(invitation_id, user.id):
            raise await self._not_yours(invitation_id)

    async def _not_yours(self, invitation_id: int) -> ChatError:
        """forbidden for another user's invitation (its ids are random: nothing to learn
        from probing), not_found for none."""
        if await self._store.invitations.invitee(invitation_id, self._since()) is not None:
            return forbidden("this invitation is not yours")
        return not_found("invitation")
