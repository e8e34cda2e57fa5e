"""The caller's pending workspace invitations, and answering them."""

from __future__ import annotations

from fastapi import APIRouter

from roomchat.api import schemas
from roomchat.api.deps import CurrentUser, IdPath, Svc
from roomchat.api.outcomes import reply
from roomchat.api.responses import BEARER, JSON, PARAMS, SCOPED, errors, ok
from roomchat.api.routing import StrictJSONRoute

router = APIRouter(prefix="/api/v1/invitations", tags=["invitations"], route_class=StrictJSONRoute)


# forbidden: another user's invitation; not_found: answered, expired or none
ANSWER = errors(*BEARER, *PARAMS, *SCOPED)


@router.get(
    "",
    response_model=schemas.success(list[schemas.Invitation], "InvitationListResponse"),
    responses=errors(*BEARER),
)
async def my_invitations(user: CurrentUser, svc: Svc) -> JSON:
    """Invitations sent to you and not yet answered, oldest first (at most 100, three of
    them from one inviter; a new one makes room by a stranger's oldest; they expire
    after 30 days)."""
    return ok([i.to_dict() for i in await svc.workspaces.invitations.pending(user)])


@router.post(
    "/{invitation_id}/accept",
    response_model=schemas.success(schemas.Workspace, "WorkspaceResponse"),
    responses=ANSWER,
)
async def accept(invitation_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Become a member of the workspace: the reply is the workspace."""
    accepted = await svc.workspaces.accept(user, invitation_id)
    # The workspace's followers hear workspace_member_joined.
    return reply(ok(accepted.value.to_dict()), accepted, svc.fanout)


@router.post(
    "/{invitation_id}/decline",
    response_model=schemas.success(schemas.Declined, "DeclinedResponse"),
    responses=ANSWER,
)
async def decline(invitation_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    await svc.workspaces.invitations.decline(user, invitation_id)
    return ok({"invitation_id": invitation_id})


@router.delete(
    "/{invitation_id}",
    response_model=schemas.success(schemas.Cancelled, "InvitationCancelledResponse"),
    responses=ANSWER,
)
async def cancel(invitation_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Cancel a pending invitation: the owner or an admin of its workspace (the invitee
    declines it this way too). forbidden for anyone else; not_found for an answered,
    expired or unknown one."""
    cancelled = await svc.workspaces.cancel_invitation(user, invitation_id)
    # The invitee's connections hear it (invitation_cancelled).
    return reply(ok({"invitation_id": invitation_id}), cancelled, svc.fanout)
