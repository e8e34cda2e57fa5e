"""Workspaces and their members."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from roomchat.api.deps import CurrentUser, IdPath, Svc
from roomchat.api.responses import JSON, ok
from roomchat.domain.models import MAX_ID

router = APIRouter(prefix="/api/v1/workspaces", tags=["workspaces"])


class CreateWorkspace(BaseModel):
    name: str = Field(examples=["Acme"])


class AddMember(BaseModel):
    user_id: int | None = Field(default=None, le=MAX_ID)
    username: str | None = Field(default=None, description="instead of user_id")


@router.post("/", status_code=201)
async def create_workspace(body: CreateWorkspace, user: CurrentUser, svc: Svc) -> JSON:
    workspace = await svc.workspaces.create(user, body.name)
    return ok(workspace.to_dict(), 201)


@router.get("/")
async def my_workspaces(user: CurrentUser, svc: Svc) -> JSON:
    return ok([w.to_dict() for w in await svc.workspaces.mine(user)])


@router.post("/{workspace_id}/members", status_code=201)
async def add_member(workspace_id: IdPath, body: AddMember, user: CurrentUser, svc: Svc) -> JSON:
    member = await svc.workspaces.add_member(user, workspace_id, body.user_id, body.username)
    return ok(member.to_dict(), 201)


@router.get("/{workspace_id}/members")
async def members(workspace_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    return ok([m.to_dict() for m in await svc.workspaces.members(user, workspace_id)])
