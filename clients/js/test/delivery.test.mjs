// Exactly once on the two hard edges: a send whose reply is lost with the connection
// (retried, stored once), and a broadcast lost while connected (a gap, fetched).
// Queued messages survive the client (a persisted outbox).

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { webStorageOutbox } from "../dist/index.js";
import { clientFor, closeClients, register, until, waitFor, workspaceWithRoom } from "./support/accounts.mjs";
import { FaultProxy } from "./support/proxy.mjs";
import { RoomchatServer, freePort } from "./support/server.mjs";

describe("delivery", { timeout: 60_000 }, () => {
  // A catch-up reply holds at most 3 events: the rest is paged from the event log.
  const server = new RoomchatServer({ catch_up_limit: 3 });
  let proxy;
  before(async () => {
    await server.start();
    proxy = await new FaultProxy(server.port).start();
  });
  after(async () => {
    await closeClients();
    await proxy?.close();
    await server.stop();
  });

  it("sends again after a drop that took the reply, and the message is stored once", async () => {
    const account = await register(server.baseUrl, "rs");
    const { room } = await workspaceWithRoom(account);
    const client = clientFor(server, account, { wsUrl: proxy.wsUrl });
    const handle = await client.join(room.id);
    // The server stores the message and answers; the connection dies before the answer.
    const cut = proxy.cutAt((frame) => frame.action === "send_room_chat_message" && frame.status === "success");
    const reconnected = waitFor(client, "connected", (c) => c.reconnected);
    const message = await handle.send("only once", { clientMsgId: "once-1" });
    await reconnected;
    assert.equal(cut.hits.length, 1, "the first reply was lost with the connection");
    assert.equal(cut.hits[0].data.id, message.id, "the retry answered the message stored the first time");

    const history = await account.rest.listMessages(room.id, { limit: 100 });
    assert.deepEqual(history.messages.map((m) => m.client_msg_id), ["once-1"]);
    await until(handle, "change", () => handle.state.messages.length === 1 && handle.state.messages[0].status === "sent");
    await client.close();
  });

  it("fetches a broadcast missing while connected, and hands it over in order", async () => {
    const talker = await register(server.baseUrl, "gt");
    const reader = await register(server.baseUrl, "gr");
    const { room } = await workspaceWithRoom(talker, [reader]);
    const client = clientFor(server, reader, { wsUrl: proxy.wsUrl });
    const handle = await client.join(room.id);
    const sender = clientFor(server, talker);
    const senderRoom = await sender.join(room.id);
    const start = handle.state.seq;
    const missing = start + 2;
    const dropped = proxy.dropFrames((frame) => frame.action === "new_room_chat_message" && frame.data?.seq === missing);
    const states = [];
    client.on("state", (change) => states.push(change.state));
    const order = [];
    handle.on("event", (event) => order.push(event.data.seq));

    for (const text of ["one", "two", "three"]) await senderRoom.send(text);
    await until(handle, "event", () => order.length === 3);
    assert.equal(dropped.hits.length, 1, "the broadcast of seq start+2 never reached the client");
    assert.deepEqual(order, [start + 1, start + 2, start + 3]);
    assert.deepEqual(handle.state.messages.map((m) => m.message_text), ["one", "two", "three"]);
    assert.deepEqual(states, [], "the connection stayed up: the gap was read from the log");
    await Promise.all([client.close(), sender.close()]);
  });

  it("pages the event log when a catch-up reply says has_more", async () => {
    const talker = await register(server.baseUrl, "pt");
    const reader = await register(server.baseUrl, "pr");
    const { room } = await workspaceWithRoom(talker, [reader]);
    const client = clientFor(server, reader, { wsUrl: proxy.wsUrl });
    const handle = await client.join(room.id);
    const order = [];
    handle.on("event", (event) => order.push(event.data.seq));
    const start = handle.state.seq;

    // Away while ten events happen: the catch-up holds 3 of them and has_more; the
    // rest comes from the event log.
    const catchUps = proxy.watch((frame) => frame.action === "join_room_chat" && Array.isArray(frame.data?.events));
    proxy.refuse(true);
    const away = waitFor(client, "state", (change) => change.state === "disconnected");
    client.reconnect();
    await away;
    for (let i = 0; i < 10; i++) await talker.rest.postMessage(room.id, { message_text: `while away ${i}` });
    proxy.refuse(false);
    await until(handle, "event", () => order.length === 10, 20_000);
    assert.deepEqual(order, Array.from({ length: 10 }, (_, i) => start + 1 + i));
    assert.deepEqual(catchUps.hits.map((reply) => [reply.data.events.length, reply.data.has_more]), [[3, true]]);
    assert.equal(client.state, "connected");
    await client.close();
  });

  it("keeps queued messages in a persisted outbox until a later client sends them", async () => {
    const account = await register(server.baseUrl, "ob");
    const { room } = await workspaceWithRoom(account);
    const kept = new Map();
    const storage = {
      getItem: (key) => kept.get(key) ?? null,
      setItem: (key, value) => kept.set(key, value),
      removeItem: (key) => kept.delete(key),
    };
    // The first client never gets through (nothing listens where it connects).
    const offline = clientFor(server, account, {
      wsUrl: `ws://127.0.0.1:${await freePort()}/ws`,
      outbox: webStorageOutbox(storage, "outbox"),
    });
    offline.user = account.user;
    const queued = offline.send(room.id, "written offline", { clientMsgId: "offline-1" });
    queued.catch(() => {}); // rejected at close: the message stays queued in the storage
    offline.connect().catch(() => {});
    await offline.close();
    assert.deepEqual(JSON.parse(kept.get("outbox")).map((e) => e.client_msg_id), ["offline-1"]);

    const online = clientFor(server, account, { outbox: webStorageOutbox(storage, "outbox") });
    const handle = await online.join(room.id);
    const stored = await waitFor(online, "outbox", (change) => change.message !== null);
    assert.equal(stored.message.client_msg_id, "offline-1");
    await until(handle, "change", () => handle.state.messages.some((m) => m.client_msg_id === "offline-1" && m.status === "sent"));
    const history = await account.rest.listMessages(room.id, { limit: 100 });
    assert.deepEqual(history.messages.map((m) => m.message_text), ["written offline"]);
    await online.close();
    assert.equal(kept.has("outbox"), false, "the outbox is empty once sent");
  });

  it("queues a message with files like any other, and sends it with them once", async () => {
    const account = await register(server.baseUrl, "of");
    const { room } = await workspaceWithRoom(account);
    const first = await account.rest.uploadAttachment(room.id, new TextEncoder().encode("one"), "one.txt");
    const second = await account.rest.uploadAttachment(room.id, new TextEncoder().encode("two"), "two.txt");
    const client = clientFor(server, account, { wsUrl: proxy.wsUrl });
    const handle = await client.join(room.id);
    // Offline when sent: the message waits, showing the files it attaches.
    proxy.refuse(true);
    const dropped = waitFor(client, "state", (change) => change.state === "disconnected");
    proxy.drop();
    await dropped;
    const sent = handle.send("", { attachmentIds: [second.id, first.id] });
    const waiting = handle.state.messages.at(-1);
    assert.equal(waiting.status, "pending");
    assert.deepEqual(waiting.attachment_ids, [second.id, first.id]);
    proxy.refuse(false);
    client.reconnectNow();
    const message = await sent;
    assert.deepEqual(message.attachments.map((a) => a.filename), ["two.txt", "one.txt"]);
    const history = await account.rest.listMessages(room.id, { limit: 100 });
    assert.deepEqual(history.messages.map((m) => m.attachments.map((a) => a.id)), [[second.id, first.id]]);
    await client.close();
  });
});
