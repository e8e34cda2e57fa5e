// wsnode peer: the ceiling (bench/peers/ceiling_server.py) on Node.js with the `ws` library.
//
// Same JSON actions, same replies: join_room_chat (replies with the last 50
// messages of the room, kept in memory), leave_room_chat, send_room_chat_message
// (replies to the sender, then one pre-built frame written to every member of the
// room), ping. No auth, no database. permessage-deflate off, 1 MiB frames at most.
//
// Run: node bench/peers/node/ws_server.js --port 8103
"use strict";

const http = require("node:http");
const { parseArgs } = require("node:util");
const { WebSocketServer, WebSocket } = require("ws");

const { values: args } = parseArgs({
  options: {
    host: { type: "string", default: "127.0.0.1" },
    port: { type: "string", default: "8103" },
  },
});

const rooms = new Map(); // room id -> Set of sockets
const history = new Map(); // room id -> the last 50 messages, oldest first
const seqs = new Map();
let nextId = 1;

function reply(action, data, requestId) {
  const out = { action, status: "success", data };
  if (requestId !== undefined && requestId !== null) out.request_id = requestId;
  return JSON.stringify(out);
}

function error(action, code, requestId) {
  const out = { action, status: "error", error: { code, message: code } };
  if (requestId !== undefined && requestId !== null) out.request_id = requestId;
  return JSON.stringify(out);
}

const PONG = '{"action":"pong","status":"success","data":{}}';

// One JSON encode and one WebSocket frame (header + payload, built once) for every
// member. Writing a frame made by Sender.frame() through each socket's sender is
// what the ws author suggests for broadcasts (websockets/ws#617) and what
// socket.io's engine does; with compression off the sender never queues, so the
// frame goes out in order with the socket's other sends.
function broadcast(members, text) {
  const frame = WebSocket.Sender.frame(Buffer.from(text), {
    fin: true,
    rsv1: false,
    opcode: 1, // text
    mask: false,
    readOnly: false,
  });
  for (const ws of members) {
    if (ws.readyState === WebSocket.OPEN) ws._sender.sendFrame(frame);
  }
}

function onMessage(ws, joined, raw) {
  let action, payload, rid;
  try {
    const msg = JSON.parse(raw);
    if (!("action" in msg)) throw new TypeError("no action");
    action = msg.action;
    payload = msg.payload || {};
    rid = msg.request_id;
  } catch {
    ws.send(error(null, "bad_request", null));
    return;
  }
  if (action === "send_room_chat_message") {
    const room = payload.room_id;
    if (!joined.has(room)) {
      ws.send(error(action, "forbidden", rid));
      return;
    }
    const seq = (seqs.get(room) || 0) + 1;
    seqs.set(room, seq);
    const m = {
      id: nextId++,
      room_id: room,
      seq,
      user_id: null,
      user: null,
      message_text: payload.message_text ?? "",
      message_content: payload.message_content ?? null,
      client_msg_id: payload.client_msg_id ?? null,
      created_at: new Date().toISOString(),
    };
    const h = history.get(room);
    h.push(m);
    if (h.length > 50) h.shift();
    ws.send(reply(action, m, rid));
    broadcast(
      rooms.get(room),
      JSON.stringify({ action: "new_room_chat_message", status: "success", data: m }),
    );
  } else if (action === "join_room_chat") {
    const room = payload.room_id;
    if (!Number.isInteger(room)) {
      ws.send(error(action, "validation_error", rid));
      return;
    }
    if (!rooms.has(room)) rooms.set(room, new Set());
    rooms.get(room).add(ws);
    if (!history.has(room)) history.set(room, []);
    joined.add(room);
    const data = { room: { id: room }, messages: history.get(room).slice(), has_more: false };
    ws.send(reply(action, data, rid));
  } else if (action === "leave_room_chat") {
    const room = payload.room_id;
    joined.delete(room);
    rooms.get(room)?.delete(ws);
    ws.send(reply(action, { room_id: room }, rid));
  } else if (action === "ping") {
    ws.send(PONG);
  } else {
    ws.send(error(action, "unknown_action", rid));
  }
}

const server = http.createServer((_req, res) => {
  res.writeHead(426, { "Content-Type": "text/plain" });
  res.end("WebSocket only\n");
});
const wss = new WebSocketServer({
  server,
  perMessageDeflate: false,
  maxPayload: 2 ** 20,
  clientTracking: false,
});

wss.on("connection", (ws) => {
  const joined = new Set();
  ws.on("message", (raw) => onMessage(ws, joined, raw.toString()));
  ws.on("close", () => {
    for (const room of joined) rooms.get(room)?.delete(ws);
  });
  ws.on("error", () => {}); // a broken client closes; nothing else to do
});

for (const sig of ["SIGTERM", "SIGINT"]) process.on(sig, () => process.exit(0));

server.listen({ host: args.host, port: Number(args.port), backlog: 4096 }, () => {
  console.log(`wsnode listening on ${args.host}:${args.port}`);
});
