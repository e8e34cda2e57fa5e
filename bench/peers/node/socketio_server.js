// socketionode peer: bench/peers/socketio_server.py on Node.js with `socket.io`.
//
// Same events, acks and storage as the python-socketio peer: websocket transport
// only, permessage-deflate off, rooms are Socket.IO rooms (socket.join / io.to(room)
// .emit). Messages are stored in PostgreSQL with `pg` (a pool of --pool
// connections opened at start, one INSERT per message; named statements, so each
// connection prepares them once, as asyncpg's statement cache does), or in SQLite
// with --sqlite: better-sqlite3 (an optional dependency), WAL and
// synchronous=NORMAL, one INSERT per message committed on its own, like the python
// peer's aiosqlite; better-sqlite3 runs the statement on the event loop's thread
// where aiosqlite uses a thread of its own. With --redis the @socket.io/redis-adapter
// (node-redis, pub/sub, like python-socketio's AsyncRedisManager) fans messages out
// between instances.
//
// Events (acks carry roomchat's reply shape {"status", "data"}):
//   join_room_chat {room_id}  -> {room, messages: last 50 (oldest first), has_more}
//   leave_room_chat {room_id} -> {room_id}
//   send_room_chat_message {room_id, message_text, message_content?, client_msg_id?} -> message,
//       and emits new_room_chat_message (the message) to the room, sender included
//   ping {} -> {}
// Connect with auth {"user_id": N}.
//
// Run: node bench/peers/node/socketio_server.js --port 8104 --pg postgresql://postgres@127.0.0.1/db
"use strict";

const http = require("node:http");
const { parseArgs } = require("node:util");
const { Server } = require("socket.io");

const SCHEMA = `
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
`;

const SQLITE_SCHEMA = `
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
`;

const COLUMNS = "id, room_id, user_id, message_text, message_content, client_msg_id, created_at";

function message(id, room, user, p, createdAt) {
  return {
    id,
    room_id: room,
    user_id: user,
    message_text: p.message_text ?? "",
    message_content: p.message_content ?? null,
    client_msg_id: p.client_msg_id ?? null,
    created_at: createdAt,
  };
}

class PgStore {
  constructor(dsn, poolSize) {
    const pg = require("pg");
    // BIGSERIAL ids as numbers (pg returns int8 as strings), as asyncpg does
    pg.types.setTypeParser(pg.types.builtins.INT8, (v) => Number(v));
    this.pool = new pg.Pool({ connectionString: dsn, max: poolSize, idleTimeoutMillis: 0 });
    this.poolSize = poolSize;
  }

  async start() {
    // open the whole pool now, as asyncpg.create_pool(min_size=max_size) does
    const clients = await Promise.all(
      Array.from({ length: this.poolSize }, () => this.pool.connect()),
    );
    const c = clients[0];
    await c.query("SELECT pg_advisory_lock(4242)");
    await c.query(SCHEMA);
    await c.query("SELECT pg_advisory_unlock(4242)");
    for (const client of clients) client.release();
  }

  async insert(room, user, p) {
    const { rows } = await this.pool.query({
      name: "sio_insert",
      text:
        "INSERT INTO sio_messages (room_id, user_id, message_text, message_content," +
        " client_msg_id) VALUES ($1, $2, $3, $4, $5) RETURNING id, created_at",
      values: [room, user, p.message_text ?? "", p.message_content ?? null,
        p.client_msg_id ?? null],
    });
    return message(rows[0].id, room, user, p, rows[0].created_at.toISOString());
  }

  async history(room, limit = 50) {
    const { rows } = await this.pool.query({
      name: "sio_history",
      text: `SELECT ${COLUMNS} FROM sio_messages WHERE room_id = $1 ORDER BY id DESC LIMIT $2`,
      values: [room, limit + 1],
    });
    const out = rows.slice(0, limit).map((r) => ({ ...r, created_at: r.created_at.toISOString() }));
    out.reverse();
    return [out, rows.length > limit];
  }
}

class SqliteStore {
  constructor(path) {
    this.path = path;
  }

  async start() {
    let Database;
    try {
      Database = require("better-sqlite3");
    } catch (e) {
      throw new Error(`--sqlite needs the optional dependency better-sqlite3: ${e.message}`);
    }
    this.db = new Database(this.path);
    this.db.pragma("journal_mode = WAL");
    this.db.pragma("synchronous = NORMAL");
    this.db.exec(SQLITE_SCHEMA);
    this.insertStmt = this.db.prepare(
      "INSERT INTO sio_messages (room_id, user_id, message_text, message_content," +
        " client_msg_id, created_at) VALUES (?, ?, ?, ?, ?, ?)",
    );
    this.historyStmt = this.db.prepare(
      `SELECT ${COLUMNS} FROM sio_messages WHERE room_id = ? ORDER BY id DESC LIMIT ?`,
    );
  }

  async insert(room, user, p) {
    const createdAt = new Date().toISOString();
    const info = this.insertStmt.run(room, user, p.message_text ?? "",
      p.message_content ?? null, p.client_msg_id ?? null, createdAt);
    return message(Number(info.lastInsertRowid), room, user, p, createdAt);
  }

  async history(room, limit = 50) {
    const rows = this.historyStmt.all(room, limit + 1);
    const out = rows.slice(0, limit);
    out.reverse();
    return [out, rows.length > limit];
  }
}

const ok = (data) => ({ status: "success", data });
const err = (code) => ({ status: "error", error: { code, message: code } });

async function main() {
  const { values: a } = parseArgs({
    options: {
      host: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "8104" },
      pg: { type: "string" },
      pool: { type: "string", default: "10" },
      sqlite: { type: "string" },
      redis: { type: "string" },
      channel: { type: "string", default: "roomchat-bench" },
    },
  });
  if (!a.pg && !a.sqlite) {
    console.error("--pg or --sqlite is required");
    process.exit(2);
  }
  const store = a.sqlite ? new SqliteStore(a.sqlite) : new PgStore(a.pg, Number(a.pool));
  await store.start();

  const httpServer = http.createServer();
  const io = new Server(httpServer, {
    transports: ["websocket"],
    perMessageDeflate: false,
    serveClient: false,
  });
  if (a.redis) {
    const { createClient } = require("redis");
    const { createAdapter } = require("@socket.io/redis-adapter");
    const pub = createClient({ url: a.redis });
    const sub = pub.duplicate();
    await Promise.all([pub.connect(), sub.connect()]);
    io.adapter(createAdapter(pub, sub, { key: a.channel }));
  }

  io.on("connection", (socket) => {
    const auth = socket.handshake.auth;
    socket.data.userId = auth && typeof auth === "object" ? (auth.user_id ?? null) : null;

    // every event answers through its ack; a handler that throws answers with an error
    function on(event, handler) {
      socket.on(event, async (data, ack) => {
        let out;
        try {
          out = await handler(data ?? {});
        } catch (e) {
          console.error(`${event}: ${e.stack || e}`);
          out = err("internal_error");
        }
        if (typeof ack === "function") ack(out);
      });
    }

    on("join_room_chat", async (data) => {
      const room = data.room_id;
      if (!Number.isInteger(room)) return err("validation_error");
      socket.join(String(room));
      const [messages, hasMore] = await store.history(room);
      return ok({ room: { id: room }, messages, has_more: hasMore });
    });

    on("leave_room_chat", async (data) => {
      const room = data.room_id;
      socket.leave(String(room));
      return ok({ room_id: room });
    });

    on("send_room_chat_message", async (data) => {
      const room = data.room_id;
      if (!Number.isInteger(room) || !socket.rooms.has(String(room))) return err("forbidden");
      const msg = await store.insert(room, socket.data.userId, data);
      io.to(String(room)).emit("new_room_chat_message", msg);
      return ok(msg);
    });

    on("ping", async () => ({ status: "success", action: "pong", data: {} }));
  });

  for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));
  httpServer.listen({ host: a.host, port: Number(a.port), backlog: 4096 }, () => {
    console.log(`socketionode listening on ${a.host}:${a.port}`);
  });
}

main().catch((e) => {
  console.error(e);
  process.exit(1);
});
