"""The AsyncAPI document and the frame check built on it (tests/support/contract.py): a
good frame passes, a broken one is named by its path, and the document has a schema
for every action the gateway runs and every kind the server broadcasts, so a new one
cannot be added without documenting it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from roomchat.domain import kinds
from roomchat.errors import Code
from roomchat.realtime.handlers import Action, Handlers
from tests.support.contract import (
    Contract,
    FrameAudit,
    check_close,
    check_incoming,
    check_outgoing,
    contract,
)

ROOT = Path(__file__).resolve().parents[2]


def user(user_id: int = 1) -> dict[str, Any]:
    return {"id": user_id, "username": "alice", "display_name": "Alice", "avatar_url": None}


def message(**changes: Any) -> dict[str, Any]:
    base = {
        "id": 456,
        "room_id": 123,
        "seq": 7,
        "user_id": 1,
        "user": user(),
        "message_text": "Hello world!",
        "message_content": None,
        "client_msg_id": "b3f1",
        "created_at": "2026-11-26T05:40:38.987917Z",
        "edited_at": None,
        "deleted_at": None,
        "reactions": [],
        "thread_root_id": None,
        "thread": None,
        "mentions": [],
        "mentions_room": False,
        "attachments": [],
    }
    return {**base, **changes}


def room() -> dict[str, Any]:
    return {
        "id": 123,
        "workspace_id": 1,
        "name": "General",
        "created_by": 1,
        "link_join": "http://127.0.0.1:8000/join/Qm9",
        "link_token": "Qm9",
        "created_at": "2026-11-26T05:40:38.835918Z",
        "has_passcode": False,
        "kind": "room",
        "member_ids": None,
    }


def broadcast(action: str, data: dict[str, Any]) -> dict[str, Any]:
    return {"action": action, "status": "success", "data": data}


def table() -> dict[str, Action[Any]]:
    """The gateway's action table (the table only names bound methods: no services)."""
    return Handlers.table(object.__new__(Handlers))


def paths(violations: list[Any]) -> list[str]:
    return [v.path for v in violations]


# -- good frames pass ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "frame",
    [
        {"action": "ping"},
        {"action": "join_room_chat", "payload": {"room_id": 1}, "request_id": "r1"},
        {"action": "join_room_chat", "payload": {"room_id": 1, "after_seq": 0}, "request_id": 2},
        {
            "action": "send_room_chat_message",
            "payload": {"room_id": 1, "message_text": "hi", "message_content": {"a": [1]}},
        },
        {"action": "typing_indicator", "payload": {"room_id": 1, "is_typing": True}},
        {"action": "mark_room_read", "payload": {"room_id": 1, "seq": 0}},
        {
            "action": "send_room_chat_message",
            "payload": {"room_id": 1, "message_text": "", "attachment_ids": [7, 8]},
        },
    ],
)
def test_a_good_client_frame_passes(frame: dict[str, Any]) -> None:
    assert check_outgoing(frame) == []


@pytest.mark.parametrize(
    "frame",
    [
        {"action": "send_room_chat_message", "status": "success", "data": message()},
        broadcast("new_room_chat_message", message(message_content="")),
        broadcast(
            "new_room_chat_message", message(message_text=None, deleted_at="2026-11-26T06:02:11Z")
        ),
        broadcast(
            "room_chat_reaction_added",
            {
                "room_id": 123,
                "seq": 8,
                "message_id": 456,
                "user_id": 2,
                "reaction": "👍",
                "message": message(reactions=[{"reaction": "👍", "count": 1, "user_ids": [2]}]),
            },
        ),
        {
            "action": "join_room_chat",
            "status": "success",
            "request_id": 1,
            "data": {
                "room": room(),
                "messages": [message()],
                "has_more": False,
                "seq": 7,
                "online_user_ids": [1],
            },
        },
        {
            "action": "join_room_chat",
            "status": "success",
            "data": {
                "room": room(),
                "events": [
                    {"action": "new_room_chat_message", "data": message()},
                    {"action": "room_chat_deleted", "data": {"room_id": 123, "seq": 9}},
                ],
                "has_more": False,
                "seq": 9,
                "online_user_ids": None,
            },
        },
        {
            "action": "typing_indicator",
            "status": "success",
            "request_id": "t1",
            "data": {"room_id": 1, "is_typing": True},
        },
        broadcast("typing_indicator", {"room_id": 1, "user_id": 2, "is_typing": False}),
        broadcast(
            "room_activity",
            {
                "room_id": 1,
                "seq": 3,
                "unread_count": 0,
                "last_message": None,
                "thread_unread": 0,
                "mention_count": 0,
            },
        ),
        {
            "action": "send_room_chat_message",
            "status": "error",
            "request_id": "c1",
            "error": {"code": "rate_limited", "message": "slow down", "retry_after_ms": 50},
        },
        {"action": "error", "status": "error", "error": {"code": "bad_request", "message": "x"}},
        {"action": "pong", "status": "success", "request_id": 7, "data": {}},
    ],
)
def test_a_good_server_frame_passes(frame: dict[str, Any]) -> None:
    assert check_incoming(frame) == []


# -- broken frames are named by their path ----------------------------------------------


def test_a_missing_required_field_fails_at_its_object() -> None:
    data = message()
    del data["reactions"]
    found = check_incoming(broadcast("new_room_chat_message", data))
    assert paths(found) == ["$.data"]
    assert "'reactions' is a required property" in found[0].message


def test_a_wrongly_typed_field_fails_at_its_path() -> None:
    found = check_outgoing(
        {"action": "send_room_chat_message", "payload": {"room_id": "1", "message_text": "hi"}}
    )
    assert paths(found) == ["$.payload.room_id"]
    found = check_incoming(broadcast("room_presence", {"room_id": 1, "user_id": 2, "online": 1}))
    assert paths(found) == ["$.data.online"]


def test_an_error_is_reported_inside_the_branch_the_value_was_meant_for() -> None:
    """A oneOf names the field that broke the branch whose const fits, not "no branch"."""
    bad = message()
    del bad["user"]
    frame = {
        "action": "join_room_chat",
        "status": "success",
        "data": {
            "room": room(),
            "events": [{"action": "new_room_chat_message", "data": bad}],
            "has_more": False,
            "seq": 7,
            "online_user_ids": [],
        },
    }
    found = check_incoming(frame)
    assert paths(found) == ["$.data.events[0].data"]
    assert "'user'" in found[0].message
    # A nullable object: the object's own error, not "is not of type 'null'".
    activity = {
        "room_id": 1,
        "seq": 3,
        "unread_count": 0,
        "last_message": message(seq="7"),
        "thread_unread": 0,
        "mention_count": 0,
    }
    assert paths(check_incoming(broadcast("room_activity", activity))) == [
        "$.data.last_message.seq"
    ]


@pytest.mark.parametrize(
    ("frame", "path"),
    [
        ({"action": "launch_rockets", "payload": {}}, "$.action"),
        ({"action": "join_room_chat", "payload": {"room_id": 2**53}}, "$.payload.room_id"),
        ({"action": "join_room_chat", "payload": {"room_id": 0}}, "$.payload.room_id"),
        ({"action": "join_room_chat"}, "$"),
        (
            {"action": "send_room_chat_message", "payload": {"room_id": 1, "message_text": ""}},
            "$.payload.message_text",
        ),
        (
            {
                "action": "send_room_chat_message",
                "payload": {"room_id": 1, "message_text": "x", "message_content": [1]},
            },
            "$.payload.message_content",
        ),
        (
            {"action": "typing_indicator", "payload": {"room_id": 1, "is_typing": "yes"}},
            "$.payload.is_typing",
        ),
        ({"action": "ping", "request_id": 1.5}, "$.request_id"),
    ],
)
def test_a_frame_the_document_forbids_fails(frame: dict[str, Any], path: str) -> None:
    assert path in paths(check_outgoing(frame))


@pytest.mark.parametrize(
    "frame",
    [
        broadcast("new_room_chat_message", message(created_at="2026-11-26T05:40:38+00:00")),
        {**broadcast("new_room_chat_message", message()), "request_id": 1},
        broadcast("no_such_event", {}),
        {"action": "join_room_chat", "status": "error", "error": {"code": "nope", "message": "x"}},
        {
            "action": "join_room_chat",
            "status": "error",
            "error": {"code": "rate_limited", "message": "joining too fast"},
        },
        {
            "action": "typing_indicator",
            "status": "success",
            "request_id": 1,
            "data": {"room_id": 1},
        },
    ],
    ids=[
        "time-not-z",
        "broadcast-with-request-id",
        "unknown-event",
        "unknown-code",
        "rate-limited-without-retry",
        "typing-reply-without-is-typing",
    ],
)
def test_a_server_frame_the_document_forbids_fails(frame: dict[str, Any]) -> None:
    assert check_incoming(frame) != []


# -- the document covers the server -------------------------------------------------------


def test_every_action_of_the_gateway_has_a_request_and_a_success_reply_schema() -> None:
    doc = contract()
    assert set(doc.client_frames) == set(table())
    for action in table():
        successes = [n for n in doc.replies[action] if doc.frame_status(n) == "success"]
        assert successes, f"{action}: no success reply in the document"
        assert "ErrorReply" in doc.replies[action]


def test_every_payload_field_of_the_gateway_is_documented_with_its_requiredness() -> None:
    doc = contract()
    for action, spec in table().items():
        payload = doc.schema(doc.client_frames[action])["properties"]["payload"]
        schema = doc.resolve(payload["$ref"]) if "$ref" in payload else payload
        documented = set(schema.get("properties", {}))
        fields = spec.payload.model_fields
        assert set(fields) == documented, action
        required = {name for name, info in fields.items() if info.is_required()}
        assert required == set(schema.get("required", [])), action


def test_every_event_kind_has_a_broadcast_schema_and_nothing_else_is_broadcast() -> None:
    doc = contract()
    broadcast_actions = {doc.frame_action(name) for name in doc.broadcasts}
    assert broadcast_actions == set(kinds.KINDS)


@pytest.mark.parametrize(
    ("operation", "durable"), [("sendRoomEvents", True), ("sendSignals", False)]
)
def test_the_room_events_and_the_signals_operations_split_the_kinds(
    operation: str, durable: bool
) -> None:
    """The JavaScript SDK sequences exactly sendRoomEvents' actions (generated from it)."""
    doc = contract()
    listed = doc.document["operations"][operation]["messages"]
    names = {doc.resolve(ref["$ref"])["name"] for ref in listed}
    assert names == {k for k in kinds.KINDS if kinds.is_durable(k) is durable}


def test_a_catch_up_lists_exactly_the_durable_kinds() -> None:
    items = contract().schema("RoomEventItem")["oneOf"]
    assert {item["properties"]["action"]["const"] for item in items} == set(kinds.DURABLE_KINDS)


def test_the_error_codes_are_the_catalogue() -> None:
    assert set(contract().schema("ErrorCode")["enum"]) == {code.value for code in Code}


def test_the_documents_examples_follow_its_schemas() -> None:
    doc = contract()
    checked = 0
    for name, msg in doc.document["components"]["messages"].items():
        schema = msg["payload"]["$ref"].rsplit("/", 1)[1]
        for example in msg.get("examples", []):
            assert doc.check(schema, example["payload"]) == [], f"{name}: {example['name']}"
            checked += 1
    assert checked >= 4


def test_docs_asyncapi_yaml_is_the_packaged_document() -> None:
    link = ROOT / "docs" / "asyncapi.yaml"
    assert link.is_symlink()
    assert link.resolve() == (ROOT / "src" / "roomchat" / "contract" / "asyncapi.yaml").resolve()


# -- close codes ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "reason"),
    [
        (4401, "token_missing"),
        (4401, "token_invalid"),
        (4401, "token_expired"),
        (4401, "token_revoked"),
        (4401, "ticket_used"),
        (4403, "origin_not_allowed"),
        (4429, "too_many_connections: at most 20 per user"),
        (1009, ""),
        (1013, "too slow: reconnect and catch up"),
        (1012, ""),
        (1000, ""),
    ],
)
def test_a_documented_close_passes(code: int, reason: str) -> None:
    assert check_close(code, reason) == []


@pytest.mark.parametrize(("code", "reason"), [(4401, "bad"), (4401, ""), (4000, ""), (1008, "")])
def test_an_undocumented_close_fails(code: int, reason: str) -> None:
    assert check_close(code, reason) != []


def test_only_a_revoked_token_and_a_refused_origin_are_final_for_a_client() -> None:
    doc = contract()
    final = {(c.code, c.reason) for c in doc.close_codes if c.final and c.code != 1000}
    assert final == {(4401, "token_revoked"), (4403, "origin_not_allowed")}
    backoff = {c.code for c in doc.close_codes if c.retry == "backoff"}
    assert {1006, 1011, 1012, 1013, 4429} <= backoff


# -- the audit of one connection ----------------------------------------------------------


def audit() -> tuple[FrameAudit, list[str]]:
    reported: list[str] = []
    return FrameAudit("ws#test", reported.append), reported


def test_a_forbidden_frame_the_server_refuses_is_no_violation() -> None:
    conn, reported = audit()
    conn.sent({"action": "join_room_chat", "payload": {"room_id": "1"}, "request_id": "a"})
    conn.sent({"action": "launch_rockets", "payload": {}})  # no request_id
    error = {"code": "validation_error", "message": "wrong types"}
    conn.received(
        {"action": "join_room_chat", "status": "error", "request_id": "a", "error": error}
    )
    unknown = {"code": "unknown_action", "message": "unknown action"}
    conn.received({"action": "launch_rockets", "status": "error", "error": unknown})
    assert reported == []


def test_a_forbidden_frame_the_server_accepts_is_a_violation() -> None:
    conn, reported = audit()
    conn.sent({"action": "leave_room_chat", "payload": {"room_id": "1"}, "request_id": 5})
    conn.received(
        {"action": "leave_room_chat", "status": "success", "request_id": 5, "data": {"room_id": 1}}
    )
    assert len(reported) == 1
    assert "accepted" in reported[0] and "$.payload.room_id" in reported[0]


def test_a_broadcast_does_not_settle_a_frame_sent_without_request_id() -> None:
    conn, reported = audit()
    conn.sent({"action": "typing_indicator", "payload": {"room_id": 1, "is_typing": "yes"}})
    conn.received(broadcast("typing_indicator", {"room_id": 1, "user_id": 2, "is_typing": True}))
    assert reported == []


def test_a_broken_server_frame_and_an_undocumented_close_are_reported_once() -> None:
    conn, reported = audit()
    conn.received(broadcast("room_presence", {"room_id": 1, "online": True}))
    conn.closed(4000, "what")
    conn.closed(4000, "what")
    assert len(reported) == 2
    assert reported[0].startswith("ws#test received room_presence/success: $.data:")
    assert "4000" in reported[1]


def test_the_contract_reads_any_document_of_the_same_shape() -> None:
    """The index comes from the operations, so a document without an action has none."""
    doc = contract().document
    trimmed = {**doc, "operations": {k: v for k, v in doc["operations"].items() if k != "ping"}}
    assert "ping" not in Contract(trimmed).client_frames
