"""Who is in a room: the members, adding one, leaving and removing."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import BaseModel, Field

from roomchat.api import schemas
from roomchat.api.deps import CurrentUser, Id, IdPath, Svc
from roomchat.api.outcomes import reply
from roomchat.api.responses import BEARER, BODY, JSON, PARAMS, SCOPED, errors, ok
from roomchat.api.routing import StrictJSONRoute

router = APIRouter(prefix="/api/v1/room-users", tags=["room-users"], route_class=StrictJSONRoute)


class AddRoomUser(BaseModel):
    user_id: Id = Field(description="a member of the room's workspace")


# forbidden: outside the workspace, or not the creator or owner; not_found: no such room
# (or member).
IN_ROOM = (*BEARER, *PARAMS, *SCOPED)
MemberReply = schemas.success(schemas.RoomMember, "RoomMemberResponse")


@router.get(
    "/room/{room_id}",
    response_model=schemas.success(list[schemas.RoomMember], "RoomMemberListResponse"),
    responses=errors(*IN_ROOM),
)
async def room_members(room_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    return ok([m.to_dict() for m in await svc.rooms.members(user, room_id)])


@router.post(
    "/room/{room_id}",
    status_code=201,
    response_model=MemberReply,
    responses={
        200: {"model": MemberReply, "description": "already a member: nothing changed"},
        **errors(*IN_ROOM, *BODY),
    },
)
async def add_room_member(room_id: IdPath, body: AddRoomUser, user: CurrentUser, svc: Svc) -> JSON:
    """Add a workspace member (the room's creator or the workspace owner): 201 and
    ``room_member_joined`` for a new member, 200 and nothing for one already in."""
    added = await svc.rooms.add_member(user, room_id, body.user_id)
    status = 201 if added.events else 200
    return reply(ok(added.value.to_dict(), status), added, svc.fanout)


@router.delete(
    "/room/{room_id}/users/{user_id}",
    response_model=schemas.success(schemas.RoomMemberLeft, "RoomMemberLeftResponse"),
    responses=errors(*IN_ROOM),
)
async def remove_room_member(room_id: IdPath, user_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Leave (your own id) or remove someone (the creator or the workspace owner):
    ``room_member_left``, after which their connections get nothing of the room."""
    left = await svc.rooms.remove_member(user, room_id, user_id)
    data = {"room_id": room_id, "seq": left.value.seq, "user_id": user_id, "removed_by": user.id}
    return reply(ok(data), left, svc.fanout)
