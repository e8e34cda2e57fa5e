"""The frame module's splices are byte for byte what encoding the whole dict gives.

Every envelope the server splices around already-encoded JSON (roomchat/frames.py) is
checked here against ``jsoncodec.dumps`` (orjson with the server's options) of the same
dict, for every event kind in the catalogue and for arbitrary data: a client, a webhook
receiver or a replay cannot tell a spliced frame from an encoded one.
"""

from __future__ import annotations

from datetime import UTC
from typing import Any

from hypothesis import given
from hypothesis import strategies as st

from roomchat import frames, jsoncodec
from roomchat.domain.events import RoomEvent, message_data
from roomchat.domain.kinds import KINDS
from roomchat.domain.models import Message, User

INT64 = st.integers(min_value=-(2**63), max_value=2**63 - 1)
IDS = st.integers(min_value=0, max_value=2**63 - 1)
# Any text orjson can encode (lone surrogates are not UTF-8).
TEXT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=20)
SCALARS = (
    st.none()
    | st.booleans()
    | INT64
    | st.floats(allow_nan=False, allow_infinity=False)
    | TEXT
    | st.datetimes(timezones=st.just(UTC))
)
VALUES = st.recursive(
    SCALARS,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
OBJECTS = st.dictionaries(TEXT, VALUES, max_size=6)
KIND_NAMES = st.sampled_from(sorted(KINDS))
# Replies answer commands as well as carry kinds; any plain action name will do.
ACTIONS = KIND_NAMES | st.from_regex(r"[a-z][a-z_]{0,30}", fullmatch=True)
REQUEST_IDS = st.none() | TEXT | INT64


def dumps(value: Any) -> bytes:
    return jsoncodec.dumps(value)


@given(KIND_NAMES, OBJECTS)
def test_a_broadcast_of_every_kind_is_its_dict_encoded(action: str, data: dict[str, Any]) -> None:
    frame = frames.broadcast(action, dumps(data))
    assert frame == dumps({"action": action, "status": "success", "data": data})
    assert frames.action_of(frame) == action
    assert frames.broadcast_head(action) + dumps(data) + frames.BROADCAST_END == frame


@given(KIND_NAMES, IDS, IDS, OBJECTS)
def test_a_room_event_carries_the_data_it_was_built_from(
    action: str, room_id: int, seq: int, data: dict[str, Any]
) -> None:
    event = RoomEvent.build(room_id, seq, action, dumps(data), "i1")
    assert frames.data_of(event) == dumps(data)
    assert frames.event_item(action, frames.data_of(event)) == dumps(
        {"action": action, "data": data}
    )


@given(ACTIONS, VALUES, REQUEST_IDS)
def test_a_reply_is_its_dict_encoded(action: str, data: Any, request_id: str | int | None) -> None:
    head: dict[str, Any] = {"action": action}
    if request_id is None:
        expected = {**head, "status": "success", "data": data}
    else:
        expected = {**head, "status": "success", "request_id": request_id, "data": data}
    assert frames.success(action, dumps(data), request_id) == dumps(expected)
    error = {"code": "forbidden", "message": "no", "details": data}
    expected = {k: v for k, v in expected.items() if k != "data"} | {"status": "error"}
    expected["error"] = error
    assert frames.error(action, dumps(error), request_id) == dumps(expected)


@given(
    OBJECTS,
    st.lists(OBJECTS, max_size=4),
    st.booleans(),
    IDS,
    st.none() | st.lists(IDS, max_size=4),
)
def test_join_and_catch_up_replies_are_their_dicts_encoded(
    room: dict[str, Any],
    items: list[dict[str, Any]],
    has_more: bool,
    seq: int,
    online: list[int] | None,
) -> None:
    encoded = [dumps(item) for item in items]
    for key, splice in (("messages", frames.join_data), ("events", frames.catch_up_data)):
        expected = {
            "room": room,
            key: items,
            "has_more": has_more,
            "seq": seq,
            "online_user_ids": online,
        }
        assert splice(dumps(room), encoded, has_more, seq, online) == dumps(expected)


@given(IDS, IDS, IDS, st.none() | OBJECTS, IDS, IDS)
def test_activity_data_is_its_dict_encoded(
    room_id: int,
    seq: int,
    unread: int,
    last: dict[str, Any] | None,
    thread_unread: int,
    mentions: int,
) -> None:
    encoded = None if last is None else dumps(last)
    expected = {
        "room_id": room_id,
        "seq": seq,
        "unread_count": unread,
        "last_message": last,
        "thread_unread": thread_unread,
        "mention_count": mentions,
    }
    spliced = frames.activity_data(room_id, seq, unread, encoded, thread_unread, mentions)
    assert spliced == dumps(expected)


@given(IDS, IDS, OBJECTS)
def test_mention_data_is_its_dict_encoded(room_id: int, seq: int, message: dict[str, Any]) -> None:
    expected = {"room_id": room_id, "seq": seq, "message": message}
    assert frames.mention_data(room_id, seq, dumps(message)) == dumps(expected)


@given(IDS, IDS, IDS, st.none() | IDS, OBJECTS)
def test_a_messages_thread_root_is_read_from_its_encoding(
    message_id: int, room_id: int, seq: int, root: int | None, rest: dict[str, Any]
) -> None:
    head = {"id": message_id, "room_id": room_id, "seq": seq, "thread_root_id": root}
    encoded = dumps({**head, **{k: v for k, v in rest.items() if k not in head}})
    assert frames.thread_root_of(encoded) == root


@given(VALUES, st.lists(st.tuples(KIND_NAMES, OBJECTS), max_size=4), st.booleans())
def test_rest_bodies_are_their_dicts_encoded(
    data: Any, events: list[tuple[str, dict[str, Any]]], has_more: bool
) -> None:
    assert frames.rest_success(dumps(data)) == dumps({"status": "success", "data": data})
    items = [frames.event_item(action, dumps(d)) for action, d in events]
    expected = {"events": [{"action": a, "data": d} for a, d in events], "has_more": has_more}
    assert frames.events_page(items, has_more) == dumps(expected)


@given(OBJECTS.filter(bool), TEXT, VALUES)
def test_a_field_added_to_an_encoded_object_is_the_dict_encoded(
    obj: dict[str, Any], key: str, value: Any
) -> None:
    if key in obj:
        return  # one more key, never a repeated one
    assert frames.with_field(dumps(obj), key, dumps(value)) == dumps({**obj, key: value})


USERS = st.builds(User, IDS, TEXT, TEXT, st.none() | TEXT)
# message_content as a client may send it: a string ("" too), a JSON object, or null.
JSON_VALUES = st.recursive(
    st.none() | st.booleans() | INT64 | st.floats(allow_nan=False, allow_infinity=False) | TEXT,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(TEXT, inner, max_size=4),
    max_leaves=12,
)
CONTENTS = st.none() | TEXT | st.dictionaries(TEXT, JSON_VALUES, max_size=6)
DRAFTS = st.builds(
    Message,
    id=st.just(0),
    room_id=IDS,
    seq=st.just(0),
    user=USERS,
    message_text=TEXT,
    message_content=CONTENTS,
    client_msg_id=st.none() | TEXT,
    created_at=st.datetimes(timezones=st.just(UTC)),
)


@given(DRAFTS, IDS, IDS)
def test_a_new_message_spliced_from_its_template_is_the_one_message_object(
    draft: Message, message_id: int, seq: int
) -> None:
    message = Message(
        message_id,
        draft.room_id,
        seq,
        draft.user,
        draft.message_text,
        draft.message_content,
        draft.client_msg_id,
        draft.created_at,
    )
    template = frames.MessageTemplate.of(message_data(draft), draft.room_id)
    assert template.data(message_id, seq) == message_data(message)
    assert frames.message_id_of(message_data(message)) == message_id
    # The batch statement's bytes are the message object every reader gets: with its
    # edited_at, deleted_at and reactions (a new message: null, null, []).
    assert message_data(message) == dumps(message.to_dict())
    assert jsoncodec.loads(template.data(message_id, seq))["reactions"] == []
    assert jsoncodec.loads(template.data(message_id, seq))["message_content"] == (
        draft.message_content
    )
