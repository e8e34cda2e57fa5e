"""A Hypothesis fuzz of the WebSocket actions, on a real socket to a real server.

Random envelopes and payloads go to a real `roomchat serve` (SQLite and PostgreSQL, the
shared ``server`` fixture): the five known actions and junk ones, every field with any
JSON type, ints past 64 bits, negative ids, NUL and other odd unicode, deep nesting,
non-JSON text, binary frames, frames over the size limit. After each frame a ``ping``
marker: everything the server sent before its ``pong`` is its answer to the frame
(it handles a connection's frames in order). For every frame:

- exactly one reply (none only for a ``typing_indicator``, whose success is silent), or a
  documented close code (1009 for a frame over the limit, 1013, 4401); never a silent
  drop, never a dropped connection;
- never ``internal_error``;
- the reply echoes the frame's ``request_id`` when the envelope was valid, and never
  echoes anything else; a frame that is not a JSON object is answered ``bad_request``
  under the action ``error``, echoing nothing;
- a successful send returns exactly the text sent, in one of Alice's own rooms.

Afterwards the database must agree with the replies: each of Alice's rooms holds
seqs 1..N without a gap, exactly the messages whose sends succeeded (nothing stored from
a rejected frame), with the texts the replies gave; the foreign room holds nothing.

Bounded and reproducible: MAX_EXAMPLES frames per backend, derandomised, no example
database, no deadline; one socket, reconnected only after the server closes it.
"""

from __future__ import annotations

import itertools
import json
from collections import Counter
from contextlib import ExitStack
from dataclasses import dataclass, field
from typing import Any

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from websockets.exceptions import ConnectionClosed
from websockets.sync.client import ClientConnection, connect

from tests.support.fuzz import PASSCODE, Scene, all_event_seqs, all_messages, make_scene
from tests.support.server import ServerProcess

pytestmark = pytest.mark.integration

MAX_EXAMPLES = 200
REPLY_TIMEOUT_S = 10.0
MAX_FRAME_BYTES = 64 * 1024  # docs/protocol.md: a larger frame closes with 1009

ACTIONS = (
    "join_room_chat",
    "leave_room_chat",
    "send_room_chat_message",
    "typing_indicator",
    "ping",
)
CLOSE_TOO_BIG = 1009
# What a client sees of that close: 1009, or 1006 when the server's kernel reset the
# connection (the server closes while the rest of our big frame sits unread in its receive
# buffer, and a reset can overtake the close frame before our client reads it).
CLOSE_TOO_BIG_SEEN = {CLOSE_TOO_BIG, 1006}
# Closes the protocol documents for a client that did nothing wrong: too slow (1013),
# token expired or revoked (4401).
CLOSE_DOCUMENTED = {1013, 4401}

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
EDGE_INTS = (
    0,
    -1,
    1,
    INT64_MAX,
    INT64_MAX + 1,
    INT64_MIN,
    INT64_MIN - 1,
    2**64 - 1,
    2**64,
    -(2**64),
    2**53 + 1,
    10**30,
    -(10**30),
)
ODD_STRINGS = (
    "",
    " ",
    "\x00",
    "a\x00b",
    "\n\t\r",
    "\u202eevil",
    "\ufeff",
    "\u200b",
    "🙂" * 8,
    "null",
    "1",
    "-1",
    "1e400",
    "NaN",
    "\\ud800",
    "' OR 1=1 --",
    "%s%n",
    "../../etc/passwd",
)


class Unknown:
    """A raw frame: what it encodes is for the server's parser to say."""

    def __repr__(self) -> str:
        return "UNKNOWN"


class NotJson:
    """A raw frame that no JSON parser accepts (Python's, more lenient than the server's,
    refuses it)."""

    def __repr__(self) -> str:
        return "NOT_JSON"


UNKNOWN = Unknown()
NOT_JSON = NotJson()


def _python_reading(data: str | bytes) -> Any:
    try:
        json.loads(data)
    except (ValueError, UnicodeDecodeError):
        return NOT_JSON
    except RecursionError:
        pass
    return UNKNOWN


@dataclass(frozen=True)
class Frame:
    """One WebSocket frame to send, and the value it encodes (UNKNOWN or NOT_JSON for a
    raw frame)."""

    data: str | bytes
    value: Any = UNKNOWN

    @classmethod
    def raw(cls, data: str | bytes) -> Frame:
        return cls(data, _python_reading(data))

    def _repr_pretty_(self, printer: Any, cycle: bool) -> None:
        printer.text(repr(self))  # Hypothesis' pretty-printer: the short form

    @property
    def size(self) -> int:
        return len(self.data.encode() if isinstance(self.data, str) else self.data)

    def __repr__(self) -> str:
        kind = "text" if isinstance(self.data, str) else "binary"
        shown = self.data if self.size <= 300 else self.data[:300]
        more = "" if self.size <= 300 else f"... ({self.size} bytes)"
        return f"Frame({kind}, {shown!r}{more})"


def encode(value: Any, ensure_ascii: bool = True) -> Frame:
    return Frame(json.dumps(value, ensure_ascii=ensure_ascii), value)


# Strategies ---------------------------------------------------------------------------

texts = st.text(st.characters(exclude_categories=["Cs"]), max_size=40)  # no lone surrogates
odd_texts = st.one_of(texts, st.sampled_from(ODD_STRINGS))
ints = st.one_of(st.integers(), st.sampled_from(EDGE_INTS), st.integers(-(2**80), 2**80))
json_leaves = st.one_of(
    st.none(),
    st.booleans(),
    ints,
    st.floats(allow_nan=False, allow_infinity=False),
    odd_texts,
)
json_values = st.recursive(
    json_leaves,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4), st.dictionaries(odd_texts, inner, max_size=4)
    ),
    max_leaves=10,
)
junk_actions = st.one_of(
    odd_texts,
    st.sampled_from([a.upper() for a in ACTIONS] + [a + " " for a in ACTIONS]),
    st.sampled_from(["new_room_chat_message", "pong", "error", "__init__", "table"]),
    json_values,
)


@dataclass(frozen=True)
class Field:
    """A field's well-formed values and its broken ones."""

    good: st.SearchStrategy[Any]
    bad: st.SearchStrategy[Any]
    required: bool = True


def fields_of(scene: Scene) -> dict[str, dict[str, Field]]:
    """Per action, the payload's fields."""
    own_rooms = st.sampled_from(scene.own_room_ids)
    other_rooms = st.sampled_from(
        [
            scene.foreign_room_id,  # another workspace's: forbidden
            999_999_999,  # no such room
            str(scene.room_id),  # ids are strict: no strings, floats or booleans
            float(scene.room_id),
            True,
        ]
    )
    room_id = Field(own_rooms, st.one_of(other_rooms, ints, json_values))
    any_text = st.text(st.characters(exclude_categories=["Cs"]), min_size=1, max_size=60)
    return {
        "join_room_chat": {
            "room_id": room_id,
            "passcode": Field(
                st.just(PASSCODE), st.one_of(st.just("0000"), odd_texts, json_values), False
            ),
            "after_seq": Field(
                st.one_of(st.sampled_from([0, 1, 2, 10**6]), st.integers(0, 60)),
                st.one_of(ints, json_values),
                False,
            ),
        },
        "leave_room_chat": {"room_id": room_id},
        "send_room_chat_message": {
            "room_id": room_id,
            "message_text": Field(
                any_text,
                st.one_of(st.sampled_from(ODD_STRINGS), st.just("x" * 4001), json_values),
            ),
            "message_content": Field(
                st.one_of(st.just(""), texts),
                st.one_of(st.just("y" * (16 * 1024 + 1)), st.just("\x00"), json_values),
                False,
            ),
            "client_msg_id": Field(
                st.one_of(any_text, st.sampled_from(["retry-1", "retry-2", "z" * 64])),
                st.one_of(st.sampled_from(["", "z" * 65, "\x00"]), json_values),
                False,
            ),
        },
        "typing_indicator": {
            "room_id": room_id,
            "is_typing": Field(st.booleans(), json_values),
        },
        "ping": {},
    }


REQUEST_ID = Field(
    st.one_of(st.text(max_size=20), st.integers(INT64_MIN, INT64_MAX)),
    st.one_of(json_values, st.sampled_from([INT64_MAX + 1, INT64_MIN - 1, 2**64, True, 1.0])),
    False,
)
# Sends and joins reach the most code (and the database): drawn twice as often.
WEIGHTED_ACTIONS = (*ACTIONS, "send_room_chat_message", "join_room_chat")


@st.composite
def envelopes(draw: st.DrawFn, fields: dict[str, dict[str, Field]]) -> dict[str, Any]:
    """A well-formed envelope for a known action, with none (half the time), one or two
    of its parts broken: the action, the payload, the request_id, or a payload field."""
    action = draw(st.sampled_from(WEIGHTED_ACTIONS))
    payload_fields = fields[action]
    parts = ["action", "payload", "request_id", *payload_fields]
    broken = draw(st.sets(st.sampled_from(parts), max_size=2)) if draw(st.booleans()) else set()

    def value(name: str, field_: Field, into: dict[str, Any]) -> None:
        if name in broken:
            if draw(st.integers(0, 4)) == 0:
                return  # missing altogether
            into[name] = draw(field_.bad)
        elif field_.required or draw(st.booleans()):
            into[name] = draw(field_.good)

    payload: dict[str, Any] = {}
    for name, field_ in payload_fields.items():
        value(name, field_, payload)
    envelope: dict[str, Any] = {"action": action, "payload": payload}
    if "action" in broken:
        envelope["action"] = draw(junk_actions)
    if "payload" in broken:
        envelope["payload"] = draw(json_values)
    value("request_id", REQUEST_ID, envelope)
    if draw(st.booleans()):
        envelope["extra"] = draw(json_values)  # unknown fields are ignored
    return envelope


def frames(scene: Scene) -> st.SearchStrategy[Frame]:
    fields = fields_of(scene)
    known = envelopes(fields)
    as_text = st.builds(encode, known, st.booleans())
    as_binary = known.map(lambda v: Frame(json.dumps(v).encode(), v))
    other_json = st.builds(encode, json_values, st.booleans())  # rarely an object
    raw = st.one_of(
        texts.map(Frame.raw),  # mostly not JSON at all
        st.binary(max_size=64).map(Frame.raw),  # often not UTF-8 either
        st.sampled_from(JUNK_FRAMES),
    )
    # Each closes the connection (1009), so the next frame reconnects: seldom.
    oversized = st.sampled_from(ACTIONS).map(
        lambda action: encode(
            {
                "action": action,
                "payload": {"room_id": scene.room_id, "message_text": "o" * (MAX_FRAME_BYTES + 10)},
                "request_id": "too-big",
            }
        )
    )
    return st.one_of(*[as_text] * 8, as_binary, other_json, raw, oversized)


JUNK_FRAMES = (
    Frame.raw(""),
    Frame.raw(b""),
    Frame.raw("[" * 5000 + "]" * 5000),
    Frame.raw('{"a":' * 2000 + "1" + "}" * 2000),
    Frame.raw("NaN"),
    Frame.raw("1e400"),
    Frame.raw('{"action": "ping", "request_id": 1e400}'),
    Frame.raw('{"action": "ping", "request_id": 1, "request_id": 2}'),
    Frame.raw('{"action": "ping", "request_id": "\\ud800"}'),
    Frame.raw('\ufeff{"action": "ping", "request_id": "bom"}'),
    Frame.raw('{"action": "ping", "request_id": "trailing"} x'),
    Frame.raw(b"\xff\xfe\xfd"),
    Frame.raw(b'{"action": "ping", "request_id": "\xc3\x28"}'),
    Frame.raw('{"action": "send_room_chat_message", "payload": {"message_text": "\\u0000"}}'),
)


# The fuzzer ---------------------------------------------------------------------------


def _is_clean(value: Any, depth: int = 0) -> bool:
    """Whether any JSON parser reads ``value`` back exactly: ints in 64 bits, finite
    floats, shallow. (The server's parser turns a larger int into a float.)"""
    if depth > 100:
        return False
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return True
    if isinstance(value, int):
        return INT64_MIN <= value <= INT64_MAX
    if isinstance(value, float):
        return value == value and abs(value) != float("inf")
    if isinstance(value, list):
        return all(_is_clean(v, depth + 1) for v in value)
    if isinstance(value, dict):
        return all(_is_clean(v, depth + 1) for v in value.values())
    return False


def _replies(received: list[dict[str, Any]], success_action: str | None) -> list[dict[str, Any]]:
    """The frames that answer a request; the rest are broadcasts (a message of ours, sent
    earlier, may be delivered after a later frame's reply)."""
    return [
        r
        for r in received
        if r["status"] == "error" or "request_id" in r or r["action"] == success_action
    ]


def _same(a: Any, b: Any) -> bool:
    return type(a) is type(b) and a == b


@dataclass
class Fuzzer:
    scene: Scene
    conn: ClientConnection | None = None
    _open: ExitStack | None = None
    stored: dict[int, dict[int, dict[str, Any]]] = field(default_factory=dict)  # room -> id -> msg
    frames_sent: int = 0
    connections: int = 0
    unanswered: int = 0  # frames cut off by a documented close before their reply
    outcomes: Counter[str] = field(default_factory=Counter)  # "action status/code"
    _markers: itertools.count[int] = field(default_factory=itertools.count)

    def connection(self) -> ClientConnection:
        if self.conn is None:
            self.close()
            self._open = ExitStack()
            self.conn = self._open.enter_context(
                connect(
                    f"{self.scene.ws_url}?token={self.scene.alice.token}",
                    compression=None,
                    max_size=2**23,
                    open_timeout=REPLY_TIMEOUT_S,
                )
            )
            self.connections += 1
        return self.conn

    def close(self) -> None:
        if self._open is not None:
            self._open.close()
        self._open = self.conn = None

    def exchange(self, frame: Frame) -> tuple[list[dict[str, Any]], int | None]:
        """Send the frame and a marker ping; the frames before the pong, and the close
        code if the server closed the connection instead."""
        conn = self.connection()
        marker = f"marker-{next(self._markers)}"
        received: list[dict[str, Any]] = []
        self.frames_sent += 1
        try:
            conn.send(frame.data)
            conn.send(json.dumps({"action": "ping", "request_id": marker}))
            while True:
                try:
                    raw = conn.recv(timeout=REPLY_TIMEOUT_S)
                except TimeoutError:
                    raise AssertionError(
                        f"no pong within {REPLY_TIMEOUT_S}s; got {received!r}"
                    ) from None
                reply = json.loads(raw)
                assert isinstance(reply, dict), f"a frame that is not an object: {raw!r}"
                if reply.get("action") == "pong" and reply.get("request_id") == marker:
                    return received, None
                received.append(reply)
        except ConnectionClosed as closed:
            self.conn = None
            return received, closed.rcvd.code if closed.rcvd is not None else 1006

    def check(self, frame: Frame) -> None:
        received, close_code = self.exchange(frame)
        if close_code is not None:
            self.outcomes[f"close {close_code}"] += 1
        for reply in received:
            assert reply.get("status") in ("success", "error"), reply
            assert isinstance(reply.get("action"), str), reply
            if reply["status"] == "error":
                error = reply.get("error")
                assert isinstance(error, dict), reply
                assert isinstance(error.get("code"), str), reply
                assert isinstance(error.get("message"), str), reply
                assert error["code"] != "internal_error", f"internal_error for {frame!r}: {reply}"

        if frame.size > MAX_FRAME_BYTES:
            assert close_code in CLOSE_TOO_BIG_SEEN, (
                f"a {frame.size}-byte frame: close {close_code}, frames {received!r}"
            )
            return
        if close_code is not None:
            assert close_code in CLOSE_DOCUMENTED, (
                f"closed with {close_code} after {frame!r}; frames before: {received!r}"
            )
            if not _replies(received, None):
                self.unanswered += 1  # a send may have been stored: the outcome is unknown
            return

        value = frame.value
        is_object = isinstance(value, dict)
        action = value.get("action") if is_object else None
        sent_rid = value.get("request_id") if is_object else None
        if value is NOT_JSON:
            replies = _replies(received, None)
            assert len(replies) == 1, f"{len(replies)} replies to {frame!r}: {received!r}"
            (reply,) = replies
            assert reply["status"] == "error" and reply["action"] == "error", (frame, reply)
            assert reply["error"]["code"] == "bad_request", (frame, reply)
            assert "request_id" not in reply, f"echoed from a frame that is not JSON: {reply}"
            return
        clean = value is not UNKNOWN and _is_clean(value)
        valid_envelope = (
            clean
            and is_object
            and isinstance(action, str)
            and isinstance(value.get("payload", {}), dict)
            and (sent_rid is None or isinstance(sent_rid, str) or type(sent_rid) is int)
        )
        success_action = "pong" if action == "ping" else action

        replies = _replies(received, success_action)
        silent_ok = action == "typing_indicator"
        assert len(replies) == 1 or (silent_ok and not replies), (
            f"{len(replies)} replies to {frame!r}: {received!r}"
        )
        if not replies:
            return
        reply = replies[0]
        outcome = reply["status"] if reply["status"] == "success" else reply["error"]["code"]
        self.outcomes[f"{reply['action']} {outcome}"] += 1
        if reply["status"] == "success" and reply["action"] == "send_room_chat_message":
            # Whatever the frame looked like: stored means a success reply, and vice versa.
            payload = value.get("payload") if is_object else None
            self._record_send(payload if isinstance(payload, dict) else None, reply["data"])

        if "request_id" in reply and value is not UNKNOWN:
            assert is_object and _same(reply["request_id"], sent_rid), (
                f"request_id {reply['request_id']!r} echoed for {frame!r}: {reply}"
            )
        if clean and not is_object:
            assert reply["status"] == "error" and reply["action"] == "error", (frame, reply)
            assert reply["error"]["code"] == "bad_request", (frame, reply)
        if not valid_envelope:
            if clean:
                assert reply["status"] == "error", (frame, reply)
            return

        if sent_rid is not None:
            assert "request_id" in reply, f"request_id not echoed for {frame!r}: {reply}"
        if reply["status"] == "success":
            assert reply["action"] == success_action, (frame, reply)
        else:  # an action the server will not repeat (NUL, say) may be named "error"
            assert reply["action"] in (action, "error"), (frame, reply)
        if action not in ACTIONS:
            assert reply["status"] == "error", (frame, reply)
            assert reply["error"]["code"] == "unknown_action", (frame, reply)

    def _record_send(self, payload: dict[str, Any] | None, message: dict[str, Any]) -> None:
        assert message["room_id"] in self.scene.own_room_ids, message
        if payload is not None:
            assert _same(message["room_id"], payload.get("room_id")), (payload, message)
            assert _same(message["message_text"], payload.get("message_text")), (payload, message)
        assert message["user_id"] == self.scene.alice.id, message
        assert type(message["seq"]) is int and message["seq"] >= 1, message
        room = self.stored.setdefault(message["room_id"], {})
        earlier = room.get(message["id"])
        if earlier is not None:  # a retry with the same client_msg_id: the same message
            assert (earlier["seq"], earlier["message_text"]) == (
                message["seq"],
                message["message_text"],
            ), (earlier, message)
        room[message["id"]] = message

    def assert_database_consistent(self, seeded: dict[int, int]) -> None:
        scene = self.scene
        for room_id in scene.own_room_ids:
            messages = all_messages(scene.base_url, scene.alice, room_id)
            # The room's seq counts every durable event (messages, joins, ...): gapless
            # over the event log; the messages hold a strictly increasing part of it.
            events = all_event_seqs(scene.base_url, scene.alice, room_id)
            assert events == list(range(1, len(events) + 1)), f"room {room_id}: seqs {events}"
            seqs = [m["seq"] for m in messages]
            assert seqs == sorted(set(seqs)) and set(seqs) <= set(events), seqs
            replied = self.stored.get(room_id, {})
            new = {m["id"]: m for m in messages[seeded.get(room_id, 0) :]}
            lost = sorted(set(replied) - set(new))
            assert not lost, f"room {room_id}: sends replied success but not stored: {lost}"
            unreplied = [m for i, m in new.items() if i not in replied]
            assert len(unreplied) <= self.unanswered, (
                f"room {room_id}: stored without a success reply: {unreplied}"
            )
            for stored in new.values():
                reply = replied.get(stored["id"])
                if reply is None:
                    continue
                assert (stored["seq"], stored["message_text"]) == (
                    reply["seq"],
                    reply["message_text"],
                ), (stored, reply)
        foreign = all_messages(scene.base_url, scene.bob, scene.foreign_room_id)
        assert foreign == [], f"messages in another workspace's room: {foreign}"


# The test -----------------------------------------------------------------------------


@pytest.fixture(scope="module")
def scene(server: ServerProcess) -> Scene:
    return make_scene(server.base_url, server.ws_url)


def _explicit(scene: Scene) -> list[Frame]:
    """Frames every run sends, whatever Hypothesis draws: the known sharp edges."""

    def send(room_id: Any, text: Any = "edge", **extra: Any) -> Frame:
        payload = {"room_id": room_id, "message_text": text, **extra}
        return encode({"action": "send_room_chat_message", "payload": payload, "request_id": 7})

    frames_ = [
        # The happy path first, so the run surely reaches what lies behind validation.
        encode({"action": "join_room_chat", "payload": {"room_id": scene.room_id}}),
        encode({"action": "leave_room_chat", "payload": {"room_id": scene.room_id}}),
        send(scene.room_id, "plain"),
        encode({"action": "ping", "request_id": "p"}),
        send(scene.room_id, "nul \x00 inside"),
        send(scene.room_id, "ok", client_msg_id="\x00"),
        send(scene.room_id, "ok", message_content="nul \x00"),
        send(INT64_MIN - 1),
        send(INT64_MIN),
        send(INT64_MAX + 1),
        send(-1),
        send(0),
        send(str(scene.room_id)),
        send(float(scene.room_id)),
        send(True),
        send(scene.foreign_room_id),
        send(scene.room_id, "x" * 4001),
        send(scene.room_id, "first", client_msg_id="edge-retry"),
        send(scene.room_id, "first", client_msg_id="edge-retry"),
        send(scene.room_id, "second", client_msg_id="edge-retry"),
        encode(
            {"action": "join_room_chat", "payload": {"room_id": INT64_MIN - 1}, "request_id": 1}
        ),
        encode({"action": "join_room_chat", "payload": {"room_id": INT64_MIN}, "request_id": 1}),
        encode(
            {"action": "join_room_chat", "payload": {"room_id": scene.room_id, "after_seq": -1}}
        ),
        encode(
            {
                "action": "join_room_chat",
                "payload": {"room_id": scene.foreign_room_id, "passcode": "\x00"},
                "request_id": "p",
            }
        ),
        encode({"action": "leave_room_chat", "payload": {"room_id": INT64_MIN - 1}}),
        encode({"action": "typing_indicator", "payload": {"room_id": INT64_MIN, "is_typing": 1}}),
        encode({"action": "ping", "request_id": True}),
        encode({"action": "ping", "request_id": 1.5}),
        encode({"action": "ping", "request_id": 2**64}),
        encode({"action": "ping", "request_id": [1]}),
        encode({"action": "ping", "payload": None, "request_id": "null-payload"}),
        encode({"action": "nope\x00", "request_id": "unknown"}),
        encode([{"action": "ping", "request_id": "in-a-list"}]),
        encode("just a string"),
        *JUNK_FRAMES,
        encode(
            {
                "action": "send_room_chat_message",
                "payload": {"room_id": scene.room_id, "message_text": "o" * (MAX_FRAME_BYTES + 1)},
                "request_id": "too-big",
            }
        ),
    ]
    return frames_


def test_websocket_actions_survive_fuzzing(server: ServerProcess, scene: Scene) -> None:
    seeded = {
        room_id: len(all_messages(scene.base_url, scene.alice, room_id))
        for room_id in scene.own_room_ids
    }
    fuzzer = Fuzzer(scene)

    @settings(
        max_examples=MAX_EXAMPLES,
        deadline=None,
        derandomize=True,
        database=None,
        print_blob=False,
        suppress_health_check=list(HealthCheck),
    )
    @given(frame=frames(scene))
    def fuzz(frame: Frame) -> None:
        fuzzer.check(frame)

    for frame in reversed(_explicit(scene)):
        fuzz = example(frame=frame)(fuzz)
    try:
        fuzz()
        # The fuzz reached the code behind validation, not only the refusals.
        reached = fuzzer.outcomes
        for outcome in (
            "send_room_chat_message success",
            "join_room_chat success",
            "leave_room_chat success",
            "pong success",
        ):
            assert reached[outcome] > 0, f"no {outcome!r} in {sorted(reached.items())}"
        closes = sum(reached[f"close {code}"] for code in CLOSE_TOO_BIG_SEEN)
        assert closes > 0, f"no oversized frame was refused: {sorted(reached.items())}"
        # A connection that took all of that still works.
        received, close_code = fuzzer.exchange(encode({"action": "ping", "request_id": "last"}))
        assert close_code is None, close_code
        assert any(f.get("request_id") == "last" for f in received), received
    finally:
        fuzzer.close()
    fuzzer.assert_database_consistent(seeded)
