"""Ceiling peer: the least a Python WebSocket chat server can do.

The `websockets` library (asyncio implementation, on uvloop, permessage-deflate
off) with roomchat's JSON actions: join_room_chat (replies with the last 50
messages of the room, kept in memory), leave_room_chat, send_room_chat_message
(replies to the sender, then one pre-encoded frame broadcast to the room with
websockets.broadcast), ping. No auth, no database.

With ``--pg URL`` (the *pgjoin* peer): the same, but each message is INSERTed into
PostgreSQL (asyncpg, autocommit) before it is answered and broadcast, and a join is
one SELECT of the room's last 50: the least a Python server that keeps its history in
a database does per join.

Run: python bench/peers/ceiling_server.py --port 8101 [--pg postgresql://...]
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
from websockets.asyncio.server import ServerConnection, broadcast, serve

try:
    import uvloop
except ImportError:  # pragma: no cover
    uvloop = None

rooms: dict[int, set[ServerConnection]] = {}
history: dict[int, deque[dict[str, Any]]] = {}
seqs: dict[int, int] = {}
ids = count(1)
pool: Any = None  # asyncpg pool with --pg

_CREATE = (
    "CREATE TABLE IF NOT EXISTS ceiling_messages"
    " (room_id bigint, seq bigint, data text NOT NULL, PRIMARY KEY (room_id, seq))"
)
_INSERT = "INSERT INTO ceiling_messages (room_id, seq, data) VALUES ($1, $2, $3)"
_LAST_50 = "SELECT data FROM ceiling_messages WHERE room_id = $1 ORDER BY seq DESC LIMIT 50"


def reply(action: str, data: Any, request_id: Any) -> str:
    out: dict[str, Any] = {"action": action, "status": "success", "data": data}
    if request_id is not None:
        out["request_id"] = request_id
    return orjson.dumps(out).decode()


def error(action: Any, code: str, request_id: Any) -> str:
    out = {"action": action, "status": "error", "error": {"code": code, "message": code}}
    if request_id is not None:
        out["request_id"] = request_id
    return orjson.dumps(out).decode()


async def handler(ws: ServerConnection) -> None:
    joined: set[int] = set()
    try:
        async for raw in ws:
            try:
                msg = orjson.loads(raw)
                action = msg["action"]
                payload = msg.get("payload") or {}
                rid = msg.get("request_id")
            except (orjson.JSONDecodeError, KeyError, TypeError, AttributeError):
                await ws.send(error(None, "bad_request", None))
                continue
            if action == "send_room_chat_message":
                room = payload.get("room_id")
                if room not in joined:
                    await ws.send(error(action, "forbidden", rid))
                    continue
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
                if pool is not None:
                    await pool.execute(_INSERT, room, seq, orjson.dumps(m).decode())
                else:
                    history[room].append(m)
                await ws.send(reply(action, m, rid))
                # one JSON encode, one frame for every member
                broadcast(
                    rooms[room],
                    orjson.dumps(
                        {"action": "new_room_chat_message", "status": "success", "data": m}
                    ).decode(),
                )
            elif action == "join_room_chat":
                room = payload.get("room_id")
                if not isinstance(room, int):
                    await ws.send(error(action, "validation_error", rid))
                    continue
                rooms.setdefault(room, set()).add(ws)
                h = history.setdefault(room, deque(maxlen=50))
                joined.add(room)
                if pool is not None:
                    stored = await pool.fetch(_LAST_50, room)
                    messages = [orjson.Fragment(r[0]) for r in reversed(stored)]
                else:
                    messages = list(h)
                data = {"room": {"id": room}, "messages": messages, "has_more": False}
                await ws.send(reply(action, data, rid))
            elif action == "leave_room_chat":
                room = payload.get("room_id")
                joined.discard(room)
                rooms.get(room, set()).discard(ws)
                await ws.send(reply(action, {"room_id": room}, rid))
            elif action == "ping":
                await ws.send('{"action":"pong","status":"success","data":{}}')
            else:
                await ws.send(error(action, "unknown_action", rid))
    finally:
        for room in joined:
            rooms.get(room, set()).discard(ws)


async def main(host: str, port: int, pg: str | None) -> None:
    global pool
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    if pg:
        import asyncpg

        pool = await asyncpg.create_pool(pg, min_size=2, max_size=10)
        await pool.execute(_CREATE)
    async with serve(handler, host, port, compression=None, backlog=4096, max_size=2**20) as server:
        print(f"ceiling listening on {host}:{port}", flush=True)
        await server.serve_forever()


if __name__ == "__main__":
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8101)
    ap.add_argument("--pg", default=None, help="keep history in PostgreSQL (the pgjoin peer)")
    a = ap.parse_args()
    (uvloop.run if uvloop else asyncio.run)(main(a.host, a.port, a.pg))
