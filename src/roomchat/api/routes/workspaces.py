"""Workspaces and their members: inviting, leaving, handing on ownership."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictStr

from roomchat.api import schemas
from roomchat.api.deps import MAX_REQUEST_INT, CurrentUser, Id, IdPath, PlainDecimal, Svc
from roomchat.api.outcomes import reply
from roomchat.api.responses import BEARER, BODY, JSON, PARAMS, SCOPED, errors, ok
from roomchat.api.routing import StrictJSONRoute
from roomchat.domain.threads import FOLLOWED_PAGE
from roomchat.domain.workspaces import MEMBER_PAGE
from roomchat.errors import Code

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"], route_class=StrictJSONRoute)


class CreateWorkspace(BaseModel):
    name: StrictStr = Field(examples=["Acme"], min_length=1, max_length=128)


class AddMember(BaseModel):
    user_id: Id | None = None
    username: StrictStr | None = Field(
        default=None, max_length=64, description="instead of user_id"
    )


class NewRole(BaseModel):
    role: Literal["admin", "member"] = Field(
        description="admin: manages rooms and members; member: neither"
    )


class NewOwner(BaseModel):
    user_id: Id = Field(description="a member of the workspace")


# The one reply to an invitation, whoever the user is (or is not).
INVITED = "If that user exists and is not yet a member, they have an invitation to accept."

WorkspaceReply = schemas.success(schemas.Workspace, "WorkspaceResponse")
# Inside a workspace: not a member (or not the owner), or no such workspace.
IN_WORKSPACE = (*BEARER, *PARAMS, *SCOPED)


@router.post(
    "/",
    status_code=201,
    response_model=WorkspaceReply,
    # forbidden: a bot; conflict: you own WORKSPACES_PER_OWNER already
    responses=errors(*BEARER, *BODY, Code.FORBIDDEN, Code.CONFLICT),
)
async def create_workspace(body: CreateWorkspace, user: CurrentUser, svc: Svc) -> JSON:
    workspace = await svc.workspaces.create(user, body.name)
    return ok(workspace.to_dict(), 201)


@router.get(
    "/",
    response_model=schemas.success(list[schemas.Workspace], "WorkspaceListResponse"),
    responses=errors(*BEARER),
)
async def my_workspaces(user: CurrentUser, svc: Svc) -> JSON:
    return ok([w.to_dict() for w in await svc.workspaces.mine(user)])


@router.post(
    "/{workspace_id}/members",
    status_code=202,
    response_model=schemas.success(schemas.Invited, "InvitedResponse"),
    # conflict: too many unanswered invitations; rate_limited: INVITATION_RATE_LIMIT
    responses=errors(*IN_WORKSPACE, *BODY, Code.CONFLICT, Code.RATE_LIMITED),
)
async def add_member(workspace_id: IdPath, body: AddMember, user: CurrentUser, svc: Svc) -> JSON:
    """Invite a user (the owner or an admin). The reply never says whether the user exists, is
    already a member or already invited: they join by accepting (/api/v1/invitations)."""
    invited = await svc.workspaces.invite(user, workspace_id, body.user_id, body.username)
    # A new invitation reaches the invitee's connections (invitation_received).
    return reply(ok({"workspace_id": workspace_id, "detail": INVITED}, 202), invited, svc.fanout)


@router.delete(
    "/{workspace_id}/members/me",
    response_model=schemas.success(schemas.LeftWorkspace, "LeftWorkspaceResponse"),
    responses=errors(*IN_WORKSPACE, Code.CONFLICT),  # conflict: the owner
)
async def leave(workspace_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Leave the workspace and its rooms; the owner transfers ownership first (409)."""
    left = await svc.workspaces.leave(user, workspace_id)
    # A room_member_left for each room they were in.
    return reply(ok({"workspace_id": workspace_id, "user_id": user.id}), left, svc.fanout)


@router.post(
    "/{workspace_id}/owner",
    response_model=WorkspaceReply,
    # conflict: you already own it, or the member owns too many
    responses=errors(*IN_WORKSPACE, *BODY, Code.CONFLICT),
)
async def transfer_owner(workspace_id: IdPath, body: NewOwner, user: CurrentUser, svc: Svc) -> JSON:
    """Hand the workspace to one of its members (owner only); the owner becomes a member.
    Every API key of the workspace is revoked (its bot leaves) and every webhook
    endpoint deleted: the new owner makes fresh ones."""
    handed_on = await svc.workspaces.transfer_owner(user, workspace_id, body.user_id)
    # A room_member_left for each room a revoked key's bot was in.
    return reply(ok(handed_on.value.to_dict()), handed_on, svc.fanout)


@router.get(
    "/{workspace_id}/members",
    response_model=schemas.success(list[schemas.WorkspaceMember], "WorkspaceMemberListResponse"),
    responses=errors(*IN_WORKSPACE),
)
async def members(
    workspace_id: IdPath,
    user: CurrentUser,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=MEMBER_PAGE), PlainDecimal] = MEMBER_PAGE,
    after: Annotated[
        int,
        Query(ge=0, le=MAX_REQUEST_INT, description="the last user_id of the page before"),
        PlainDecimal,
    ] = 0,
) -> JSON:
    """The members by user id, each with ``role`` (owner, admin, member, bot) and
    ``joined_at``, up to ``limit`` (500 by default and at most). More: a ``Link``
    header (``rel="next"``) with the next page's URL."""
    found = await svc.workspaces.members(user, workspace_id, after, limit + 1)
    page = found[:limit]
    response = ok([m.to_dict() for m in page])
    if len(found) > limit:
        query = urlencode({"limit": limit, "after": page[-1].user.id})
        url = f"{svc.public_base_url}{router.prefix}/{workspace_id}/members?{query}"
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


@router.delete(
    "/{workspace_id}/members/{user_id}",
    response_model=schemas.success(schemas.LeftWorkspace, "RemovedMemberResponse"),
    # forbidden: not the owner or an admin, an admin removing an admin, anyone removing
    # the owner or a bot; conflict: their role changed meanwhile
    responses=errors(*IN_WORKSPACE, Code.CONFLICT),
)
async def remove_member(workspace_id: IdPath, user_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Remove a member from the workspace and its rooms (the owner; an admin: members
    only), as leaving does: a ``room_member_left`` per room they were in (their sockets
    stop receiving each at once, on every instance), ``workspace_member_left`` to the
    workspace's followers. Your own id: you leave."""
    removed = await svc.workspaces.remove(user, workspace_id, user_id)
    return reply(ok({"workspace_id": workspace_id, "user_id": user_id}), removed, svc.fanout)


@router.patch(
    "/{workspace_id}/members/{user_id}",
    response_model=schemas.success(schemas.WorkspaceMember, "WorkspaceMemberResponse"),
    # forbidden: not the owner, or the owner's or a bot's role; conflict: changed meanwhile
    responses=errors(*IN_WORKSPACE, *BODY, Code.CONFLICT),
)
async def change_role(
    workspace_id: IdPath, user_id: IdPath, body: NewRole, user: CurrentUser, svc: Svc
) -> JSON:
    """Make a member an admin, or an admin a member (the owner only):
    ``workspace_member_updated`` to the workspace's followers."""
    changed = await svc.workspaces.set_role(user, workspace_id, user_id, body.role)
    return reply(ok(changed.value.to_dict()), changed, svc.fanout)


@router.patch(
    "/{workspace_id}",
    response_model=WorkspaceReply,
    # conflict: you own a workspace of that name already
    responses=errors(*IN_WORKSPACE, *BODY, Code.CONFLICT),
)
async def rename_workspace(
    workspace_id: IdPath, body: CreateWorkspace, user: CurrentUser, svc: Svc
) -> JSON:
    """Rename the workspace (the owner only); a name is unique among one owner's
    workspaces. ``workspace_updated`` to its followers."""
    renamed = await svc.workspaces.rename(user, workspace_id, body.name)
    return reply(ok(renamed.value.to_dict()), renamed, svc.fanout)


@router.get(
    "/{workspace_id}/invitations",
    response_model=schemas.success(
        list[schemas.PendingInvitation], "PendingInvitationListResponse"
    ),
    responses=errors(*IN_WORKSPACE),
)
async def pending_invitations(workspace_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """The workspace's unanswered invitations, oldest first (the owner or an admin):
    cancel one with DELETE /api/v1/invitations/{id}."""
    found = await svc.workspaces.pending_invitations(user, workspace_id)
    return ok([i.to_dict() for i in found])


@router.get(
    "/{workspace_id}/unread",
    response_model=schemas.success(schemas.UnreadSummary, "UnreadSummaryResponse"),
    responses=errors(*IN_WORKSPACE),
)
async def workspace_unread(workspace_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Unread counts of the caller's rooms in the workspace, and their total."""
    return ok(await svc.reads.unread(user, workspace_id))


@router.get(
    "/{workspace_id}/threads",
    response_model=schemas.success(schemas.FollowedThreads, "FollowedThreadsResponse"),
    responses=errors(*IN_WORKSPACE),
)
async def followed_threads(
    workspace_id: IdPath,
    user: CurrentUser,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=FOLLOWED_PAGE), PlainDecimal] = 50,
) -> JSON:
    """The threads the caller follows in the workspace's rooms they are in, newest
    activity first, each with its root and the caller's unread replies."""
    found, has_more = await svc.threads.followed(user, workspace_id, limit)
    threads = [
        {
            "room_id": t.root.room_id,
            "thread_root_id": t.root.id,
            "root": t.root.to_dict(),
            "last_read_seq": t.last_read_seq,
            "unread_replies": t.unread_replies,
        }
        for t in found
    ]
    return ok({"threads": threads, "has_more": has_more})
