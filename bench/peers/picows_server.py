"""picows peer: the ceiling (ceiling_server.py) on picows, the fastest a Python process fans out.

picows (a Cython WebSocket protocol for asyncio, on uvloop; frames are handed to
callbacks, no coroutine per connection) with the same JSON actions and replies as
the ceiling: join_room_chat (replies with the last 50 messages of the room, kept in
memory), leave_room_chat, send_room_chat_message (replies to the sender, then one
pre-encoded frame written to every member of the room), ping. No auth, no database.

Run: python bench/peers/picows_server.py --port 8105
"""

from __future__ import annotations

import argparse
import asyncio
import resource
from collections import deque
from datetime import UTC, datetime
from itertools import count
from typing import Any

import orjson
from picows import (
    WSCloseCode,
    WSFrame,
    WSListener,
    WSMsgType,
    WSTransport,
    WSUpgradeRequest,
    ws_create_server,
)

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

MAX_SIZE = 2**20
# send_reuse_external_bytearray writes the frame header into the bytes before the payload
HEADROOM = 14

rooms: dict[int, set[WSTransport]] = {}
history: dict[int, deque[dict[str, Any]]] = {}
seqs: dict[int, int] = {}
ids = count(1)
PONG = b'{"action":"pong","status":"success","data":{}}'


def reply(action: str, data: Any, request_id: Any) -> bytes:
    out: dict[str, Any] = {"action": action, "status": "success", "data": data}
    if request_id is not None:
        out["request_id"] = request_id
    return orjson.dumps(out)


def error(action: Any, code: str, request_id: Any) -> bytes:
    out = {"action": action, "status": "error", "error": {"code": code, "message": code}}
    if request_id is not None:
        out["request_id"] = request_id
    return orjson.dumps(out)


def broadcast(members: set[WSTransport], payload: bytes) -> None:
    """One encoded frame for every member: the payload is never copied again, the (same)
    header is written in front of it and the whole frame goes to the socket as it is."""
    buf = bytearray(HEADROOM) + payload
    for t in members:
        t.send_reuse_external_bytearray(WSMsgType.TEXT, buf, HEADROOM)


class Client(WSListener):
    def __init__(self) -> None:
        self.joined: set[int] = set()
        self.parts: list[bytes] = []  # a fragmented message so far

    def on_ws_frame(self, t: WSTransport, frame: WSFrame) -> None:
        op = frame.msg_type
        if op == WSMsgType.CLOSE:
            t.send_close(frame.get_close_code(), frame.get_close_message())
            t.disconnect()
            return
        if op not in (WSMsgType.TEXT, WSMsgType.BINARY, WSMsgType.CONTINUATION):
            return  # pings are answered by picows itself
        if not frame.fin or self.parts:  # the load generator never fragments; others may
            self.parts.append(frame.get_payload_as_bytes())
            if sum(map(len, self.parts)) > MAX_SIZE:
                t.send_close(WSCloseCode.MESSAGE_TOO_BIG)
                t.disconnect()
                return
            if not frame.fin:
                return
            raw: Any = b"".join(self.parts)
            self.parts = []
        else:
            raw = frame.get_payload_as_memoryview()
        self.on_message(t, raw)

    def on_message(self, t: WSTransport, raw: Any) -> None:
        send = t.send
        try:
            msg = orjson.loads(raw)
            action = msg["action"]
            payload = msg.get("payload") or {}
            rid = msg.get("request_id")
        except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
            send(WSMsgType.TEXT, error(None, "bad_request", None))
            return
        if action == "send_room_chat_message":
            room = payload.get("room_id")
            if room not in self.joined:
                send(WSMsgType.TEXT, error(action, "forbidden", rid))
                return
            seq = seqs[room] = seqs.get(room, 0) + 1
            m = {
                "id": next(ids),
                "room_id": room,
                "seq": seq,
                "user_id": None,
                "user": None,
                "message_text": payload.get("message_text", ""),
                "message_content": payload.get("message_content"),
                "client_msg_id": payload.get("client_msg_id"),
                "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
            }
            history[room].append(m)
            send(WSMsgType.TEXT, reply(action, m, rid))
            broadcast(
                rooms[room],
                orjson.dumps({"action": "new_room_chat_message", "status": "success", "data": m}),
            )
        elif action == "join_room_chat":
            room = payload.get("room_id")
            if not isinstance(room, int):
                send(WSMsgType.TEXT, error(action, "validation_error", rid))
                return
            rooms.setdefault(room, set()).add(t)
            h = history.setdefault(room, deque(maxlen=50))
            self.joined.add(room)
            data = {"room": {"id": room}, "messages": list(h), "has_more": False}
            send(WSMsgType.TEXT, reply(action, data, rid))
        elif action == "leave_room_chat":
            room = payload.get("room_id")
            self.joined.discard(room)
            rooms.get(room, set()).discard(t)
            send(WSMsgType.TEXT, reply(action, {"room_id": room}, rid))
        elif action == "ping":
            send(WSMsgType.TEXT, PONG)
        else:
            send(WSMsgType.TEXT, error(action, "unknown_action", rid))

    def on_ws_disconnected(self, t: WSTransport) -> None:
        for room in self.joined:
            rooms.get(room, set()).discard(t)


def listener(_request: WSUpgradeRequest) -> Client:
    return Client()


async def main(host: str, port: int) -> None:
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    server = await ws_create_server(listener, host, port, max_frame_size=MAX_SIZE, backlog=4096)
    print(f"picows listening on {host}:{port}", flush=True)
    await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8105)
    a = ap.parse_args()
    (uvloop.run if uvloop else asyncio.run)(main(a.host, a.port))
