"""The WebSocket envelope: parsing client frames, the action payloads, and replies
(their bytes are built in roomchat/frames.py, like every envelope's)."""

from __future__ import annotations

from typing import Annotated, Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictInt, StrictStr, ValidationError

from roomchat import frames, jsoncodec
from roomchat.domain.models import MAX_ID
from roomchat.errors import ChatError, Code
from roomchat.frames import catch_up_data as catch_up_data
from roomchat.frames import join_data as join_data
from roomchat.frames import success as success

RequestId = StrictStr | StrictInt | None
Id = Annotated[StrictInt, Field(le=MAX_ID)]
# message_content: a string or a JSON object, kept as sent (domain/messages.py bounds
# it); an array, a number or a boolean is a validation_error naming the field.
Content = StrictStr | dict[str, Any] | None


class Envelope(BaseModel):
    model_config = ConfigDict(extra="ignore")
    action: StrictStr
    payload: dict[str, Any] = Field(default_factory=dict)
    request_id: StrictStr | StrictInt | None = None


class Payload(BaseModel):
    model_config = ConfigDict(extra="ignore")


class JoinRoom(Payload):
    room_id: Id
    passcode: StrictStr | None = None
    after_seq: StrictInt | None = Field(default=None, ge=0, le=MAX_ID)


class LeaveRoom(Payload):
    room_id: Id


class SendMessage(Payload):
    room_id: Id
    message_text: StrictStr
    message_content: Content = None
    client_msg_id: StrictStr | None = None
    thread_root_id: Id | None = None  # a reply in that top-level message's thread
    attachment_ids: list[Id] = Field(default_factory=list, max_length=10)  # own uploads


class ThreadRef(Payload):
    room_id: Id
    thread_root_id: Id


class MarkThread(Payload):
    room_id: Id
    thread_root_id: Id
    seq: StrictInt = Field(ge=0, le=MAX_ID)


class EditMessage(Payload):
    room_id: Id
    message_id: Id
    message_text: StrictStr
    message_content: Content = None  # not given: the content stays as it is; null clears it


class DeleteMessage(Payload):
    room_id: Id
    message_id: Id


class ReactionChange(Payload):
    room_id: Id
    message_id: Id
    reaction: StrictStr


class WorkspaceRef(Payload):
    workspace_id: Id


class MarkRoom(Payload):
    room_id: Id
    seq: StrictInt = Field(ge=0, le=MAX_ID)


class Ping(Payload):
    """ping takes no payload (whatever is sent is ignored)."""


class Typing(Payload):
    room_id: Id
    is_typing: StrictBool


P = TypeVar("P", bound=Payload)


def parse_envelope(text: str | bytes) -> Envelope:
    try:
        raw = jsoncodec.loads(text)
    except jsoncodec.JSONDecodeError:
        raise ChatError(Code.BAD_REQUEST, "the frame is not valid JSON") from None
    if not isinstance(raw, dict):
        raise ChatError(Code.BAD_REQUEST, "the frame must be a JSON object")
    try:
        return Envelope.model_validate(raw)
    except ValidationError as exc:
        raise ChatError(
            Code.BAD_REQUEST,
            "a frame is {action: string, payload?: object, request_id?: string|int}",
            details=_field_errors(exc),
        ) from None


def parse_payload(model: type[P], payload: dict[str, Any]) -> P:
    try:
        return model.model_validate(payload)
    except ValidationError as exc:
        raise ChatError(
            Code.VALIDATION_ERROR,
            "the payload is missing fields or has wrong types",
            details=_field_errors(exc),
        ) from None


def _field_errors(exc: ValidationError) -> list[dict[str, str]]:
    return [
        {"field": ".".join(str(p) for p in err["loc"]), "message": err["msg"]}
        for err in exc.errors(include_url=False, include_input=False)
    ]


def error(action: str, err: ChatError, request_id: RequestId = None) -> bytes:
    return frames.error(action, jsoncodec.dumps(err.error_dict()), request_id)
