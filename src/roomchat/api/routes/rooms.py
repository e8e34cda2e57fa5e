"""Chat rooms: create, list, look up, join by link, change, delete, and page through
history and events."""

from __future__ import annotations

from typing import Annotated, Any, Literal
from urllib.parse import urlencode

from fastapi import APIRouter, Query
from pydantic import BaseModel, Field, StrictStr
from starlette.responses import Response

from roomchat import frames
from roomchat.api import schemas
from roomchat.api.deps import MAX_REQUEST_INT, CurrentUser, Id, IdPath, PlainDecimal, Svc
from roomchat.api.event_schemas import EventPage
from roomchat.api.join_links import JoinByLink, JoinPasscode, join_reply
from roomchat.api.outcomes import reply
from roomchat.api.responses import BEARER, BODY, JSON, PARAMS, SCOPED, errors, ok, ok_encoded
from roomchat.api.routing import StrictJSONRoute
from roomchat.domain.room_list import MAX_CURSOR_CHARS, ROOM_PAGE, position
from roomchat.errors import ChatError, Code

router = APIRouter(prefix="/api/v1/room-chats", tags=["room-chats"], route_class=StrictJSONRoute)

# A seq or a page size in a query: plain digits, within what a JavaScript number holds.
Seq = Annotated[int, Query(ge=0, le=MAX_REQUEST_INT), PlainDecimal]
Limit = Annotated[int, Query(ge=1, le=MAX_REQUEST_INT), PlainDecimal]

RoomReply = schemas.success(schemas.Room, "RoomResponse")
MessageReply = schemas.success(schemas.Message, "MessageResponse")
# In a room: outside its workspace or not a member (forbidden), or no such room.
IN_ROOM = (*BEARER, *PARAMS, *SCOPED)
# What only the room's creator or the workspace's owner (or its bots) may do.
MANAGE = IN_ROOM
# Joining by link: wrong_passcode (403), and rate_limited after 5 wrong passcodes per
# user and room in 15 minutes; not_found: a token that names no room.
JOIN = errors(*BEARER, *BODY, *SCOPED, Code.WRONG_PASSCODE, Code.RATE_LIMITED)


class CreateRoom(BaseModel):
    workspace_id: Id = Field(examples=[1])
    name: StrictStr = Field(examples=["General Discussion"], min_length=1, max_length=128)
    passcode: StrictStr | None = Field(default=None, examples=["123456"], max_length=64)


class UpdateRoom(BaseModel):
    name: StrictStr | None = Field(default=None, examples=["Announcements"], max_length=128)
    passcode: StrictStr | None = Field(
        default=None, max_length=64, description="4-64 characters sets it; null clears it"
    )


class PostMessage(BaseModel):
    message_text: StrictStr = Field(
        examples=["Deploy 142 finished"],
        description="not blank (may be empty with attachment_ids); at most "
        "max_message_text_chars (default 4000) characters",
    )
    message_content: StrictStr | dict[str, Any] | None = Field(
        default=None,
        description="a string or a JSON object, kept as sent: at most "
        "max_message_content_bytes (default 16384) bytes (a string's UTF-8, an object's "
        "compact JSON encoding)",
    )
    client_msg_id: StrictStr | None = Field(
        default=None,
        min_length=1,
        max_length=64,
        examples=["deploy-142"],
        description="makes a retry safe: the same id again (same room, same sender) "
        "answers the stored message (200) instead of storing another",
    )
    thread_root_id: Id | None = Field(
        default=None,
        description="a reply: the id of a top-level message of this room (not a reply, "
        "not deleted)",
    )
    attachment_ids: list[Id] = Field(
        default_factory=list,
        max_length=10,
        description="files to attach: the sender's own uploads to this room "
        "(POST .../attachments) not yet in a message; at most 10",
    )


@router.post(
    "/",
    status_code=201,
    response_model=RoomReply,
    # forbidden: not a member of the workspace; conflict: ROOMS_PER_WORKSPACE or
    # ROOMS_PER_CREATOR reached
    responses=errors(*BEARER, *BODY, *SCOPED, Code.CONFLICT),
)
async def create_room(body: CreateRoom, user: CurrentUser, svc: Svc) -> JSON:
    """Make a room; the workspace's followers hear ``workspace_room_created``."""
    room = await svc.rooms.create(user, body.workspace_id, body.name, body.passcode)
    created = svc.rooms.created(room)
    return reply(ok(room.to_dict(svc.public_base_url), 201), created, svc.fanout)


@router.get(
    "/workspace/{workspace_id}",
    response_model=schemas.success(list[schemas.RoomListRow], "RoomListResponse"),
    responses=errors(*IN_ROOM),
)
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
    kind: Annotated[
        Literal["room", "direct"] | None,
        Query(description="only rooms, or only your direct conversations"),
    ] = None,
) -> JSON:
    """The rooms the caller may see in the workspace, by id, as a list: every room of
    kind ``room`` and the direct conversations the caller is in (up to ``limit``, 1000
    by default, as many as a workspace may have by default). More: a ``Link`` header
    (``rel="next"``) with the next page's URL."""
    # link_join is null in the rooms the caller is not a member of; so are its read
    # state (last_read_seq, unread_count) and last_message.
    after = position(cursor, workspace_id) if cursor is not None else 0
    page = await svc.reads.room_list(user, workspace_id, after, limit, kind)
    response = ok([r.to_dict(svc.public_base_url) for r in page.entries])
    if page.next_cursor is not None:
        params: dict[str, str | int] = {"limit": limit, "cursor": page.next_cursor}
        if kind is not None:
            params["kind"] = kind
        query = urlencode(params)
        url = f"{svc.public_base_url}{router.prefix}/workspace/{workspace_id}?{query}"
        response.headers["Link"] = f'<{url}>; rel="next"'
    return response


@router.post("/join", response_model=RoomReply, responses=JOIN)
async def join_by_link_body(body: JoinByLink, user: CurrentUser, svc: Svc) -> JSON:
    """Join by link, the link given in the body: its ``link_token``, or the whole
    ``link_join`` URL (exactly one). The same rights and answers as
    ``/join/{join_token}``."""
    return await join_reply(svc, user, body.token(), body.passcode)


@router.post("/join/{join_token}", response_model=RoomReply, responses=JOIN)
async def join_by_link(
    join_token: str, user: CurrentUser, svc: Svc, body: JoinPasscode | None = None
) -> JSON:
    passcode = body.passcode if body is not None else None
    return await join_reply(svc, user, join_token, passcode)


@router.get("/{room_id}", response_model=RoomReply, responses=errors(*IN_ROOM))
async def get_room(room_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    view = await svc.rooms.visible(user, room_id)
    return ok(view.to_dict(svc.public_base_url))


@router.patch("/{room_id}", response_model=RoomReply, responses=errors(*MANAGE, *BODY))
async def update_room(room_id: IdPath, body: UpdateRoom, user: CurrentUser, svc: Svc) -> JSON:
    """Rename, set or clear the passcode (the creator or the workspace owner):
    ``room_chat_updated`` to the room."""
    if "name" in body.model_fields_set and body.name is None:
        raise ChatError(Code.VALIDATION_ERROR, "a room's name cannot be null")
    clear = "passcode" in body.model_fields_set and body.passcode is None
    updated = await svc.rooms.update(user, room_id, body.name, body.passcode, clear)
    return reply(ok(updated.value.to_dict(svc.public_base_url)), updated, svc.fanout)


@router.post("/{room_id}/link/rotate", response_model=RoomReply, responses=errors(*MANAGE))
async def rotate_link(room_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """A new link_join; the old one stops working (the creator or the workspace owner)."""
    rotated = await svc.rooms.rotate_link(user, room_id)
    return reply(ok(rotated.value.to_dict(svc.public_base_url)), rotated, svc.fanout)


@router.delete(
    "/{room_id}",
    response_model=schemas.success(schemas.RoomDeleted, "RoomDeletedResponse"),
    responses=errors(*MANAGE),
)
async def delete_room(room_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """Delete the room (the creator or the workspace owner): ``room_chat_deleted``."""
    deleted = await svc.rooms.delete(user, room_id)
    return reply(ok({"room_id": room_id, "seq": deleted.value.seq}), deleted, svc.fanout)


@router.get(
    "/{room_id}/messages",
    response_model=schemas.success(schemas.MessagePage, "MessagePageResponse"),
    responses=errors(*IN_ROOM),
)
async def room_messages(
    room_id: IdPath,
    user: CurrentUser,
    svc: Svc,
    before_seq: Annotated[int | None, Query(ge=1, le=MAX_REQUEST_INT), PlainDecimal] = None,
    after_seq: Annotated[int | None, Query(ge=0, le=MAX_REQUEST_INT), PlainDecimal] = None,
    limit: Limit = 50,
) -> JSON:
    page = await svc.messages.page(user, room_id, before_seq, after_seq, limit)
    return ok({"messages": [m.to_dict() for m in page.messages], "has_more": page.has_more})


@router.post(
    "/{room_id}/messages",
    status_code=201,
    response_model=MessageReply,
    responses={
        200: {"model": MessageReply, "description": "a repeated client_msg_id: the stored one"},
        # conflict: the client_msg_id was used for another message; rate_limited:
        # REST_SEND_LIMIT per user, or the server busy storing messages
        **errors(*IN_ROOM, *BODY, Code.CONFLICT, Code.RATE_LIMITED),
    },
)
async def post_message(room_id: IdPath, body: PostMessage, user: CurrentUser, svc: Svc) -> Response:
    """Send a message as a room member (a user by token, a bot by API key), as
    ``send_room_chat_message`` does: stored, then ``new_room_chat_message`` to the room
    on every instance. 201 and the message; 200 and the stored one for a repeated
    ``client_msg_id``."""
    svc.rest_sends.hit(str(user.id))
    result = await svc.messages.send(
        user,
        room_id,
        body.message_text,
        body.message_content,
        body.client_msg_id,
        body.thread_root_id,
        body.attachment_ids,
    )
    status = 201 if result.event is not None else 200
    return reply(ok_encoded(result.data, status), result, svc.fanout)


@router.get(
    "/{room_id}/threads/{root_id}",
    response_model=schemas.success(schemas.MessagePage, "MessagePageResponse"),
    responses=errors(*IN_ROOM),
)
async def thread_messages(
    room_id: IdPath,
    root_id: IdPath,
    user: CurrentUser,
    svc: Svc,
    after_seq: Seq = 0,
    limit: Limit = 50,
) -> JSON:
    """A thread after ``after_seq``, oldest first: its root (when after it), then its
    replies (1-100 at a time). A reply's id: validation_error; none in this room:
    not_found."""
    page = svc.messages.minted(await svc.threads.page(user, room_id, root_id, after_seq, limit))
    return ok({"messages": [m.to_dict() for m in page.messages], "has_more": page.has_more})


@router.get(
    "/{room_id}/messages/{message_id}/readers",
    response_model=schemas.success(schemas.Readers, "ReadersResponse"),
    responses=errors(*IN_ROOM),
)
async def message_readers(room_id: IdPath, message_id: IdPath, user: CurrentUser, svc: Svc) -> JSON:
    """The members (but its author) who read up to the message and share receipts."""
    readers = await svc.reads.readers(user, room_id, message_id)
    return ok({"readers": [r.to_dict() for r in readers]})


@router.get(
    "/{room_id}/events",
    response_model=schemas.success(EventPage, "EventPageResponse"),
    responses=errors(*IN_ROOM),
)
async def room_events(
    room_id: IdPath,
    user: CurrentUser,
    svc: Svc,
    after_seq: Seq = 0,
    limit: Limit = 50,
) -> Response:
    """The room's events after ``after_seq``, oldest first, each exactly as broadcast."""
    page = await svc.replay.page(user, room_id, after_seq, limit)
    return ok_encoded(frames.events_page(page.items, page.has_more))
