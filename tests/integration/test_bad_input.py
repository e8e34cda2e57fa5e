"""Bad input over the WebSocket: a clear error, nothing stored, and the connection goes on."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

import pytest
import websockets

from tests.support.client import (
    Account,
    Api,
    Ws,
    error_code,
    is_message,
    is_reply,
    marker,
    register_sync,
    stored_texts,
    until,
)
from tests.support.server import ServerProcess


@dataclass
class Scene:
    alice: Account
    bob: Account
    room: dict[str, Any]
    a: Ws
    b: Ws


@pytest.fixture(scope="module")
def people(server: ServerProcess) -> list[Account]:
    """Alice and Bob, registered once per server; each test gives them a fresh room."""
    return register_sync(server.base_url, "alice", "bob")


@pytest.fixture
async def scene(server: ServerProcess, api: Api, people: list[Account]) -> AsyncIterator[Scene]:
    """Alice and Bob joined to a room of their own on their own connections."""
    alice, bob = people
    ws = await api.workspace(alice, bob)
    room = await api.room(alice, ws["id"])
    a, b = await Ws.connect(server.ws_url, alice), await Ws.connect(server.ws_url, bob)
    await a.join(room["id"])
    await b.join(room["id"])
    # The first time bob joins this room, he becomes a member: alice gets that event
    # (bob's join reply already holds it: its seq is past it).
    await a.wait_for(lambda f: f.get("action") == "room_member_joined")
    await a.wait_for(lambda f: f.get("action") == "room_presence")  # bob is online
    yield Scene(alice, bob, room, a, b)
    await a.close()
    await b.close()


async def raw_reply(ws: Ws, text: str | bytes) -> dict[str, Any]:
    """Send a raw frame; the next frame is its reply (no request_id to match on)."""
    await ws.conn.send(text)
    return await ws.next()


async def still_works(scene: Scene, text: str) -> None:
    """The connection still sends, and the other side gets only that message (nothing else)."""
    await scene.a.say(scene.room["id"], text)
    arrived = await until(scene.b, is_message(text))
    assert [
        f["data"]["message_text"] for f in arrived if f["action"] == "new_room_chat_message"
    ] == [text]


@pytest.mark.parametrize(
    ("frame", "code"),
    [
        ("{not json", "bad_request"),
        ("", "bad_request"),
        ("[1, 2, 3]", "bad_request"),
        ('"join_room_chat"', "bad_request"),
        ("42", "bad_request"),
        ("null", "bad_request"),
        ('{"payload": {"room_id": 1}}', "bad_request"),
        ('{"action": 7, "payload": {}}', "bad_request"),
        ('{"action": "join_room_chat", "payload": [1]}', "bad_request"),
        ('{"action": "launch_rockets", "payload": {}}', "unknown_action"),
        (b'{"action": "launch_rockets", "payload": {}}', "unknown_action"),
    ],
    ids=[
        "malformed-json",
        "empty",
        "array",
        "string",
        "number",
        "null",
        "missing-action",
        "action-not-a-string",
        "payload-not-an-object",
        "unknown-action",
        "unknown-action-binary-frame",
    ],
)
async def test_a_bad_frame_gets_an_error_reply_and_the_connection_still_works(
    scene: Scene, frame: str | bytes, code: str
) -> None:
    reply = await raw_reply(scene.a, frame)
    assert reply["status"] == "error", reply
    assert reply["error"]["code"] == code
    assert reply["error"]["message"]
    await still_works(scene, "after a bad frame")


async def test_unknown_action_reply_names_the_action_and_echoes_request_id(scene: Scene) -> None:
    reply = await scene.a.request("launch_rockets", {})
    assert reply["action"] == "launch_rockets"
    assert error_code(reply) == "unknown_action"


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("join_room_chat", {}),
        ("join_room_chat", {"room_id": "1"}),
        ("join_room_chat", {"room_id": 1.5}),
        ("join_room_chat", {"room_id": None}),
        ("join_room_chat", {"room_id": 1, "passcode": 1234}),
        ("join_room_chat", {"room_id": 1, "after_seq": -1}),
        ("send_room_chat_message", {"message_text": "hi"}),
        ("send_room_chat_message", {"room_id": "ROOM_AS_STRING", "message_text": "hi"}),
        ("send_room_chat_message", {"room_id": "ROOM"}),
        ("send_room_chat_message", {"room_id": "ROOM", "message_text": 5}),
        ("send_room_chat_message", {"room_id": "ROOM", "message_text": ["hi"]}),
        (
            "send_room_chat_message",
            {"room_id": "ROOM", "message_text": "hi", "message_content": ["an", "array"]},
        ),
        ("send_room_chat_message", {"room_id": "ROOM", "message_text": "hi", "message_content": 7}),
        (
            "send_room_chat_message",
            {"room_id": "ROOM", "message_text": "hi", "message_content": True},
        ),
        ("send_room_chat_message", {"room_id": "ROOM", "message_text": "hi", "client_msg_id": 3}),
        ("typing_indicator", {"room_id": "ROOM", "is_typing": "yes"}),
        ("leave_room_chat", {"room_id": "1"}),
    ],
)
async def test_missing_or_wrongly_typed_fields_are_a_validation_error(
    scene: Scene, api: Api, action: str, payload: dict[str, Any]
) -> None:
    rid = scene.room["id"]
    placeholders = {"ROOM": rid, "ROOM_AS_STRING": str(rid)}
    payload = {k: placeholders.get(v, v) if isinstance(v, str) else v for k, v in payload.items()}
    reply = await scene.a.request(action, payload)
    assert reply["action"] == action
    assert error_code(reply) == "validation_error", reply
    assert reply["error"]["details"]
    assert await stored_texts(api, scene.alice, rid) == []
    await still_works(scene, "after a validation error")


@pytest.mark.parametrize(
    ("text", "content"),
    [
        ("", None),
        ("   ", None),
        ("\n\t  \r\n", None),
        ("x" * 4001, None),
        ("ok", "c" * (16 * 1024 + 1)),
        ("ok", "é" * (8 * 1024 + 1)),  # 16 KiB + 2 bytes in UTF-8, though only 8 K characters
    ],
    ids=["empty", "spaces", "whitespace", "text-4001", "content-16KiB+1", "content-multibyte"],
)
async def test_an_unacceptable_message_is_refused_and_not_stored_or_broadcast(
    scene: Scene, api: Api, text: str, content: str | None
) -> None:
    rid = scene.room["id"]
    payload: dict[str, Any] = {"room_id": rid, "message_text": text}
    if content is not None:
        payload["message_content"] = content
    reply = await scene.a.request("send_room_chat_message", payload)
    assert error_code(reply) == "validation_error", reply
    await still_works(scene, "the next one")
    assert await stored_texts(api, scene.alice, rid) == ["the next one"]


async def test_messages_at_the_limits_are_accepted(scene: Scene, api: Api) -> None:
    rid = scene.room["id"]
    longest = "y" * 4000
    content = "c" * (16 * 1024)
    sent = await scene.a.say(rid, longest, message_content=content)
    assert sent["message_text"] == longest and sent["message_content"] == content
    frame = await scene.b.wait_for(is_message(longest))
    assert frame["data"]["message_content"] == content
    assert await stored_texts(api, scene.alice, rid) == [longest]
    # An empty message_content is kept as sent (docs/protocol.md, "Objects").
    assert (await scene.a.say(rid, "plain", message_content=""))["message_content"] == ""


async def test_a_frame_over_64_kib_closes_the_connection_with_1009(
    server: ServerProcess, scene: Scene, api: Api
) -> None:
    rid = scene.room["id"]
    huge = json.dumps(
        {
            "action": "send_room_chat_message",
            "payload": {"room_id": rid, "message_text": "z" * (64 * 1024 + 10)},
        }
    )
    await scene.a.conn.send(huge)
    with pytest.raises(websockets.ConnectionClosed) as closed:
        while True:
            await scene.a.next()
    assert closed.value.rcvd is not None and closed.value.rcvd.code == 1009
    # Nothing was stored, and the server still serves everyone else.
    assert await stored_texts(api, scene.alice, rid) == []
    await scene.b.say(rid, "still here")
    fresh = await Ws.connect(server.ws_url, scene.alice)
    try:
        history = (await fresh.join(rid))["data"]["messages"]
        assert [m["message_text"] for m in history] == ["still here"]
    finally:
        await fresh.close()


async def test_request_id_is_echoed_on_success_and_error_replies(scene: Scene) -> None:
    rid = scene.room["id"]
    for request_id in ("req-ok-1", 12345):
        await scene.a.send(
            "send_room_chat_message",
            {"room_id": rid, "message_text": f"id {request_id}"},
            request_id=request_id,
        )
        reply = await scene.a.wait_for(is_reply(request_id))  # type: ignore[arg-type]
        assert reply["status"] == "success" and reply["request_id"] == request_id
        assert reply["action"] == "send_room_chat_message"

    for action, payload in [
        ("send_room_chat_message", {"room_id": rid, "message_text": "  "}),
        ("join_room_chat", {"room_id": 10**9}),
        ("no_such_action", {}),
    ]:
        await scene.a.send(action, payload, request_id="req-err")
        reply = await scene.a.wait_for(is_reply("req-err"))
        assert reply["status"] == "error" and reply["action"] == action

    await scene.a.send("ping", {}, request_id=7)
    pong = await scene.a.wait_for(is_reply(7))  # type: ignore[arg-type]
    assert pong == {"action": "pong", "status": "success", "request_id": 7, "data": {}}


async def test_a_reply_without_request_id_has_none(scene: Scene) -> None:
    await scene.a.send("ping", {})
    frames = await until(scene.a, lambda f: f.get("action") == "pong")
    assert "request_id" not in frames[-1]


async def test_same_client_msg_id_twice_stores_one_message_and_replies_the_same(
    scene: Scene, api: Api
) -> None:
    rid = scene.room["id"]
    first = await scene.a.say(rid, "once", client_msg_id="cm-1")
    again = await scene.a.say(rid, "once", client_msg_id="cm-1")
    assert again == first
    assert first["client_msg_id"] == "cm-1"
    # Bob saw it once: the marker after the retry arrives with no second copy before it.
    await scene.a.say(rid, "marker")
    arrived = await until(scene.b, is_message("marker"))
    texts = [f["data"]["message_text"] for f in arrived if f["action"] == "new_room_chat_message"]
    assert texts == ["once", "marker"]
    assert await stored_texts(api, scene.alice, rid) == ["once", "marker"]


async def test_reusing_a_client_msg_id_for_different_text_is_a_conflict(
    scene: Scene, api: Api
) -> None:
    rid = scene.room["id"]
    await scene.a.say(rid, "original", client_msg_id="cm-2")
    reply = await scene.a.request(
        "send_room_chat_message",
        {"room_id": rid, "message_text": "changed", "client_msg_id": "cm-2"},
    )
    assert error_code(reply) == "conflict"
    # Another user may use the same id for their own message.
    await scene.b.say(rid, "bob's own", client_msg_id="cm-2")
    assert await stored_texts(api, scene.alice, rid) == ["original", "bob's own"]


async def test_concurrent_retries_with_one_client_msg_id_store_one_message(
    server: ServerProcess, scene: Scene, api: Api
) -> None:
    """A retry racing the original on two connections still yields one message."""
    rid = scene.room["id"]
    a2 = await Ws.connect(server.ws_url, scene.alice)
    try:
        payload = {"room_id": rid, "message_text": "raced", "client_msg_id": "cm-race"}
        await scene.a.send("send_room_chat_message", payload, request_id="r1")
        await a2.send("send_room_chat_message", payload, request_id="r2")
        r1 = await scene.a.wait_for(is_reply("r1"))
        r2 = await a2.wait_for(is_reply("r2"))
    finally:
        await a2.close()
    assert r1["status"] == r2["status"] == "success"
    assert r1["data"] == r2["data"]
    assert await stored_texts(api, scene.alice, rid) == ["raced"]


async def test_leaving_a_room_not_joined_is_a_bad_request_and_leaving_stops_broadcasts(
    scene: Scene,
) -> None:
    rid = scene.room["id"]
    reply = await scene.b.request("leave_room_chat", {"room_id": rid + 1000})
    assert error_code(reply) == "bad_request"
    left = await scene.b.request("leave_room_chat", {"room_id": rid})
    assert left["status"] == "success" and left["data"] == {"room_id": rid}
    await scene.a.say(rid, "after bob left")
    assert not [f for f in await marker(scene.b) if f.get("action") == "new_room_chat_message"]


@pytest.mark.parametrize(
    "payload",
    [
        {"message_text": "nul \x00 inside"},
        {"message_text": "fine", "message_content": "nul \x00 inside"},
        {"message_text": "fine", "client_msg_id": "nul-\x00"},
    ],
    ids=["text", "content", "client_msg_id"],
)
async def test_a_nul_character_is_refused_the_same_on_every_backend(
    scene: Scene, api: Api, payload: dict[str, Any]
) -> None:
    """PostgreSQL cannot store U+0000 in text; the answer is a validation error, not a crash."""
    rid = scene.room["id"]
    reply = await scene.a.request("send_room_chat_message", {"room_id": rid, **payload})
    assert error_code(reply) == "validation_error", reply
    await still_works(scene, "after a NUL")
    assert await stored_texts(api, scene.alice, rid) == ["after a NUL"]


async def test_one_unstorable_message_does_not_fail_other_peoples_concurrent_sends(
    server: ServerProcess, scene: Scene, api: Api
) -> None:
    """Sends from many connections share a commit; a bad one must not take the others down."""
    rid = scene.room["id"]
    others = [await Ws.connect(server.ws_url, scene.bob) for _ in range(4)]
    try:
        for n, conn in enumerate(others):
            await conn.send(
                "send_room_chat_message",
                {"room_id": rid, "message_text": f"good {n}"},
                request_id=f"good-{n}",
            )
        await scene.a.send(
            "send_room_chat_message",
            {"room_id": rid, "message_text": "bad \x00"},
            request_id="bad",
        )
        bad = await scene.a.wait_for(is_reply("bad"))
        goods = [await conn.wait_for(is_reply(f"good-{n}")) for n, conn in enumerate(others)]
    finally:
        for conn in others:
            await conn.close()
    assert [g["status"] for g in goods] == ["success"] * 4, goods
    assert error_code(bad) == "validation_error"
    assert sorted(await stored_texts(api, scene.alice, rid)) == [f"good {n}" for n in range(4)]


TOO_BIG = 2**63  # one past the largest id a database row can have


@pytest.mark.parametrize(
    ("action", "payload"),
    [
        ("join_room_chat", {"room_id": TOO_BIG}),
        ("join_room_chat", {"room_id": "ROOM", "after_seq": TOO_BIG}),
        ("send_room_chat_message", {"room_id": TOO_BIG, "message_text": "x"}),
        ("typing_indicator", {"room_id": TOO_BIG, "is_typing": True}),
    ],
    ids=["join", "join-after_seq", "send", "typing"],
)
async def test_an_id_beyond_64_bits_is_a_validation_error_not_a_crash(
    scene: Scene, action: str, payload: dict[str, Any]
) -> None:
    payload = {k: scene.room["id"] if v == "ROOM" else v for k, v in payload.items()}
    reply = await scene.a.request(action, payload)
    assert error_code(reply) == "validation_error", reply
    await still_works(scene, "after a huge id")
