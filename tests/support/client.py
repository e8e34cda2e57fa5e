"""What a real client does, over real sockets: the test suite's helpers, built on
roomchat.client (its ``Connection`` for the WebSocket, its ``Rest`` for REST), so every
integration test exercises the Python client's connection layer too."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Self

import httpx
from websockets.asyncio.client import ClientConnection
from websockets.exceptions import ConnectionClosed

from roomchat.client import Connection, Rest
from tests.support.contract import FrameAudit

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
    """REST with assertions: ``call`` checks the exact status a test expects."""

    def __init__(self, base_url: str) -> None:
        self.rest = Rest(base_url)
        self.http = self.rest.http  # the raw path: requests no client would make

    async def aclose(self) -> None:
        await self.rest.aclose()

    async def register(self, name: str | None = None, password: str = "password-123") -> Account:
        body = {"username": unique(name or "user"), "password": password, "display_name": name}
        data = await self.rest.call("POST", "/api/v1/auth/register", json=body)
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
            await self.add_member(owner, ws["id"], member)
        return dict(ws)

    async def add_member(self, owner: Account, workspace_id: int, member: Account) -> None:
        """The owner invites, the member accepts: how anyone joins a workspace."""
        await self.call(
            "POST",
            f"/api/v1/workspaces/{workspace_id}/members",
            owner,
            202,
            json={"user_id": member.id},
        )
        await self.accept_invitation(member, workspace_id)

    async def invitations(self, account: Account) -> list[dict[str, Any]]:
        return list(await self.call("GET", "/api/v1/invitations", account))

    async def accept_invitation(self, member: Account, workspace_id: int) -> dict[str, Any]:
        """Accept the member's pending invitation to the workspace; the workspace."""
        pending = [i for i in await self.invitations(member) if i["workspace_id"] == workspace_id]
        assert len(pending) == 1, pending
        path = f"/api/v1/invitations/{pending[0]['id']}/accept"
        return dict(await self.call("POST", path, member))

    async def room(
        self, creator: Account, workspace_id: int, passcode: str | None = None
    ) -> dict[str, Any]:
        body: dict[str, Any] = {"workspace_id": workspace_id, "name": unique("room")}
        if passcode is not None:
            body["passcode"] = passcode
        return dict(await self.call("POST", "/api/v1/room-chats/", creator, 201, json=body))


class RoomActions:
    """join and say, for any client that can send a request and wait for its reply."""

    async def request(self, action: str, payload: dict[str, Any], timeout: float = 10.0) -> Frame:
        raise NotImplementedError

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


class Ws(RoomActions):
    """A WebSocket client that keeps every frame it received, in order.

    It reads through roomchat.client's ``Connection`` (``link``); ``conn`` is the raw
    WebSocket beneath, for frames no client would send (fuzzing, malformed input).

    Every frame is checked against the AsyncAPI document (``audit``, tests/support/
    contract.py): what it sends with ``send``/``request``, and what it receives, through
    ``link`` or ``conn`` alike. Frames sent raw (``send_raw``, ``conn.send``) are not.
    """

    _opened = 0  # numbers the connections in violation reports

    def __init__(self, link: Connection | ClientConnection) -> None:
        self.link = link if isinstance(link, Connection) else Connection(link)
        self.received: list[Frame] = []
        self._cursor = 0
        Ws._opened += 1
        self.audit = FrameAudit(f"ws#{Ws._opened}")

    @property
    def conn(self) -> ClientConnection:
        """The raw WebSocket: sends unchecked, receives checked."""
        return _AuditedSocket(self.link.websocket, self.audit)  # type: ignore[return-value]

    async def send_raw(self, text: str | bytes) -> None:
        """Send a frame as is, unchecked: a frame the document forbids on purpose."""
        await self.link.websocket.send(text)

    @classmethod
    async def connect(cls, ws_url: str, account: Account) -> Self:
        # The token in the query, as these tests always did (tests of the other ways of
        # connecting name theirs); roomchat.client.Client itself uses tickets.
        return cls(await Connection.open(ws_url, token=account.token, token_in_query=True))

    async def close(self) -> None:
        await self.link.close()

    async def send(self, action: str, payload: dict[str, Any] | None = None, **extra: Any) -> None:
        frame: dict[str, Any] = {"action": action, "payload": payload or {}, **extra}
        self.audit.sent(frame)
        await self.link.send_frame(frame)

    async def _receive(self, timeout: float) -> None:
        try:
            frame = await asyncio.wait_for(self.link.receive(), timeout)
        except ConnectionClosed as closed:
            _audit_close(self.audit, closed)
            raise
        self.audit.received(frame)
        self.received.append(frame)

    async def next(self, timeout: float = 10.0) -> Frame:
        """The next frame not yet consumed by next()/wait_for()."""
        while self._cursor >= len(self.received):
            await self._receive(timeout)
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
            await self._receive(left)

    async def request(
        self, action: str, payload: dict[str, Any] | None = None, timeout: float = 10.0
    ) -> Frame:
        """Send with a request_id and wait for the reply carrying it."""
        request_id = uuid.uuid4().hex
        await self.send(action, payload, request_id=request_id)
        return await self.wait_for(lambda f: f.get("request_id") == request_id, timeout)

    def messages(self, room_id: int | None = None) -> list[Frame]:
        """Every new_room_chat_message broadcast received so far (data only)."""
        return [
            f["data"]
            for f in self.received
            if f.get("action") == "new_room_chat_message"
            and (room_id is None or f["data"]["room_id"] == room_id)
        ]


class _AuditedSocket:
    """The raw WebSocket of a ``Ws``: what it receives is checked like any frame; what
    it sends is not (the raw path is for frames no client would send)."""

    def __init__(self, websocket: ClientConnection, audit: FrameAudit) -> None:
        self._websocket = websocket
        self._audit = audit

    async def recv(self, *args: Any, **kwargs: Any) -> str | bytes:
        try:
            raw: str | bytes = await self._websocket.recv(*args, **kwargs)
        except ConnectionClosed as closed:
            _audit_close(self._audit, closed)
            raise
        self._audit.received_raw(raw)
        return raw

    def __getattr__(self, name: str) -> Any:
        return getattr(self._websocket, name)


def _audit_close(audit: FrameAudit, closed: ConnectionClosed) -> None:
    if closed.rcvd is not None:
        audit.closed(closed.rcvd.code, closed.rcvd.reason)


def is_message(text: str) -> Callable[[Frame], bool]:
    return lambda f: (
        f.get("action") == "new_room_chat_message" and f["data"]["message_text"] == text
    )


# Added helpers (the ones above keep their behaviour).


def caught_up_messages(data: dict[str, Any]) -> list[Any]:
    """The new messages a join reply holds: its ``messages``, or (joined with
    ``after_seq``) the ``new_room_chat_message`` events among its ``events``."""
    if "messages" in data:
        return list(data["messages"])
    return [e["data"] for e in data["events"] if e["action"] == "new_room_chat_message"]


def error_code(frame: Frame) -> str | None:
    """The error code of an error reply, None for a success."""
    if frame.get("status") != "error":
        return None
    return str(frame["error"]["code"])


def is_reply(request_id: str) -> Callable[[Frame], bool]:
    return lambda f: f.get("request_id") == request_id


async def login(api: Api, username: str, password: str, expect: int = 200) -> Any:
    return await api.call(
        "POST",
        "/api/v1/auth/login",
        None,
        expect,
        json={"username": username, "password": password},
    )


# Query parameters every paged REST list refuses (a validation_error), and the test ids
# that name them.
BAD_PAGING: list[dict[str, Any]] = [
    {"limit": 101},
    {"limit": 0},
    {"limit": -1},
    {"limit": "many"},
    {"limit": "1.0"},
    {"after_seq": -1},
    {"after_seq": "x"},
    {"after_seq": "+1"},
    {"after_seq": "1e3"},
]


def paging_id(params: dict[str, Any]) -> str:
    return "&".join(f"{k}={v}" for k, v in params.items())


async def history(api: Api, account: Account, room_id: int, **params: Any) -> Any:
    """GET the room's messages page ({messages, has_more}) over REST."""
    return await api.call("GET", f"/api/v1/room-chats/{room_id}/messages", account, params=params)


async def stored_texts(api: Api, account: Account, room_id: int) -> list[str]:
    """Every stored message_text of a room (up to 100), oldest first."""
    page = await history(api, account, room_id, after_seq=0, limit=100)
    return [m["message_text"] for m in page["messages"]]


async def until(ws: Ws, match: Callable[[Frame], bool], timeout: float = 10.0) -> list[Frame]:
    """The unconsumed frames in arrival order, up to and including the first that matches."""
    frames: list[Frame] = []
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        left = deadline - asyncio.get_running_loop().time()
        if left <= 0:
            raise TimeoutError("no matching frame")
        frame = await ws.next(left)
        frames.append(frame)
        if match(frame):
            return frames


async def send_many(
    ws: Ws, room_id: int, texts: list[str], timeout: float = 30.0, **payload: Any
) -> list[Frame]:
    """Send every message at once (pipelined), then wait for each reply; replies in order."""
    request_ids = [uuid.uuid4().hex for _ in texts]
    for request_id, text in zip(request_ids, texts, strict=True):
        await ws.send(
            "send_room_chat_message",
            {"room_id": room_id, "message_text": text, **payload},
            request_id=request_id,
        )
    return [await ws.wait_for(is_reply(r), timeout) for r in request_ids]


def is_pong(request_id: str) -> Callable[[Frame], bool]:
    return lambda f: f.get("action") == "pong" and f.get("request_id") == request_id


async def marker(ws: Ws, timeout: float = 10.0) -> list[Frame]:
    """Frames that arrived before a ping's pong (in order): what the server had sent so far.

    The server handles one connection's frames in order and queues every frame it
    sends to a connection in order, so anything it queued before handling the ping
    arrives before the pong.
    """
    request_id = uuid.uuid4().hex
    await ws.send("ping", {}, request_id=request_id)
    return (await until(ws, is_pong(request_id), timeout))[:-1]


class TracedWs(Ws):
    """A Ws that also keeps every frame in arrival order (``wait_for`` reorders ``received``),
    recorded by the connection's tap as each frame is read."""

    def __init__(self, link: Connection | ClientConnection) -> None:
        super().__init__(link)
        self.arrivals: list[Frame] = []
        self.raw_arrivals: list[bytes] = []  # the same frames, as the bytes the server sent
        self.link.tap = self._record

    def _record(self, raw: str | bytes, frame: Frame) -> None:
        self.arrivals.append(frame)
        self.raw_arrivals.append(raw.encode() if isinstance(raw, str) else raw)

    def seqs(self, room_id: int) -> list[int]:
        """The seqs of the room's message broadcasts, in arrival order."""
        return [
            f["data"]["seq"]
            for f in self.arrivals
            if f.get("action") == "new_room_chat_message" and f["data"]["room_id"] == room_id
        ]


def register_sync(base_url: str, *names: str, password: str = "password-123") -> list[Account]:
    """Register accounts without an event loop: for module-scoped fixtures that share users."""
    accounts = []
    with httpx.Client(base_url=base_url, timeout=30) as http:
        for name in names:
            response = http.post(
                "/api/v1/auth/register",
                json={"username": unique(name), "password": password, "display_name": name},
            )
            assert response.status_code == 201, response.text
            data = response.json()["data"]
            accounts.append(Account(data["user"], data["access_token"]))
    return accounts
