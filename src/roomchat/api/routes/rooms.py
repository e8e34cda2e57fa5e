"""Chat rooms: create, list, look up, join by link, and page through history and events."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictInt, StrictStr
from starlette.responses import Response

from roomchat.api.deps import CurrentUser, IdPath, PlainDecimal, Svc
from roomchat.api.responses import JSON, ok, ok_encoded
from roomchat.api.routing import StrictJSONRoute
from roomchat.domain.models import MAX_ID

router = APIRouter(prefix="/api/v1/room-chats", tags=["room-chats"], route_class=StrictJSONRoute)


class CreateRoom(BaseModel):
    workspace_id: StrictInt = Field(examples=[1], ge=1, le=MAX_ID)
    name: StrictStr = Field(examples=["General Discussion"], min_length=1, max_length=128)
    passcode: StrictStr | None = Field(default=None, examples=["123456"], max_length=64)


class JoinByLink(BaseModel):
    passcode: StrictStr | None = Field(
        default=None,
        max_length=64,
        description="needed for a room with a passcode, unless you are already its member",
    )


@router.post("/", status_code=201)
async def create_room(body: CreateRoom, user: CurrentUser, svc: Svc) -> JSON:
    room = await svc.rooms.create(user, body.workspace_id, body.name, body.passcode)
    return ok(room.to_dict(svc.public_base_url), 201)


@router.get("/workspace/{workspace_id}")
async def rooms_in_workspace(workspace_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    # link_join is null in the rooms the caller is not a member of.
    rooms = await svc.rooms.in_workspace(user, workspace_id)
    return ok([r.to_dict(svc.public_base_url) for r in rooms])


@router.post("/join/{join_token}")
async def join_by_link(
    join_token: str, user: CurrentUser, svc: Svc, body: JoinByLink | None = None
) -> JSON:
    passcode = body.passcode if body is not None else None
    room = await svc.rooms.join_by_token(user, join_token, passcode)
    return ok(room.to_dict(svc.public_base_url))


@router.get("/{room_id}")
async def get_room(room_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    view = await svc.rooms.visible(user, room_id)
    return ok(view.to_dict(svc.public_base_url))


@router.get("/{room_id}/messages")
async def room_messages(
    room_id: IdPath,
    user: CurrentUser,
    svc: Svc,
    before_seq: Annotated[int | None, Query(ge=1, le=MAX_ID), PlainDecimal] = None,
    after_seq: Annotated[int | None, Query(ge=0, le=MAX_ID), PlainDecimal] = None,
    limit: Annotated[int, Query(ge=1, le=MAX_ID), PlainDecimal] = 50,
) -> JSON:
    page = await svc.messages.page(user, room_id, before_seq, after_seq, limit)
    return ok({"messages": [m.to_dict() for m in page.messages], "has_more": page.has_more})


@router.get("/{room_id}/events")
async def room_events(
    room_id: IdPath,
    user: CurrentUser,
    svc: Svc,
    after_seq: Annotated[int, Query(ge=0, le=MAX_ID), PlainDecimal] = 0,
    limit: Annotated[int, Query(ge=1, le=MAX_ID), PlainDecimal] = 50,
) -> Response:
    """The room's events after ``after_seq``, oldest first, each exactly as broadcast."""
    page = await svc.replay.page(user, room_id, after_seq, limit)
    more = b"true" if page.has_more else b"false"
    return ok_encoded(b'{"events":[' + b",".join(page.items) + b'],"has_more":' + more + b"}")
