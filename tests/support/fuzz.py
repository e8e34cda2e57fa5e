"""What the fuzzers share: a scene of real ids on a running server, set up without an
event loop (the fuzzers are synchronous: schemathesis calls with requests, the
WebSocket fuzz uses websockets' threaded client)."""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass
from typing import Any

import httpx
from websockets.sync.client import connect

from tests.support.client import Account, register_sync, unique

PASSCODE = "4321"


@dataclass(frozen=True)
class Scene:
    """Alice fuzzes. She owns workspace ``workspace_id`` with ``room_id`` (two messages
    in it) and ``passcode_room_id`` (passcode PASSCODE); Bob owns ``foreign_workspace_id``
    with ``foreign_room_id``, which Alice must never reach."""

    base_url: str
    ws_url: str
    alice: Account
    bob: Account
    workspace_id: int
    room_id: int
    passcode_room_id: int
    join_token: str
    foreign_workspace_id: int
    foreign_room_id: int
    foreign_join_token: str

    @property
    def own_room_ids(self) -> tuple[int, int]:
        return (self.room_id, self.passcode_room_id)


def _call(http: httpx.Client, account: Account, method: str, path: str, **kw: Any) -> Any:
    response = http.request(method, path, headers=account.headers, **kw)
    assert response.status_code < 300, f"{method} {path}: {response.status_code} {response.text}"
    return response.json()["data"]


def _join_token(room: dict[str, Any]) -> str:
    return str(room["link_join"]).rstrip("/").rsplit("/", 1)[-1]


def make_scene(base_url: str, ws_url: str) -> Scene:
    alice, bob = register_sync(base_url, "alice", "bob")
    with httpx.Client(base_url=base_url, timeout=30) as http:
        ws = _call(http, alice, "POST", "/api/v1/workspaces/", json={"name": unique("ws")})
        room = _call(
            http,
            alice,
            "POST",
            "/api/v1/room-chats/",
            json={"workspace_id": ws["id"], "name": unique("room")},
        )
        locked = _call(
            http,
            alice,
            "POST",
            "/api/v1/room-chats/",
            json={"workspace_id": ws["id"], "name": unique("locked"), "passcode": PASSCODE},
        )
        foreign_ws = _call(http, bob, "POST", "/api/v1/workspaces/", json={"name": unique("ws")})
        foreign = _call(
            http,
            bob,
            "POST",
            "/api/v1/room-chats/",
            json={"workspace_id": foreign_ws["id"], "name": unique("room"), "passcode": PASSCODE},
        )
    for text in ("hello", "world"):
        say_sync(ws_url, alice, room["id"], text)
    return Scene(
        base_url=base_url,
        ws_url=ws_url,
        alice=alice,
        bob=bob,
        workspace_id=int(ws["id"]),
        room_id=int(room["id"]),
        passcode_room_id=int(locked["id"]),
        join_token=_join_token(room),
        foreign_workspace_id=int(foreign_ws["id"]),
        foreign_room_id=int(foreign["id"]),
        foreign_join_token=_join_token(foreign),
    )


def say_sync(ws_url: str, account: Account, room_id: int, text: str) -> dict[str, Any]:
    """Send one message over a short-lived socket; its stored form."""
    request_id = uuid.uuid4().hex
    with connect(f"{ws_url}?token={account.token}", compression=None, open_timeout=10) as conn:
        conn.send(
            json.dumps(
                {
                    "action": "send_room_chat_message",
                    "payload": {"room_id": room_id, "message_text": text},
                    "request_id": request_id,
                }
            )
        )
        while True:
            frame = json.loads(conn.recv(timeout=10))
            if frame.get("request_id") == request_id:
                assert frame["status"] == "success", frame
                return dict(frame["data"])


def _paged(base_url: str, account: Account, room_id: int, what: str) -> list[dict[str, Any]]:
    """Every item of a room's ``/messages`` or ``/events`` pages, oldest first."""
    items: list[dict[str, Any]] = []
    after = 0
    with httpx.Client(base_url=base_url, timeout=30) as http:
        while True:
            page = _call(
                http,
                account,
                "GET",
                f"/api/v1/room-chats/{room_id}/{what}",
                params={"after_seq": after, "limit": 100},
            )
            items.extend(page[what])
            if not page["has_more"] or not page[what]:
                return items
            last = page[what][-1]
            after = int(last["seq"] if what == "messages" else last["data"]["seq"])


def all_messages(base_url: str, account: Account, room_id: int) -> list[dict[str, Any]]:
    """Every stored message of a room, oldest first, through the REST pages."""
    return _paged(base_url, account, room_id, "messages")


def all_event_seqs(base_url: str, account: Account, room_id: int) -> list[int]:
    """The seq of every durable event of a room (messages, joins, ...), oldest first."""
    return [int(e["data"]["seq"]) for e in _paged(base_url, account, room_id, "events")]
