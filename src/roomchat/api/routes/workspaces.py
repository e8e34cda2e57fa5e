"""Workspaces and their members: inviting, leaving, handing on ownership."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field, StrictInt, StrictStr

from roomchat.api.deps import CurrentUser, IdPath, Svc
from roomchat.api.outcomes import reply
from roomchat.api.responses import JSON, ok
from roomchat.api.routing import StrictJSONRoute
from roomchat.domain.models import MAX_ID

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"], route_class=StrictJSONRoute)


class CreateWorkspace(BaseModel):
    name: StrictStr = Field(examples=["Acme"], min_length=1, max_length=128)


class AddMember(BaseModel):
    user_id: StrictInt | None = Field(default=None, ge=1, le=MAX_ID)
    username: StrictStr | None = Field(
        default=None, max_length=64, description="instead of user_id"
    )


class NewOwner(BaseModel):
    user_id: StrictInt = Field(ge=1, le=MAX_ID, description="a member of the workspace")


# The one reply to an invitation, whoever the user is (or is not).
INVITED = "If that user exists and is not yet a member, they have an invitation to accept."


@router.post("/", status_code=201)
async def create_workspace(body: CreateWorkspace, user: CurrentUser, svc: Svc) -> JSON:
    workspace = await svc.workspaces.create(user, body.name)
    return ok(workspace.to_dict(), 201)


@router.get("/")
async def my_workspaces(user: CurrentUser, svc: Svc) -> JSON:
    return ok([w.to_dict() for w in await svc.workspaces.mine(user)])


@router.post("/{workspace_id}/members", status_code=202)
async def add_member(workspace_id: IdPath, body: AddMember, user: CurrentUser, svc: Svc) -> JSON:
    """Invite a user (owner only). The reply never says whether the user exists, is
    already a member or already invited: they join by accepting (/api/v1/invitations)."""
    await svc.workspaces.invite(user, workspace_id, body.user_id, body.username)
    return ok({"workspace_id": workspace_id, "detail": INVITED}, 202)


@router.delete("/{workspace_id}/members/me")
async def leave(workspace_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Leave the workspace and its rooms; the owner transfers ownership first (409)."""
    left = await svc.workspaces.leave(user, workspace_id)
    # A room_member_left for each room they were in.
    return reply(ok({"workspace_id": workspace_id, "user_id": user.id}), left, svc.fanout)


@router.post("/{workspace_id}/owner")
async def transfer_owner(workspace_id: IdPath, body: NewOwner, user: CurrentUser, svc: Svc) -> JSON:
    """Hand the workspace to one of its members (owner only); the owner becomes a member.
    Every API key of the workspace is revoked (its bot leaves) and every webhook
    endpoint deleted: the new owner makes fresh ones."""
    handed_on = await svc.workspaces.transfer_owner(user, workspace_id, body.user_id)
    # A room_member_left for each room a revoked key's bot was in.
    return reply(ok(handed_on.value.to_dict()), handed_on, svc.fanout)


@router.get("/{workspace_id}/members")
async def members(workspace_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    return ok([m.to_dict() for m in await svc.workspaces.members(user, workspace_id)])


@router.get("/{workspace_id}/unread")
async def workspace_unread(workspace_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Unread counts of the caller's rooms in the workspace, and their total."""
    return ok(await svc.reads.unread(user, workspace_id))
