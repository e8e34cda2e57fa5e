"""What a real client does, over real sockets: REST with httpx, WebSocket with websockets."""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx
import websockets
from websockets.asyncio.client import ClientConnection

Frame = dict[str, Any]


def unique(prefix: str) -> str:
    return f"{prefix}_{uuid.uuid4().hex[:8]}"


@dataclass
class Account:
    user: dict[str, Any]
    token: str

    @property
    def id(self) -> int:
        return int(self.user["id"])

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


class Api:
    def __init__(self, base_url: str) -> None:
        self.http = httpx.AsyncClient(base_url=base_url, timeout=30)

    async def aclose(self) -> None:
        await self.http.aclose()

    async def register(self, name: str | None = None, password: str = "password-123") -> Account:
        username = unique(name or "user")
        response = await self.http.post(
            "/api/v1/auth/register",
            json={"username": username, "password": password, "display_name": name},
        )
        assert response.status_code == 201, response.text
        data = response.json()["data"]
        return Account(data["user"], data["access_token"])

    async def call(
        self, method: str, path: str, account: Account | None, expect: int = 200, **kw: Any
    ) -> Any:
        headers = account.headers if account else {}
        response = await self.http.request(method, path, headers=headers, **kw)
        assert response.status_code == expect, f"{method} {path}: {response.text}"
        body = response.json()
        return body["data"] if expect < 400 else body["error"]

    async def workspace(self, owner: Account, *members: Account) -> dict[str, Any]:
        ws = await self.call("POST", "/api/v1/workspaces/", owner, 201, json={"name": unique("ws")})
        for member in members:
            await self.call(
                "POST",
                f"/api/v1/workspaces/{ws['id']}/members",
                owner,
                201,
                json={"user_id": member.id},
            )
        return dict(ws)

    async def room(
        self, creator: Account, workspace_id: int, passcode: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"workspace_id": workspace_id, "name": unique("room")}
        if passcode is not None:
            body["passcode"] = passcode
        return dict(await self.call("POST", "/api/v1/room-chats/", creator, 201, json=body))


@dataclass
class Ws:
    """A WebSocket client that keeps every frame it received, in order."""

    conn: ClientConnection
    received: list[Frame] = field(default_factory=list)
    _cursor: int = 0

    @classmethod
    async def connect(cls, ws_url: str, account: Account) -> Ws:
        conn = await websockets.connect(
            f"{ws_url}?token={account.token}", max_size=2**22, compression=None
        )
        return cls(conn)

    async def close(self) -> None:
        await self.conn.close()

    async def send(self, action: str, payload: dict[str, Any] | None = None, **extra: Any) -> None:
        frame: dict[str, Any] = {"action": action, "payload": payload or {}, **extra}
        await self.conn.send(json.dumps(frame))

    async def next(self, timeout: float = 10.0) -> Frame:
        """The next frame not yet consumed by next()/wait_for()."""
        while self._cursor >= len(self.received):
            raw = await asyncio.wait_for(self.conn.recv(), timeout)
            self.received.append(json.loads(raw))
        frame = self.received[self._cursor]
        self._cursor += 1
        return frame

    async def wait_for(self, match: Callable[[Frame], bool], timeout: float = 10.0) -> Frame:
        """The first unconsumed frame that matches; frames before it stay in ``received``."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            for index in range(self._cursor, len(self.received)):
                if match(self.received[index]):
                    frame = self.received.pop(index)
                    self.received.insert(self._cursor, frame)
                    self._cursor += 1
                    return frame
            left = deadline - asyncio.get_running_loop().time()
            if left <= 0:
                raise TimeoutError("no matching frame")
            raw = await asyncio.wait_for(self.conn.recv(), left)
            self.received.append(json.loads(raw))

    async def request(
        self, action: str, payload: dict[str, Any] | None = None, timeout: float = 10.0
    ) -> Frame:
        """Send with a request_id and wait for the reply carrying it."""
        request_id = uuid.uuid4().hex
        await self.send(action, payload, request_id=request_id)
        return await self.wait_for(lambda f: f.get("request_id") == request_id, timeout)

    async def join(self, room_id: int, **payload: Any) -> Frame:
        reply = await self.request("join_room_chat", {"room_id": room_id, **payload})
        assert reply["status"] == "success", reply
        return reply

    async def say(self, room_id: int, text: str, **payload: Any) -> Frame:
        reply = await self.request(
            "send_room_chat_message", {"room_id": room_id, "message_text": text, **payload}
        )
        assert reply["status"] == "success", reply
        return reply["data"]  # type: ignore[no-any-return]

    def messages(self, room_id: int | None = None) -> list[Frame]:
        """Every new_room_chat_message broadcast received so far (data only)."""
        return [
            f["data"]
            for f in self.received
            if f.get("action") == "new_room_chat_message"
            and (room_id is None or f["data"]["room_id"] == room_id)
        ]


def is_message(text: str) -> Callable[[Frame], bool]:
    return lambda f: (
        f.get("action") == "new_room_chat_message" and f["data"]["message_text"] == text
    )
