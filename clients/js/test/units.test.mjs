// The parts without a server: backoff, close codes, the token keeper, the sequencer, the
// room state, and waking up on `online`.

import assert from "node:assert/strict";
import { describe, it } from "node:test";

import {
  Backoff, classifyClose, ROOM_EVENT_ACTIONS, RoomchatClient, RoomchatError, Sequencer, SIGNAL_ACTIONS, TokenKeeper, roomPosition,
  webStorageOutbox,
} from "../dist/index.js";
import { RoomModel } from "../dist/roomstate.js";

describe("Backoff", () => {
  it("draws each delay at random under a ceiling that doubles up to the cap", () => {
    const highest = new Backoff({ initialMs: 100, maxMs: 1000, random: () => 0.999999 });
    assert.deepEqual([1, 2, 3, 4, 5, 6].map(() => highest.next()), [100, 200, 400, 800, 1000, 1000]);
    const jittered = new Backoff({ initialMs: 100, maxMs: 1000 });
    for (let i = 0; i < 50; i++) assert.ok(jittered.next() <= 1000);
    highest.reset();
    assert.equal(highest.next(), 100);
  });
});

describe("close codes", () => {
  const cases = [
    [4401, "token_revoked", "final"],
    [4403, "origin_not_allowed", "final"],
    [4401, "token_expired", "credential"],
    [4401, "token_invalid", "credential"],
    [4401, "token_missing", "credential"],
    [4401, "ticket_used", "credential"],
    [4429, "too_many_connections: at most 20 per user", "retry"],
    [1006, "", "retry"],
    [1011, "", "retry"],
    [1012, "", "retry"],
    [1013, "", "retry"],
  ];
  for (const [code, reason, kind] of cases) {
    it(`${code} ${reason || "(no reason)"} is ${kind}`, () => {
      const classified = classifyClose(code, reason);
      assert.equal(classified.kind, kind);
      assert.equal(classified.reason.final, kind === "final");
      assert.equal(classified.reason.closeCode, code);
    });
  }
});

describe("TokenKeeper", () => {
  it("renews once for every caller at the same time, before expiry", async () => {
    let now = 0;
    let calls = 0;
    let release;
    const keeper = new TokenKeeper({
      initial: { token: "t0", expiresAt: 100_000 },
      refreshMarginMs: 10_000,
      now: () => now,
      provider: () => {
        calls += 1;
        return new Promise((resolve) => (release = () => resolve({ token: `t${calls}`, expiresIn: 1000 })));
      },
    });
    assert.equal(await keeper.get(), "t0");
    now = 95_000; // inside the margin: renew
    const waiting = Array.from({ length: 10 }, () => keeper.get());
    release();
    assert.deepEqual(new Set(await Promise.all(waiting)), new Set(["t1"]));
    assert.equal(calls, 1);
    keeper.stop(new RoomchatError("unauthorized", "revoked"));
  });

  it("gives nothing more once stopped", async () => {
    const keeper = new TokenKeeper({ initial: "opaque", provider: () => "never" });
    keeper.stop(new RoomchatError("unauthorized", "the session was revoked"));
    await assert.rejects(keeper.get(), { code: "unauthorized" });
    assert.equal(await keeper.rejected("opaque"), null);
  });
});

describe("Sequencer", () => {
  const event = (seq, room = 7) => ({ action: "room_member_joined", data: { room_id: room, seq, user_id: seq } });

  it("hands events over once, in order, and fetches a gap from the log", async () => {
    const delivered = [];
    const asked = [];
    let repaired;
    const done = new Promise((resolve) => (repaired = resolve));
    const sequencer = new Sequencer({
      deliver: (room, e) => delivered.push(e.data.seq),
      readPage: async (room, after) => {
        asked.push(after);
        return { events: [event(11), event(12), event(13)], has_more: false };
      },
      lost: () => assert.fail("not lost"),
      repaired: () => repaired(),
    });
    sequencer.follow(7, 10);
    sequencer.offer(event(10)); // had it
    sequencer.offer(event(11));
    sequencer.offer(event(11)); // again
    sequencer.offer(event(13)); // 12 is missing
    sequencer.offer({ action: "room_activity", data: { room_id: 7, seq: 99 } }); // a signal
    sequencer.offer({ action: "room_something_new", data: { room_id: 7, seq: 98 } }); // unknown
    await done;
    assert.deepEqual(delivered, [11, 12, 13]);
    assert.deepEqual(asked, [11]);
    assert.equal(sequencer.position(7), 13);
  });
});

describe("Sequencer and an action it does not know", () => {
  it("passes it on as a signal live, and hands it over in its place from the log", async () => {
    const newer = (seq) => ({ action: "room_something_new", data: { room_id: 7, seq } });
    const known = (seq) => ({ action: "room_member_joined", data: { room_id: 7, seq, user_id: 1 } });
    const delivered = [];
    let repaired;
    const done = new Promise((resolve) => (repaired = resolve));
    const sequencer = new Sequencer({
      deliver: (room, e) => delivered.push([e.action, e.data.seq]),
      readPage: async () => ({ events: [newer(11), known(12)], has_more: false }),
      lost: () => assert.fail("not lost"),
      repaired: () => repaired(),
    });
    sequencer.follow(7, 10);
    assert.equal(sequencer.offer(newer(11)), false); // live: not a room event of this SDK's
    sequencer.offer(known(12)); // a gap at 11: read from the log
    await done;
    assert.deepEqual(delivered, [["room_something_new", 11], ["room_member_joined", 12]]);
    // A catch-up that holds one: in its place too.
    sequencer.caughtUp(7, 12, { events: [newer(13), known(14)], has_more: false, seq: 14 });
    assert.deepEqual(delivered.slice(2), [["room_something_new", 13], ["room_member_joined", 14]]);
    assert.equal(sequencer.position(7), 14);
  });
});

describe("webStorageOutbox", () => {
  it("loads a kept message with its files, and drops one whose file list is damaged", () => {
    const entry = (id, extra) => ({ client_msg_id: id, room_id: 1, message_text: "", user_id: 2, queued_at: 0, status: "pending", ...extra });
    const kept = [entry("a", { attachment_ids: [3, 4] }), entry("b"), entry("c", { attachment_ids: null }), entry("d", { attachment_ids: ["3"] })];
    const storage = { getItem: () => JSON.stringify(kept), setItem: () => {}, removeItem: () => {} };
    const loaded = webStorageOutbox(storage, "k").load();
    assert.deepEqual(loaded.map((e) => [e.client_msg_id, e.attachment_ids]), [["a", [3, 4]], ["b", undefined]]);
  });
});

describe("roomPosition", () => {
  it("sequences the document's room events only, never a signal or an unknown action", () => {
    const frame = (action) => ({ action, data: { room_id: 7, seq: 3 } });
    assert.ok(ROOM_EVENT_ACTIONS.has("new_room_chat_message") && SIGNAL_ACTIONS.has("room_chat_mention"));
    for (const action of ROOM_EVENT_ACTIONS) assert.deepEqual(roomPosition(frame(action)), { roomId: 7, seq: 3 });
    for (const action of [...SIGNAL_ACTIONS, "room_something_new"]) assert.equal(roomPosition(frame(action)), null);
  });
});

describe("RoomModel", () => {
  const user = { id: 1, username: "ann", display_name: "Ann", avatar_url: null };
  const message = (id, seq, extra = {}) => ({
    id, room_id: 5, seq, user_id: 1, user, message_text: `m${id}`, message_content: null,
    client_msg_id: `c${id}`, created_at: "2026-12-07T00:00:00Z", edited_at: null, deleted_at: null,
    reactions: [], ...extra,
  });

  it("applies edits, reactions and deletes, and keeps at most maxMessages", () => {
    const model = new RoomModel(5, () => ({ ...user, id: 2 }), { maxMessages: 3, maxReceipts: 10, typingTimeoutMs: 1000 });
    model.reset({ room: { id: 5 }, messages: [message(1, 1), message(2, 2)], has_more: false, seq: 2, online_user_ids: [1] });
    model.apply({ action: "room_chat_message_edited", data: { room_id: 5, seq: 3, message_id: 1, message: message(1, 1, { message_text: "new", edited_at: "2026-12-07T00:00:01Z" }) } });
    model.apply({ action: "room_chat_reaction_added", data: { room_id: 5, seq: 4, message_id: 2, user_id: 3, reaction: "👍" } });
    model.apply({ action: "room_chat_message_deleted", data: { room_id: 5, seq: 5, message_id: 1, deleted_by: 1 } });
    let state = model.snapshot();
    assert.equal(state.seq, 5);
    assert.equal(state.messages[0].message_text, null);
    assert.ok(state.messages[0].deleted_at);
    assert.deepEqual(state.messages[1].reactions, [{ reaction: "👍", count: 1, user_ids: [3] }]);
    for (const [id, seq] of [[3, 6], [4, 7]]) model.apply({ action: "new_room_chat_message", data: message(id, seq) });
    state = model.snapshot();
    assert.deepEqual(state.messages.map((m) => m.id), [2, 3, 4]);
    assert.equal(state.hasOlder, true);
  });

  it("keeps a pending reply's thread, so a timeline can leave it out", () => {
    const model = new RoomModel(5, () => user, { maxMessages: 10, maxReceipts: 10, typingTimeoutMs: 1000 });
    model.reset({ room: { id: 5 }, messages: [message(1, 1)], has_more: false, seq: 1, online_user_ids: [1] });
    const queued = { room_id: 5, user_id: 1, message_text: "hi", queued_at: 0, status: "pending", error: null };
    model.optimistic({ ...queued, client_msg_id: "r1", thread_root_id: 1 });
    model.optimistic({ ...queued, client_msg_id: "t1" });
    const pending = model.snapshot().messages.filter((m) => m.status === "pending");
    assert.deepEqual(pending.map((m) => [m.client_msg_id, m.thread_root_id]), [["r1", 1], ["t1", null]]);
  });
});

/** A server that answers REST but whose WebSocket never opens (a network that is down). */
class Unreachable {
  constructor() {
    setTimeout(() => this.onclose?.({ code: 1006, reason: "" }), 1);
  }
  send() {}
  close() {}
}

async function fakeFetch(url) {
  const data = url.endsWith("/users/me") ? { id: 1, username: "ann" } : { ticket: "t", expires_in: 30 };
  return new Response(JSON.stringify({ status: "success", data }), { status: 200 });
}

function offlineClient(options = {}) {
  return new RoomchatClient({
    baseUrl: "http://127.0.0.1:9",
    token: "opaque",
    WebSocket: Unreachable,
    fetch: fakeFetch,
    environment: null,
    backoff: { initialMs: 60_000, maxMs: 60_000, random: () => 1 },
    ...options,
  });
}

describe("bounds and listeners", () => {
  it("refuses a message past the outbox's bound, and removes a listener", async () => {
    const client = offlineClient({ maxQueuedMessages: 2 });
    const calls = [];
    const off = client.on("outbox", (change) => calls.push(change));
    const queued = [client.send(1, "a"), client.send(1, "b")];
    for (const promise of queued) promise.catch(() => {});
    await assert.rejects(client.send(1, "c"), { code: "overloaded" });
    assert.equal(client.outbox.length, 2);
    off();
    assert.equal(client.listenerCount("outbox"), 0);
    await client.close();
    assert.deepEqual(calls, []);
  });
});

describe("online", () => {
  it("ends the wait before the next attempt", async () => {
    const listeners = {};
    const environment = { addEventListener: (type, fn) => (listeners[type] = fn), removeEventListener: () => {} };
    const client = offlineClient({ environment });
    const states = [];
    client.on("state", (change) => states.push(change.state));
    client.connect().catch(() => {});
    await new Promise((resolve) => client.on("state", (change) => change.state === "disconnected" && resolve()));
    const again = new Promise((resolve) => client.on("state", (change) => change.state === "connecting" && resolve()));
    listeners.online();
    await again; // at once, not after the minute of backoff
    await client.close();
    assert.deepEqual(states.slice(0, 3), ["connecting", "disconnected", "connecting"]);
  });
});
