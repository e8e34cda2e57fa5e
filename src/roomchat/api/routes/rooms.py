"""Chat rooms: create, list, look up, join by link, change, delete, and page through
history and events."""

from __future__ import annotations

from typing import Annotated
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictInt, StrictStr
from starlette.responses import Response

from roomchat import frames
from roomchat.api.deps import CurrentUser, IdPath, PlainDecimal, Svc
from roomchat.api.outcomes import reply
from roomchat.api.responses import JSON, ok, ok_encoded
from roomchat.api.routing import StrictJSONRoute
from roomchat.domain.models import MAX_ID
from roomchat.domain.room_list import MAX_CURSOR_CHARS, ROOM_PAGE, position
from roomchat.errors import ChatError, Code

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


class UpdateRoom(BaseModel):
    name: StrictStr | None = Field(default=None, examples=["Announcements"], max_length=128)
    passcode: StrictStr | None = Field(
        default=None, max_length=64, description="4-64 characters sets it; null clears it"
    )


class PostMessage(BaseModel):
    message_text: StrictStr = Field(
        examples=["Deploy 142 finished"],
        description="not blank; at most max_message_text_chars (default 4000) characters",
    )
    message_content: StrictStr | None = Field(
        default=None, description="at most max_message_content_bytes (default 16384) bytes"
    )
    client_msg_id: StrictStr | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        examples=["deploy-142"],
        description="makes a retry safe: the same id again (same room, same sender) "
        "answers the stored message (200) instead of storing another",
    )


@router.post("/", status_code=201)
async def create_room(body: CreateRoom, user: CurrentUser, svc: Svc) -> JSON:
    room = await svc.rooms.create(user, body.workspace_id, body.name, body.passcode)
    return ok(room.to_dict(svc.public_base_url), 201)


@router.get("/workspace/{workspace_id}")
async def rooms_in_workspace(
    workspace_id: IdPath,
    user: CurrentUser,
    svc: Svc,
    limit: Annotated[int, Query(ge=1, le=ROOM_PAGE), PlainDecimal] = ROOM_PAGE,
    cursor: Annotated[
        str | None,
        Query(
            min_length=1,
            max_length=MAX_CURSOR_CHARS,
            description="from the previous page's Link header (rel=next)",
        ),
    ] = None,
) -> JSON:
    """The workspace's rooms by id, as a list: every one (up to ``limit``, 1000 by
    default, as many as a workspace may have by default). More: a ``Link`` header
    (``rel="next"``) with the next page's URL."""
    # link_join is null in the rooms the caller is not a member of; so are its read
    # state (last_read_seq, unread_count) and last_message.
    after = position(cursor, workspace_id) if cursor is not None else 0
    page = await svc.reads.room_list(user, workspace_id, after, limit)
    response = ok([r.to_dict(svc.public_base_url) for r in page.entries])
    if page.next_cursor is not None:
        query = urlencode({"limit": limit, "cursor": page.next_cursor})
        url = f"{svc.public_base_url}{router.prefix}/workspace/{workspace_id}?{query}"
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


@router.post("/join/{join_token}")
async def join_by_link(
    join_token: str, user: CurrentUser, svc: Svc, body: JoinByLink | None = None
) -> JSON:
    passcode = body.passcode if body is not None else None
    joined = await svc.rooms.join_by_token(user, join_token, passcode)
    return reply(ok(joined.value.to_dict(svc.public_base_url)), joined, svc.fanout)


@router.get("/{room_id}")
async def get_room(room_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    view = await svc.rooms.visible(user, room_id)
    return ok(view.to_dict(svc.public_base_url))


@router.patch("/{room_id}")
async def update_room(room_id: IdPath, body: UpdateRoom, user: CurrentUser, svc: Svc) -> JSON:
    """Rename, set or clear the passcode (the creator or the workspace owner):
    ``room_chat_updated`` to the room."""
    if "name" in body.model_fields_set and body.name is None:
        raise ChatError(Code.VALIDATION_ERROR, "a room's name cannot be null")
    clear = "passcode" in body.model_fields_set and body.passcode is None
    updated = await svc.rooms.update(user, room_id, body.name, body.passcode, clear)
    return reply(ok(updated.value.to_dict(svc.public_base_url)), updated, svc.fanout)


@router.post("/{room_id}/link/rotate")
async def rotate_link(room_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """A new link_join; the old one stops working (the creator or the workspace owner)."""
    rotated = await svc.rooms.rotate_link(user, room_id)
    return reply(ok(rotated.value.to_dict(svc.public_base_url)), rotated, svc.fanout)


@router.delete("/{room_id}")
async def delete_room(room_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Delete the room (the creator or the workspace owner): ``room_chat_deleted``."""
    deleted = await svc.rooms.delete(user, room_id)
    return reply(ok({"room_id": room_id, "seq": deleted.value.seq}), deleted, svc.fanout)


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
    return ok({"messages": [m.state_dict() for m in page.messages], "has_more": page.has_more})


@router.post("/{room_id}/messages", status_code=201)
async def post_message(room_id: IdPath, body: PostMessage, user: CurrentUser, svc: Svc) -> Response:
    """Send a message as a room member (a user by token, a bot by API key), as
    ``send_room_chat_message`` does: stored, then ``new_room_chat_message`` to the room
    on every instance. 201 and the message; 200 and the stored one for a repeated
    ``client_msg_id``."""
    svc.rest_sends.hit(str(user.id))
    result = await svc.messages.send(
        user, room_id, body.message_text, body.message_content, body.client_msg_id
    )
    status = 201 if result.event is not None else 200
    return reply(ok_encoded(result.data, status), result, svc.fanout)


@router.get("/{room_id}/messages/{message_id}/readers")
async def message_readers(room_id: IdPath, message_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """The members (but its author) who read up to the message and share receipts."""
    readers = await svc.reads.readers(user, room_id, message_id)
    return ok({"readers": [r.to_dict() for r in readers]})


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
    return ok_encoded(frames.events_page(page.items, page.has_more))
