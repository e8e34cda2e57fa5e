"""Direct conversations: get-or-create the one room of a set of a workspace's members."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from roomchat.api import schemas
from roomchat.api.deps import CurrentUser, Id, Svc
from roomchat.api.outcomes import reply
from roomchat.api.responses import BEARER, BODY, JSON, SCOPED, errors, ok
from roomchat.api.routing import StrictJSONRoute
from roomchat.domain.direct_chats import MAX_OTHERS
from roomchat.errors import Code

router = APIRouter(
    prefix="/api/v1/direct-chats", tags=["direct-chats"], route_class=StrictJSONRoute
)

RoomReply = schemas.success(schemas.Room, "RoomResponse")


class OpenDirectChat(BaseModel):
    workspace_id: Id = Field(examples=[1])
    user_ids: list[Id] = Field(
        min_length=1,
        max_length=MAX_OTHERS,
        examples=[[7, 12]],
        description=f"the other people (1 to {MAX_OTHERS} members of the workspace; "
        "not yourself, no one twice)",
    )


@router.post(
    "/",
    status_code=201,
    response_model=RoomReply,
    responses={
        200: {"model": RoomReply, "description": "the set's conversation existed: that one"},
        # forbidden: not a member of the workspace; conflict: DIRECT_PER_CREATOR reached
        **errors(*BEARER, *BODY, *SCOPED, Code.CONFLICT),
    },
)
async def open_direct_chat(body: OpenDirectChat, user: CurrentUser, svc: Svc) -> JSON:
    """The one direct conversation of exactly the caller and ``user_ids``, made if
    there is none (201), else that one (200), whoever of them asks and in whatever
    order: ``kind: "direct"``, ``name`` null, ``member_ids``, no passcode or link."""
    opened = await svc.direct_chats.open(user, body.workspace_id, body.user_ids)
    response = ok(opened.room.to_dict(svc.public_base_url), 201 if opened.created else 200)
    if not opened.created:
        return response
    # A new one: its people's sidebars hear of it (workspace_room_created, to them only).
    return reply(response, svc.rooms.created(opened.room), svc.fanout)
