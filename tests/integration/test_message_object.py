"""Issue 22, findings 4, 5 and 6 as a client sees them over real sockets: a message is
one object wherever it appears (the send reply, the broadcast, history, the event log,
a join); ``message_content`` comes back as it was sent (``""`` and JSON objects too,
16 KiB at most); every message-change event carries ``message_id`` and the message as
it is after the change, and a later delete leaves no text in any of them; a room names
its ``link_token``."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import pytest

from roomchat.client import (
    Client,
    Event,
    MessageDeleted,
    NewMessage,
    ReactionAdded,
)
from tests.support.client import (
    Account,
    Api,
    TracedWs,
    Ws,
    error_code,
    history,
    marker,
)
from tests.support.server import ServerProcess

NEW = "new_room_chat_message"
EDITED = "room_chat_message_edited"
DELETED = "room_chat_message_deleted"
ADDED = "room_chat_reaction_added"
REMOVED = "room_chat_reaction_removed"
CHANGES = (EDITED, DELETED, ADDED, REMOVED)
# The one message object, its keys in order (docs/protocol.md, "Objects").
MESSAGE_KEYS = [
    "id",
    "room_id",
    "seq",
    "thread_root_id",
    "user_id",
    "user",
    "message_text",
    "message_content",
    "client_msg_id",
    "created_at",
    "edited_at",
    "deleted_at",
    "reactions",
    "thread",
    "mentions",
    "mentions_room",
    "attachments",
]
# Rich content as a client sends it: nested, every JSON type, keys not in sorted order.
RICH: dict[str, Any] = {
    "type": "image",
    "url": "https://cdn.example.com/a.png",
    "size": {"w": 640, "h": 480},
    "alt": 'café ☕ \u2028 "q" \\',
    "tags": ["a", 1, 2.5, True, None, {"deep": []}],
    "z": 0,
    "a": -1.25e-7,
}
LIMIT = 16 * 1024  # message_content, in bytes


@dataclass
class Scene:
    alice: Account  # created the workspace and the room
    bob: Account
    carol: Account  # in the workspace, not in the room
    room: dict[str, Any]
    a: TracedWs
    b: TracedWs

    @property
    def rid(self) -> int:
        return int(self.room["id"])


@pytest.fixture
async def scene(server: ServerProcess, api: Api) -> AsyncIterator[Scene]:
    alice, bob, carol = [await api.register(n) for n in ("alice", "bob", "carol")]
    workspace = await api.workspace(alice, bob, carol)
    room = await api.room(alice, workspace["id"])
    a = await TracedWs.connect(server.ws_url, alice)
    b = await TracedWs.connect(server.ws_url, bob)
    await a.join(room["id"])
    await b.join(room["id"])
    try:
        yield Scene(alice, bob, carol, room, a, b)
    finally:
        for conn in (a, b):
            await marker(conn)
            await conn.close()


async def ok(ws: Ws, action: str, **payload: Any) -> dict[str, Any]:
    reply = await ws.request(action, payload)
    assert reply["status"] == "success", reply
    return reply["data"]  # type: ignore[no-any-return]


async def broadcast(ws: Ws, action: str, seq: int) -> dict[str, Any]:
    frame = await ws.wait_for(
        lambda f: f.get("action") == action and "request_id" not in f and f["data"]["seq"] == seq
    )
    return frame["data"]  # type: ignore[no-any-return]


def data_bytes(raw: bytes) -> bytes:
    """A frame's ``data`` as the server encoded it (``data`` is the last key)."""
    return raw[raw.index(b',"data":') + len(b',"data":') : -1]


async def history_now(api: Api, account: Account, room_id: int) -> list[dict[str, Any]]:
    return list((await history(api, account, room_id, after_seq=0, limit=100))["messages"])


async def events_now(api: Api, account: Account, room_id: int) -> list[dict[str, Any]]:
    path = f"/api/v1/room-chats/{room_id}/events"
    page = await api.call("GET", path, account, params={"after_seq": 0, "limit": 100})
    return list(page["events"])


async def test_a_new_message_is_one_object_wherever_it_appears(
    server: ServerProcess, api: Api, scene: Scene
) -> None:
    reply = await scene.a.say(scene.rid, "hello", message_content=RICH, client_msg_id="m-1")
    assert list(reply) == MESSAGE_KEYS
    assert (reply["edited_at"], reply["deleted_at"], reply["reactions"]) == (None, None, [])
    assert reply["message_content"] == RICH and list(reply["message_content"]) == list(RICH)

    live = await broadcast(scene.b, NEW, reply["seq"])
    assert live == reply
    # The same bytes: the reply, the broadcast (each connection's) and the event log.
    await marker(scene.a)
    sent = [r for r in scene.a.raw_arrivals if b'"action":"send_room_chat_message"' in r]
    heard = [r for r in scene.b.raw_arrivals if r.startswith(b'{"action":"new_room_chat')]
    assert data_bytes(sent[-1]) == data_bytes(heard[-1])
    body = (
        await api.http.get(
            f"/api/v1/room-chats/{scene.rid}/events",
            headers=scene.bob.headers,
            params={"after_seq": reply["seq"] - 1},
        )
    ).content
    assert data_bytes(heard[-1]) in body

    assert (await history_now(api, scene.bob, scene.rid))[-1] == reply
    assert (await events_now(api, scene.bob, scene.rid))[-1] == {"action": NEW, "data": reply}
    late = await Ws.connect(server.ws_url, scene.bob)
    try:
        joined = (await late.join(scene.rid))["data"]
        assert joined["messages"][-1] == reply
        caught_up = (await late.join(scene.rid, after_seq=reply["seq"] - 1))["data"]
        assert caught_up["events"] == [{"action": NEW, "data": reply}]
    finally:
        await late.close()

    # Over REST, the same object (and the room hears it as new_room_chat_message).
    path = f"/api/v1/room-chats/{scene.rid}/messages"
    posted = await api.call(
        "POST", path, scene.alice, 201, json={"message_text": "rest", "message_content": RICH}
    )
    assert list(posted) == MESSAGE_KEYS and posted["message_content"] == RICH
    assert await broadcast(scene.b, NEW, posted["seq"]) == posted


async def test_content_comes_back_as_it_was_sent(api: Api, scene: Scene) -> None:
    sent = {}
    for n, content in enumerate(["", "plain", {}, RICH, None]):
        reply = await scene.a.say(scene.rid, f"m{n}", message_content=content)
        assert reply["message_content"] == content and type(reply["message_content"]) is type(
            content
        )
        sent[reply["id"]] = content
    for shown in await history_now(api, scene.bob, scene.rid):
        assert shown["message_content"] == sent[shown["id"]]
        assert type(shown["message_content"]) is type(sent[shown["id"]])

    # Editing: not given, it stays; "" and objects are kept as sent; null clears it.
    target = await scene.a.say(scene.rid, "edit me", message_content=RICH)

    async def edit(**content: Any) -> Any:
        data = await ok(
            scene.a,
            "edit_room_chat_message",
            room_id=scene.rid,
            message_id=target["id"],
            message_text=f"edit {len(str(content))}",
            **content,
        )
        return data["message"]["message_content"]

    assert await edit() == RICH
    assert await edit(message_content="") == ""
    assert await edit(message_content={"v": [2]}) == {"v": [2]}
    assert await edit(message_content=None) is None

    # A retry with the same client_msg_id and the same object is the same message; the
    # same keys in another order are another content.
    first = await scene.a.say(scene.rid, "once", message_content=RICH, client_msg_id="c-rich")
    again = await scene.a.say(scene.rid, "once", message_content=RICH, client_msg_id="c-rich")
    assert again["id"] == first["id"]
    reordered = dict(reversed(list(RICH.items())))
    reply = await scene.a.request(
        "send_room_chat_message",
        {
            "room_id": scene.rid,
            "message_text": "once",
            "message_content": reordered,
            "client_msg_id": "c-rich",
        },
    )
    assert error_code(reply) == "conflict", reply


async def test_content_is_bounded_and_only_a_string_or_an_object(api: Api, scene: Scene) -> None:
    wrapper = len(b'{"k":""}')
    at_limit = {"k": "é" * ((LIMIT - wrapper) // 2)}  # two UTF-8 bytes each
    compact = json.dumps(at_limit, ensure_ascii=False, separators=(",", ":")).encode()
    assert len(compact) == LIMIT  # the bound is on the compact encoding's bytes
    fits = await scene.a.say(scene.rid, "fits", message_content=at_limit)
    assert fits["message_content"] == at_limit
    target = fits["id"]
    over = {"k": "x" * (LIMIT - wrapper + 1)}
    refused: list[Any] = [over, "x" * (LIMIT + 1), ["an", "array"], 3, 2.5, True, False]
    for content in refused:
        payload = {"room_id": scene.rid, "message_text": "no", "message_content": content}
        reply = await scene.a.request("send_room_chat_message", payload)
        assert error_code(reply) == "validation_error", (content, reply)
        edit = {**payload, "message_id": target}
        reply = await scene.a.request("edit_room_chat_message", edit)
        assert error_code(reply) == "validation_error", (content, reply)
        response = await api.http.post(
            f"/api/v1/room-chats/{scene.rid}/messages",
            headers=scene.alice.headers,
            json={"message_text": "no", "message_content": content},
        )
        assert response.status_code == 422, (content, response.text)
    # Nothing of it was stored or changed.
    shown = await history_now(api, scene.bob, scene.rid)
    assert [m["message_text"] for m in shown] == ["fits"]
    assert shown[0]["edited_at"] is None


async def test_every_change_event_carries_the_message_after_the_change(
    api: Api, scene: Scene
) -> None:
    sent = await scene.a.say(scene.rid, "react to me", message_content={"v": 1})
    mid = {"room_id": scene.rid, "message_id": sent["id"]}
    steps = [
        (scene.b, "add_room_chat_reaction", {"reaction": "👍"}, ADDED),
        (scene.a, "add_room_chat_reaction", {"reaction": "🎉"}, ADDED),
        (
            scene.a,
            "edit_room_chat_message",
            {"message_text": "edited", "message_content": ""},
            EDITED,
        ),
        (scene.b, "remove_room_chat_reaction", {"reaction": "👍"}, REMOVED),
        (scene.a, "delete_room_chat_message", {}, DELETED),
    ]
    for ws, action, extra, kind in steps:
        reply = await ok(ws, action, **mid, **extra)
        assert reply["changed"] is True and reply["message_id"] == sent["id"]
        live = await broadcast(scene.a, kind, reply["seq"])
        assert live == {k: v for k, v in reply.items() if k != "changed"}
        assert list(live)[:3] == ["room_id", "seq", "message_id"] and list(live)[-1] == "message"
        shown = live["message"]
        assert list(shown) == MESSAGE_KEYS and shown["id"] == sent["id"]
        assert shown["seq"] == sent["seq"]  # the message keeps its place
        # The message as the history shows it right after the change.
        assert shown == (await history_now(api, scene.bob, scene.rid))[-1]

    tomb = live["message"]
    assert (tomb["message_text"], tomb["message_content"], tomb["reactions"]) == (None, None, [])
    assert tomb["deleted_at"] is not None and tomb["edited_at"] is not None
    logged = await events_now(api, scene.bob, scene.rid)
    about = [e["action"] for e in logged if e["action"] in (NEW, *CHANGES)]
    assert about == [NEW, ADDED, ADDED, EDITED, REMOVED, DELETED]


async def test_a_reaction_then_a_delete_leaves_no_text_in_the_log(
    server: ServerProcess, api: Api, scene: Scene
) -> None:
    secret_text, secret_file = "the merger is off", "board-minutes-v3.pdf"
    sent = await scene.a.say(
        scene.rid, secret_text, message_content={"file": secret_file, "pages": 3}
    )
    mid = {"room_id": scene.rid, "message_id": sent["id"]}
    added = await ok(scene.b, "add_room_chat_reaction", **mid, reaction="😮")
    assert added["message"]["message_text"] == secret_text  # shown while it stood
    await ok(scene.a, "add_room_chat_reaction", **mid, reaction="👀")
    deleted = await ok(scene.a, "delete_room_chat_message", **mid)

    over_rest = (
        await api.http.get(
            f"/api/v1/room-chats/{scene.rid}/events",
            headers=scene.bob.headers,
            params={"after_seq": 0},
        )
    ).content
    late = await TracedWs.connect(server.ws_url, scene.bob)
    try:
        caught_up = (await late.join(scene.rid, after_seq=0))["data"]
        await marker(late)
        replies = [r for r in late.raw_arrivals if b'"action":"join_room_chat"' in r]
    finally:
        await late.close()
    for raw in (over_rest, *replies):
        for secret in (secret_text, secret_file):
            assert secret.encode() not in raw, f"{secret!r} is still readable"

    about = [e for e in caught_up["events"] if e["action"] in (NEW, *CHANGES)]
    assert [e["action"] for e in about] == [NEW, ADDED, ADDED, DELETED]
    shown = [about[0]["data"], *(e["data"]["message"] for e in about[1:])]
    for message in shown:  # every event that showed the message: a tombstone now
        assert message["id"] == sent["id"]
        assert message["message_text"] is None and message["message_content"] is None
        assert message["deleted_at"] == deleted["message"]["deleted_at"]
    # Each keeps the reactions of its time.
    assert [[r["reaction"] for r in m["reactions"]] for m in shown] == [
        [],
        ["😮"],
        ["😮", "👀"],
        [],
    ]


async def test_a_room_names_its_link_token(api: Api, scene: Scene) -> None:
    room = scene.room
    assert room["link_token"] and urlsplit(room["link_join"]).path == f"/join/{room['link_token']}"
    path = f"/api/v1/room-chats/{scene.rid}"
    assert (await api.call("GET", path, scene.bob))["link_token"] == room["link_token"]
    outside = await api.call("GET", path, scene.carol)  # in the workspace, not the room
    assert (outside["link_join"], outside["link_token"]) == (None, None)
    listed = await api.call(
        "GET", f"/api/v1/room-chats/workspace/{room['workspace_id']}", scene.carol
    )
    assert [(r["link_join"], r["link_token"]) for r in listed] == [(None, None)]
    joined = (await scene.b.join(scene.rid))["data"]["room"]
    assert joined["link_token"] == room["link_token"]

    rotated = await api.call("POST", f"{path}/link/rotate", scene.alice)
    assert rotated["link_token"] not in (None, room["link_token"])
    assert rotated["link_join"].endswith(f"/join/{rotated['link_token']}")
    frame = await scene.b.wait_for(lambda f: f.get("action") == "room_chat_updated")
    assert frame["data"]["room"]["link_token"] == rotated["link_token"]


async def next_of(chat: Client, kind: type[Event], timeout: float = 15.0) -> Any:
    async with asyncio.timeout(timeout):
        while True:
            event = await chat.next_event()
            if isinstance(event, kind):
                return event


async def test_the_python_client_sends_and_reads_the_new_shapes(
    server: ServerProcess, scene: Scene
) -> None:
    async with Client(server.base_url, token=scene.bob.token) as chat:
        await chat.join(scene.rid)
        message = await chat.send(scene.rid, "from the client", content=RICH)
        assert message.content == RICH and message.reactions == ()
        assert (await next_of(chat, NewMessage)).message == message
        edited = await chat.edit(scene.rid, message.id, "edited", content="")
        assert edited.content == "" and edited.text == "edited"
        kept = await chat.edit(scene.rid, message.id, "edited again")
        assert kept.content == ""
        await chat.react(scene.rid, message.id, "👍")
        reacted = await next_of(chat, ReactionAdded)
        assert reacted.message is not None and reacted.message.text == "edited again"
        assert [(r.reaction, r.count) for r in reacted.message.reactions] == [("👍", 1)]
        await chat.delete(scene.rid, message.id)
        deleted = await next_of(chat, MessageDeleted)
        assert deleted.message is not None and deleted.message.deleted
        assert deleted.message.text is None and deleted.message.content is None
