"""Who is in a room."""

from __future__ import annotations

from fastapi import APIRouter

from roomchat.api.deps import CurrentUser, IdPath, Svc
from roomchat.api.responses import JSON, ok
from roomchat.api.routing import StrictJSONRoute

router = APIRouter(prefix="/api/v1/room-users", tags=["room-users"], route_class=StrictJSONRoute)


@router.get("/room/{room_id}")
async def room_members(room_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    return ok([m.to_dict() for m in await svc.rooms.members(user, room_id)])
