"""Every envelope's bytes: the one module that splices already-encoded JSON by hand.

A broadcast is encoded once and the same bytes go to every recipient, the event log,
the outbox and the bus; a reply wraps data some caller already encoded (a message, a
page of stored events). Re-encoding a whole envelope around them would cost a parse
and a dump per recipient or per read, so they are spliced instead, here and nowhere
else. What comes out is byte for byte what ``jsoncodec.dumps`` of the same dict gives
(tests/unit/test_frames.py proves it for every kind), so a reader cannot tell.

Each splice relies on what ``jsoncodec`` writes: no whitespace, keys in insertion
order, an object ending in ``}``. It lives at the bottom of the package (it imports
only jsoncodec) because the domain, the store, the realtime layer and the REST
routes all build frames, and the store must not import the realtime layer.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from functools import cache
from typing import Protocol

from roomchat import jsoncodec

RequestId = str | int | None

_ACTION_KEY = b'{"action":'
_END = b"}"


# -- broadcasts: {"action", "status": "success", "data"} -------------------------------


def broadcast(action: str, data: bytes) -> bytes:
    """The broadcast envelope around an already-encoded ``data`` object: live events,
    events rebuilt from the database and signals all go through it."""
    return broadcast_head(action) + data + _END


@cache
def broadcast_head(action: str) -> bytes:
    """A broadcast's bytes before its data (the store's batch statement builds frames
    in SQL from it and ``BROADCAST_END``)."""
    return _ACTION_KEY + jsoncodec.dumps(action) + b',"status":"success","data":'


BROADCAST_END = _END


class Framed(Protocol):
    """A broadcast and its action (a room event)."""

    @property
    def action(self) -> str: ...
    @property
    def frame(self) -> bytes: ...


def data_of(framed: Framed) -> bytes:
    """The encoded ``data`` a broadcast carries (what the room event log stores):
    ``broadcast(framed.action, data_of(framed)) == framed.frame``. One call, as it is
    on every event's way (the recent-history cache, the event log)."""
    return framed.frame[len(broadcast_head(framed.action)) : -1]


def action_of(frame: bytes) -> str:
    """The action a broadcast carries (action names are plain identifiers: no escapes
    in their JSON string)."""
    if not frame.startswith(_ACTION_KEY + b'"'):
        raise ValueError("not a broadcast frame")
    start = len(_ACTION_KEY) + 1
    return frame[start : frame.index(b'"', start)].decode()


def event_item(action: str, data: bytes) -> bytes:
    """A stored event as a catch-up or an events page lists it: ``{"action", "data"}``."""
    return _ACTION_KEY + jsoncodec.dumps(action) + b',"data":' + data + _END


# -- WebSocket replies: {"action", "status", "request_id"?, "data" | "error"} -----------


def _reply_head(action: str, status: bytes, request_id: RequestId) -> bytes:
    head = _ACTION_KEY + jsoncodec.dumps(action) + b',"status":"' + status + b'"'
    if request_id is not None:
        head += b',"request_id":' + jsoncodec.dumps(request_id)
    return head


def success(action: str, data: bytes, request_id: RequestId = None) -> bytes:
    """A success reply around already-encoded ``data``."""
    return _reply_head(action, b"success", request_id) + b',"data":' + data + _END


def error(action: str, body: bytes, request_id: RequestId = None) -> bytes:
    """An error reply around an already-encoded error object."""
    return _reply_head(action, b"error", request_id) + b',"error":' + body + _END


def join_data(
    room: bytes, messages: Sequence[bytes], has_more: bool, seq: int, online: list[int] | None
) -> bytes:
    """A join reply's data around the already-encoded room and messages; ``seq`` is
    where the reply ends: the broadcasts after it are those with a greater seq."""
    return _room_data(room, b"messages", messages, has_more, seq, online)


def catch_up_data(
    room: bytes, events: Sequence[bytes], has_more: bool, seq: int, online: list[int] | None
) -> bytes:
    """A join-with-``after_seq`` reply's data: the room and its events as broadcast."""
    return _room_data(room, b"events", events, has_more, seq, online)


def _room_data(
    room: bytes,
    key: bytes,
    items: Sequence[bytes],
    has_more: bool,
    seq: int,
    online: list[int] | None,
) -> bytes:
    return b"".join(
        (
            b'{"room":',
            room,
            b',"',
            key,
            b'":[',
            b",".join(items),
            b'],"has_more":',
            _bool(has_more),
            b',"seq":',
            b"%d" % seq,
            b',"online_user_ids":',
            jsoncodec.dumps(online),
            _END,
        )
    )


def activity_data(
    room_id: int,
    seq: int,
    unread_count: int,
    last_message: bytes | None,
    thread_unread: int,
    mention_count: int,
) -> bytes:
    """``room_activity``'s data around the already-encoded last message (or null)."""
    return (
        b'{"room_id":%d,"seq":%d,"unread_count":%d,"last_message":%s,'
        b'"thread_unread":%d,"mention_count":%d}'
        % (
            room_id,
            seq,
            unread_count,
            b"null" if last_message is None else last_message,
            thread_unread,
            mention_count,
        )
    )


def mention_data(room_id: int, seq: int, message: bytes) -> bytes:
    """``room_chat_mention``'s data around the already-encoded message."""
    return b'{"room_id":%d,"seq":%d,"message":%s}' % (room_id, seq, message)


# -- REST bodies -------------------------------------------------------------------------


def rest_success(data: bytes) -> bytes:
    """The REST success envelope around already-encoded ``data``."""
    return b'{"status":"success","data":' + data + _END


def events_page(items: Sequence[bytes], has_more: bool) -> bytes:
    """A page of stored events (``event_item``s), oldest first."""
    return b'{"events":[' + b",".join(items) + b'],"has_more":' + _bool(has_more) + _END


# -- objects -----------------------------------------------------------------------------


def with_field(obj: bytes, key: str, value: bytes) -> bytes:
    """An encoded, non-empty object with one more key (last) whose value is already
    encoded (a webhook body's ``data``, a change reply's ``changed``)."""
    if not obj.endswith(_END) or obj == b"{}":
        raise ValueError("not a non-empty encoded object")
    return obj[:-1] + b"," + jsoncodec.dumps(key) + b":" + value + _END


_ID_KEY = b'{"id":'
MESSAGE_ID_KEY = _ID_KEY


def message_id_of(message: bytes) -> int:
    """A message's id from its encoded data (``Message.to_dict`` puts the id first)."""
    if message.startswith(_ID_KEY):
        end = message.find(b",", len(_ID_KEY))
        if end > 0:
            return int(message[len(_ID_KEY) : end])
    return int(jsoncodec.loads(message)["id"])


_THREAD_ROOT_KEY = b',"thread_root_id":'


def thread_root_of(message: bytes) -> int | None:
    """A message's ``thread_root_id`` from its encoded data (``Message.to_dict`` puts it
    right after id, room_id and seq, which are numbers: its key is the first of its
    bytes that can follow them); None for a top-level message."""
    start = message.find(_THREAD_ROOT_KEY)
    if start > 0:
        start += len(_THREAD_ROOT_KEY)
        end = message.find(b",", start)
        if end > 0:
            value = message[start:end]
            return None if value == b"null" else int(value)
    found = jsoncodec.loads(message).get("thread_root_id")
    return None if found is None else int(found)


@dataclass(frozen=True, slots=True)
class MessageTemplate:
    """A new message's encoded data around the two numbers only the database knows
    when it stores it: ``{"id":`` id ``mid`` seq ``tail`` (``Message.to_dict`` puts
    id, room_id and seq first; ``tail`` holds the rest of the one message object, its
    ``"edited_at":null,"deleted_at":null,"reactions":[]`` too). The store's batch
    statement builds the same bytes in SQL from ``MESSAGE_ID_KEY``, ``mid`` and
    ``tail``, so the live broadcast, the event log and the outbox carry one encoding."""

    mid: bytes
    tail: bytes

    @classmethod
    def of(cls, draft: bytes, room_id: int) -> MessageTemplate:
        """From the encoded message of ``room_id`` with id and seq 0."""
        mid = b',"room_id":%d,"seq":' % room_id
        start = _ID_KEY + b"0" + mid + b"0"
        if not draft.startswith(start):
            raise ValueError("not a message template (id and seq 0, id first)")
        return cls(mid, draft[len(start) :])

    def data(self, message_id: int, seq: int) -> bytes:
        return b"%s%d%s%d%s" % (_ID_KEY, message_id, self.mid, seq, self.tail)


def _bool(value: bool) -> bytes:
    return b"true" if value else b"false"
