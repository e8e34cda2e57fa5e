// Reconnecting through a fault-injecting proxy: the connection is dropped, stalled and
// reset while messages flow both ways; every message arrives once, in seq order, and
// every message sent is stored once.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import WebSocket from "ws";

import { clientFor, closeClients, register, until, waitFor, workspaceWithRoom } from "./support/accounts.mjs";
import { FaultProxy } from "./support/proxy.mjs";
import { RoomchatServer } from "./support/server.mjs";

/** The ws WebSocket, counting how many the client holds at once. */
class CountingWebSocket extends WebSocket {
  static held = 0;
  static most = 0;
  static made = 0;

  constructor(url) {
    super(url);
    CountingWebSocket.made += 1;
    CountingWebSocket.held += 1;
    CountingWebSocket.most = Math.max(CountingWebSocket.most, CountingWebSocket.held);
    let released = false;
    const release = () => {
      if (!released) CountingWebSocket.held -= 1;
      released = true;
    };
    this.addEventListener("close", release);
    for (const name of ["close", "terminate"]) {
      const original = this[name].bind(this);
      this[name] = (...args) => {
        release(); // the client let go of it: a new one may come
        original(...args);
      };
    }
  }
}

describe("reconnecting through faults", { timeout: 60_000 }, () => {
  const server = new RoomchatServer();
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

  it("loses and doubles nothing across a drop, a stall and a reset", async () => {
    const talker = await register(server.baseUrl, "talk");
    const listener = await register(server.baseUrl, "lstn");
    const { room } = await workspaceWithRoom(talker, [listener]);

    const sender = clientFor(server, talker);
    const receiver = clientFor(server, listener, { wsUrl: proxy.wsUrl, WebSocket: CountingWebSocket });
    const senderRoom = await sender.join(room.id);
    const receiverRoom = await receiver.join(room.id);
    const startSeq = receiverRoom.state.seq;

    const seen = []; // what the receiver handed over: [seq, client_msg_id]
    receiverRoom.on("event", (event) => {
      if (event.action === "new_room_chat_message") seen.push([event.data.seq, event.data.client_msg_id]);
    });
    const states = [];
    receiver.on("state", (change) => states.push(`${change.state}:${change.reason?.code ?? ""}`));

    const sent = [];
    const sends = [];
    const burst = (who, count, tag) => {
      for (let i = 0; i < count; i++) {
        const id = `${tag}-${i}`;
        sent.push(id);
        sends.push((who === "sender" ? senderRoom : receiverRoom).send(`${tag} ${i}`, { clientMsgId: id }));
      }
    };
    const reconnected = () => waitFor(receiver, "connected", (c) => c.reconnected, 20_000);

    burst("sender", 5, "before");
    // Drop: the receiver's socket closes without a close frame while messages flow.
    let back = reconnected();
    proxy.drop();
    burst("sender", 5, "drop");
    burst("receiver", 3, "drop-own");
    await back;

    // Stall: the socket stays open but nothing passes; the heartbeat must notice.
    back = reconnected();
    proxy.stall();
    burst("sender", 5, "stall");
    burst("receiver", 3, "stall-own");
    await back;

    // Reset: an RST.
    back = reconnected();
    proxy.reset();
    burst("sender", 5, "reset");
    burst("receiver", 3, "reset-own");
    await back;

    await Promise.all(sends);
    await until(receiverRoom, "event", () => seen.length >= sent.length, 20_000);

    const ids = seen.map(([, id]) => id);
    assert.equal(new Set(ids).size, ids.length, "no message twice");
    assert.deepEqual(new Set(ids), new Set(sent), "every message");
    const seqs = seen.map(([seq]) => seq);
    assert.deepEqual(seqs, [...seqs].sort((a, b) => a - b), "in seq order");
    assert.equal(receiverRoom.state.seq, startSeq + sent.length);

    const history = await listener.rest.listMessages(room.id, { limit: 100 });
    const stored = history.messages.map((m) => m.client_msg_id);
    assert.equal(stored.length, sent.length, "each stored once");
    assert.deepEqual(new Set(stored), new Set(sent));
    assert.deepEqual(
      receiverRoom.state.messages.map((m) => m.client_msg_id),
      history.messages.map((m) => m.client_msg_id),
      "the room state is the history",
    );
    assert.ok(states.includes("recovering:heartbeat_timeout"), `the stall was noticed: ${states}`);
    assert.ok(states.filter((s) => s.startsWith("connected")).length >= 3);
    assert.equal(CountingWebSocket.most, 1, "one socket at a time");
    assert.ok(CountingWebSocket.made >= 4, "a new socket after each fault");

    await Promise.all([sender.close(), receiver.close()]);
  });
});
