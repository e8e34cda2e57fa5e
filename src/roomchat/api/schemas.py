"""The REST objects as OpenAPI describes them: what each route's ``data`` is.

The routes answer the domain's ``to_dict``s (domain/models.py) through ``ok()``; these
models only describe them, field for field, for /openapi.json (the JavaScript SDK's
types are generated from it). They never serialise anything, so a field the server adds
must be added here too: tests/integration/test_openapi_contract.py validates every
response of a whole workflow against them and fails on a missing or mistyped field.
Fields may be added, never removed or renamed (the API guide is the contract).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, Field, create_model

from roomchat.domain.kinds import WEBHOOK_TYPES

# Ids the server issues stay below 2^53 (JavaScript's Number.MAX_SAFE_INTEGER): a
# client may read them as numbers.
Id = int


class User(BaseModel):
    id: Id
    username: str
    display_name: str
    avatar_url: str | None = Field(
        description="the user's picture (GET it: a square PNG), null until they set one"
    )


class Me(User):
    share_read_receipts: bool = Field(description="whether others see how far you have read")


class Session(BaseModel):
    """A login session's access token (register, login, refresh)."""

    user: User
    access_token: str
    token_type: Literal["bearer"]
    expires_in: int = Field(description="seconds until the token expires")


class LoggedOut(BaseModel):
    all: bool = Field(description="true: every login session of the user was revoked")


class WsTicket(BaseModel):
    ticket: str = Field(description="for /ws?ticket=...: opens one WebSocket, once")
    expires_in: int = Field(description="seconds it stays valid")


class Workspace(BaseModel):
    id: Id
    name: str
    owner_id: Id
    created_at: datetime


class WorkspaceMember(BaseModel):
    workspace_id: Id
    user_id: Id
    role: Literal["owner", "admin", "member", "bot"]
    joined_at: datetime
    user: User


class Invited(BaseModel):
    """The same answer whoever the invitee is (or is not)."""

    workspace_id: Id
    detail: str


class LeftWorkspace(BaseModel):
    workspace_id: Id
    user_id: Id


class UnreadRoom(BaseModel):
    room_id: Id
    unread_count: int = Field(description="top-level messages")
    thread_unread: int = Field(description="replies in the threads you follow")
    mention_count: int = Field(description="unread messages (replies too) mentioning you")


class UnreadSummary(BaseModel):
    rooms: list[UnreadRoom]
    total: int = Field(description="the rooms' unread_count, summed")
    thread_unread: int = Field(description="the rooms' thread_unread, summed")
    mentions: int = Field(description="the rooms' mention_count, summed")


class Invitation(BaseModel):
    id: Id
    workspace_id: Id
    workspace_name: str
    invited_by: User
    created_at: datetime


class Declined(BaseModel):
    invitation_id: Id


class Cancelled(BaseModel):
    invitation_id: Id


class PendingInvitation(BaseModel):
    """A pending invitation as the workspace's owner and admins see it."""

    id: Id
    workspace_id: Id
    user_id: Id = Field(description="the invitee")
    user: User
    invited_by: User
    created_at: datetime
    expires_at: datetime = Field(description="unanswered until then, it lapses")


class Room(BaseModel):
    id: Id
    workspace_id: Id
    name: str | None = Field(description="null for a direct conversation")
    created_by: Id
    link_join: str | None = Field(
        description="{PUBLIC_BASE_URL}/join/{token}; null unless you are a room member"
    )
    link_token: str | None = Field(
        description="the token of link_join (for POST /api/v1/room-chats/join); "
        "null exactly when link_join is"
    )
    created_at: datetime
    has_passcode: bool
    kind: Literal["room", "direct"] = Field(
        description="direct: a conversation between member_ids, open to them alone"
    )
    member_ids: list[Id] | None = Field(
        description="a direct conversation's people (sorted); null for a room"
    )


class Reaction(BaseModel):
    reaction: str
    count: int = Field(description="exact")
    user_ids: list[Id] = Field(description="the first 20 who gave it, in that order")


class Thread(BaseModel):
    reply_count: int = Field(description="exact; deleted replies (tombstones) included")
    last_reply_at: datetime
    participant_ids: list[Id] = Field(description="the first 10 who replied, in that order")


class Attachment(BaseModel):
    """A file uploaded to a room (issue 24). ``url`` and ``thumbnail_url`` are signed and
    short-lived (file_url_ttl_s, default 1 h): minted afresh whenever served."""

    id: Id
    room_id: Id
    filename: str = Field(description="as uploaded, made safe (no path, no control characters)")
    content_type: str = Field(description="sniffed from the bytes, never the client's word")
    size: int = Field(description="bytes")
    width: int | None = Field(description="an image's, EXIF orientation applied; else null")
    height: int | None
    url: str | None = Field(description="a signed GET URL (no Authorization header needed)")
    thumbnail_url: str | None = Field(description="a WebP thumbnail (images only), signed")
    created_at: datetime


class AttachmentPage(BaseModel):
    attachments: list[Attachment] = Field(description="newest first")
    has_more: bool


class Message(BaseModel):
    """The one message object: every reply, page and event that shows a message."""

    id: Id
    room_id: Id
    seq: int
    thread_root_id: Id | None = Field(
        description="a reply: the top-level message it answers; null for a top-level one"
    )
    user_id: Id
    user: User
    message_text: str | None = Field(description="null once deleted (a tombstone)")
    message_content: str | dict[str, Any] | None = Field(
        description="as the client sent it: a string, a JSON object, or null"
    )
    client_msg_id: str | None
    created_at: datetime
    edited_at: datetime | None
    deleted_at: datetime | None
    reactions: list[Reaction]
    thread: Thread | None = Field(description="a top-level message's replies; null: none")
    mentions: list[Id] = Field(description="the room members the text names, in that order")
    mentions_room: bool = Field(description="the text mentions the whole room (@room)")
    attachments: list[Attachment] = Field(
        description="its files, in the order of the send's attachment_ids (none once deleted)"
    )


class RoomListRow(Room):
    """A room of the workspace's list, with the caller's read state (null, with
    ``link_join`` and ``link_token``, in rooms the caller is not a member of)."""

    last_read_seq: int | None
    unread_count: int | None = Field(description="top-level messages after last_read_seq")
    thread_unread: int | None = Field(description="replies in the threads you follow")
    mention_count: int | None = Field(
        description="unread messages (thread replies too) that mention you"
    )
    last_message: Message | None = Field(description="the newest top-level message not deleted")


class RoomMember(BaseModel):
    room_id: Id
    user_id: Id
    joined_at: datetime
    user: User


class RoomMemberLeft(BaseModel):
    room_id: Id
    seq: int
    user_id: Id
    removed_by: Id


class RoomDeleted(BaseModel):
    room_id: Id
    seq: int


class MessagePage(BaseModel):
    messages: list[Message] = Field(description="oldest first")
    has_more: bool


class FollowedThread(BaseModel):
    room_id: Id
    thread_root_id: Id
    root: Message = Field(description="the thread's root, with its thread summary")
    last_read_seq: int = Field(description="how far you read the thread (the room's seq)")
    unread_replies: int = Field(description="replies after it, by others, not deleted")


class FollowedThreads(BaseModel):
    threads: list[FollowedThread] = Field(description="newest activity first")
    has_more: bool


class Readers(BaseModel):
    readers: list[User]


class ApiKey(BaseModel):
    id: Id
    workspace_id: Id
    name: str
    prefix: str = Field(description="the key's first characters, to tell keys apart")
    user: User = Field(description="the bot the key acts as")
    created_at: datetime
    last_used_at: datetime | None
    revoked_at: datetime | None


class IssuedApiKey(ApiKey):
    key: str = Field(description="the key itself: shown this once")


WebhookEvent = Literal[WEBHOOK_TYPES]  # type: ignore[valid-type]


class Webhook(BaseModel):
    id: Id
    workspace_id: Id
    url: str
    events: list[WebhookEvent]
    enabled: bool
    disabled_reason: str | None
    failing_since: datetime | None
    failures: int
    next_attempt_at: datetime | None
    created_by: Id
    created_at: datetime


class WebhookWithSecret(Webhook):
    secret: str = Field(description="whsec_...: shown this once (made or rotated)")


class DeliveryAttempt(BaseModel):
    event_id: str
    event_type: WebhookEvent
    room_id: Id
    seq: int
    attempt: int
    outcome: Literal["delivered", "failed", "blocked"]
    response_code: int | None
    error: str | None
    duration_ms: int
    attempted_at: datetime
    next_retry_at: datetime | None


class Health(BaseModel):
    status: Literal["ok"]


class Check(BaseModel):
    ok: bool


class ReadinessChecks(BaseModel):
    database: Check
    bus: Check
    connections: int
    websocket: Check


class Readiness(BaseModel):
    status: Literal["ok", "unavailable"]
    checks: ReadinessChecks


class _Success(BaseModel):
    status: Literal["success"]


_ENVELOPES: dict[str, tuple[Any, type[BaseModel]]] = {}


def success(data: Any, name: str) -> type[BaseModel]:
    """The success envelope ``{"status": "success", "data": ...}`` around ``data``,
    named ``name`` in the document; one model per name, whichever route asks."""
    known = _ENVELOPES.get(name)
    if known is not None:
        if known[0] != data:
            raise ValueError(f"{name} already wraps {known[0]!r}")
        return known[1]
    model: type[BaseModel] = create_model(name, __base__=_Success, data=(data, ...))
    _ENVELOPES[name] = (data, model)
    return model
