"""python-socketio peer: what a user would pick instead of roomchat.

python-socketio AsyncServer (ASGI) on uvicorn with its documented fast settings
(uvloop + httptools, websocket transport, orjson as the `json` module,
permessage-deflate off). Rooms are Socket.IO rooms (enter_room / emit to the
room). Messages are stored the same way roomchat stores them: PostgreSQL via an
asyncpg pool, one INSERT per message (or SQLite via aiosqlite with --sqlite).
With --redis the AsyncRedisManager fans messages out between instances.

Events (acks carry roomchat's reply shape {"status", "data"}):
  join_room_chat {room_id}  -> {room, messages: last 50 (oldest first), has_more}
  leave_room_chat {room_id} -> {room_id}
  send_room_chat_message {room_id, message_text, message_content?, client_msg_id?} -> message,
      and emits new_room_chat_message (the message) to the room, sender included
  ping {} -> {}
Connect with auth {"user_id": N}.

Run: python bench/peers/socketio_server.py --port 8102 --pg postgresql://postgres@127.0.0.1/db
"""

from __future__ import annotations

import argparse
import resource
from datetime import UTC, datetime
from typing import Any

import orjson
import socketio
import uvicorn

SCHEMA = """
CREATE TABLE IF NOT EXISTS sio_messages (
    id BIGSERIAL PRIMARY KEY,
    room_id INTEGER NOT NULL,
    user_id INTEGER,
    message_text TEXT NOT NULL,
    message_content TEXT,
    client_msg_id TEXT,
    created_at TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS sio_messages_room_id ON sio_messages (room_id, id);
"""

SQLITE_SCHEMA = """
CREATE TABLE IF NOT EXISTS sio_messages (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    room_id INTEGER NOT NULL,
    user_id INTEGER,
    message_text TEXT NOT NULL,
    message_content TEXT,
    client_msg_id TEXT,
    created_at TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS sio_messages_room_id ON sio_messages (room_id, id);
"""


class OrjsonModule:
    """python-socketio's documented `json=` hook, with orjson behind it."""

    @staticmethod
    def dumps(obj: Any, **_: Any) -> str:
        return orjson.dumps(obj).decode()

    @staticmethod
    def loads(s: str | bytes, **_: Any) -> Any:
        return orjson.loads(s)


def iso(dt: datetime) -> str:
    return dt.astimezone(UTC).isoformat().replace("+00:00", "Z")


class PgStore:
    def __init__(self, dsn: str, pool_size: int) -> None:
        self.dsn = dsn
        self.pool_size = pool_size

    async def start(self) -> None:
        import asyncpg

        self.pool = await asyncpg.create_pool(
            self.dsn, min_size=self.pool_size, max_size=self.pool_size
        )
        async with self.pool.acquire() as c:
            await c.execute("SELECT pg_advisory_lock(4242)")
            await c.execute(SCHEMA)
            await c.execute("SELECT pg_advisory_unlock(4242)")

    async def insert(self, room: int, user: int | None, p: dict[str, Any]) -> dict[str, Any]:
        row = await self.pool.fetchrow(
            "INSERT INTO sio_messages (room_id, user_id, message_text, message_content,"
            " client_msg_id) VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at",
            room, user, p.get("message_text", ""), p.get("message_content"),
            p.get("client_msg_id"),
        )
        return {
            "id": row["id"], "room_id": room, "user_id": user,
            "message_text": p.get("message_text", ""),
            "message_content": p.get("message_content"),
            "client_msg_id": p.get("client_msg_id"), "created_at": iso(row["created_at"]),
        }

    async def history(self, room: int, limit: int = 50) -> list[dict[str, Any]]:
        rows = await self.pool.fetch(
            "SELECT id, room_id, user_id, message_text, message_content, client_msg_id,"
            " created_at FROM sio_messages WHERE room_id = $1 ORDER BY id DESC LIMIT $2",
            room, limit + 1,
        )
        out = [dict(r) | {"created_at": iso(r["created_at"])} for r in rows[:limit]]
        out.reverse()
        return out, len(rows) > limit


class SqliteStore:
    def __init__(self, path: str) -> None:
        self.path = path

    async def start(self) -> None:
        import aiosqlite

        self.db = await aiosqlite.connect(self.path)
        await self.db.execute("PRAGMA journal_mode=WAL")
        await self.db.execute("PRAGMA synchronous=NORMAL")
        await self.db.executescript(SQLITE_SCHEMA)
        await self.db.commit()

    async def insert(self, room: int, user: int | None, p: dict[str, Any]) -> dict[str, Any]:
        created = datetime.now(UTC)
        cur = await self.db.execute(
            "INSERT INTO sio_messages (room_id, user_id, message_text, message_content,"
            " client_msg_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
            (room, user, p.get("message_text", ""), p.get("message_content"),
             p.get("client_msg_id"), iso(created)),
        )
        await self.db.commit()
        return {
            "id": cur.lastrowid, "room_id": room, "user_id": user,
            "message_text": p.get("message_text", ""),
            "message_content": p.get("message_content"),
            "client_msg_id": p.get("client_msg_id"), "created_at": iso(created),
        }

    async def history(self, room: int, limit: int = 50) -> tuple[list[dict[str, Any]], bool]:
        cur = await self.db.execute(
            "SELECT id, room_id, user_id, message_text, message_content, client_msg_id,"
            " created_at FROM sio_messages WHERE room_id = ? ORDER BY id DESC LIMIT ?",
            (room, limit + 1),
        )
        cols = [d[0] for d in cur.description]
        rows = [dict(zip(cols, r, strict=True)) for r in await cur.fetchall()]
        out = rows[:limit]
        out.reverse()
        return out, len(rows) > limit


def build(args: argparse.Namespace) -> tuple[socketio.AsyncServer, Any]:
    mgr = None
    if args.redis:
        mgr = socketio.AsyncRedisManager(args.redis, channel=args.channel)
    sio = socketio.AsyncServer(
        async_mode="asgi",
        client_manager=mgr,
        json=OrjsonModule,
        transports=["websocket"],
        cors_allowed_origins=[],
        logger=False,
        engineio_logger=False,
    )
    store = SqliteStore(args.sqlite) if args.sqlite else PgStore(args.pg, args.pool)

    def ok(data: Any) -> dict[str, Any]:
        return {"status": "success", "data": data}

    def err(code: str) -> dict[str, Any]:
        return {"status": "error", "error": {"code": code, "message": code}}

    @sio.event
    async def connect(sid: str, environ: dict[str, Any], auth: Any) -> bool:
        user = auth.get("user_id") if isinstance(auth, dict) else None
        await sio.save_session(sid, {"user_id": user})
        return True

    @sio.on("join_room_chat")
    async def join_room_chat(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        room = data.get("room_id")
        if not isinstance(room, int):
            return err("validation_error")
        await sio.enter_room(sid, str(room))
        messages, has_more = await store.history(room)
        return ok({"room": {"id": room}, "messages": messages, "has_more": has_more})

    @sio.on("leave_room_chat")
    async def leave_room_chat(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        room = data.get("room_id")
        await sio.leave_room(sid, str(room))
        return ok({"room_id": room})

    @sio.on("send_room_chat_message")
    async def send_room_chat_message(sid: str, data: dict[str, Any]) -> dict[str, Any]:
        room = data.get("room_id")
        if not isinstance(room, int) or str(room) not in sio.rooms(sid):
            return err("forbidden")
        session = await sio.get_session(sid)
        msg = await store.insert(room, session.get("user_id"), data)
        await sio.emit("new_room_chat_message", msg, room=str(room))
        return ok(msg)

    @sio.on("ping")
    async def ping(sid: str, data: Any) -> dict[str, Any]:
        return {"status": "success", "action": "pong", "data": {}}

    app = socketio.ASGIApp(sio, on_startup=store.start)
    return sio, app


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--host", default="127.0.0.1")
    ap.add_argument("--port", type=int, default=8102)
    ap.add_argument("--pg", default=None, help="asyncpg DSN")
    ap.add_argument("--pool", type=int, default=10)
    ap.add_argument("--sqlite", default=None, help="SQLite file instead of PostgreSQL")
    ap.add_argument("--redis", default=None, help="redis:// URL: AsyncRedisManager")
    ap.add_argument("--channel", default="roomchat-bench")
    args = ap.parse_args()
    if not (args.pg or args.sqlite):
        ap.error("--pg or --sqlite is required")
    _soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    _, app = build(args)
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        loop="uvloop",
        http="httptools",
        ws="websockets",
        ws_per_message_deflate=False,
        log_level="warning",
        access_log=False,
        backlog=4096,
        lifespan="on",
    )


if __name__ == "__main__":
    main()
