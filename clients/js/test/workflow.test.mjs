// The guide's workflow with the SDK against a real server: register, workspace, room,
// join, send, receive, history; then what the room state applies (edits, reactions,
// tombstones, typing, presence, read state) and the examples of docs/sdk-js.md, run.

import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { readFile } from "node:fs/promises";
import { dirname, join } from "node:path";
import { after, before, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";

import WebSocket from "ws";

import { RoomchatClient, RoomchatError } from "../dist/index.js";
import { PASSWORD, clientFor, closeClients, register, track, until, username, waitFor, workspaceWithRoom } from "./support/accounts.mjs";
import { RoomchatServer } from "./support/server.mjs";

const packageRoot = join(dirname(fileURLToPath(import.meta.url)), "..");
const run = promisify(execFile);

describe("the guide's workflow", { timeout: 60_000 }, () => {
  const server = new RoomchatServer({ presence_grace_s: 0.3 });
  before(() => server.start());
  after(async () => {
    await closeClients();
    await server.stop();
  });

  it("registers, makes a workspace and a room, joins, sends, receives, reads history", async () => {
    const alice = track(await RoomchatClient.register({ baseUrl: server.baseUrl, username: username("alice"), password: PASSWORD, WebSocket, environment: null }));
    const bobAccount = await register(server.baseUrl, "bob");
    const workspace = await alice.rest.createWorkspace({ name: "Acme" });
    await alice.rest.inviteToWorkspace(workspace.id, { username: bobAccount.user.username });
    const [invitation] = await bobAccount.rest.listInvitations();
    await bobAccount.rest.acceptInvitation(invitation.id);
    const created = await alice.rest.createRoom({ workspace_id: workspace.id, name: "General Discussion" });
    assert.equal(created.link_join.endsWith(`/join/${created.link_token}`), true);

    const rooms = await alice.rest.listRooms(workspace.id);
    assert.deepEqual(rooms.map((room) => room.name), ["General Discussion"]);

    const bob = clientFor(server, bobAccount);
    const [aliceRoom, bobRoom] = await Promise.all([alice.join(created.id), bob.join(created.id)]);
    assert.equal(alice.state, "connected");
    assert.deepEqual(bobRoom.state.messages, []);
    const members = await alice.rest.listRoomMembers(created.id);
    assert.deepEqual(new Set(members.map((m) => m.user_id)), new Set([alice.user.id, bobAccount.user.id]));

    const received = waitFor(bobRoom, "message");
    const sending = aliceRoom.send("Hello world!", { content: { kind: "card", title: "hi" } });
    assert.equal(aliceRoom.state.messages.at(-1).status, "pending"); // optimistic, at once
    const sent = await sending;
    const got = await received;
    assert.equal(got.id, sent.id);
    assert.equal(got.message_text, "Hello world!");
    assert.deepEqual(got.message_content, { kind: "card", title: "hi" });
    assert.equal(got.user.username, alice.user.username);
    await until(aliceRoom, "change", () => aliceRoom.state.messages.length === 1 && aliceRoom.state.messages[0].status === "sent");

    const history = await bob.rest.listMessages(created.id, { limit: 50 });
    assert.deepEqual(history.messages.map((m) => m.client_msg_id), [sent.client_msg_id]);

    // A third client joining now gets the history in its join reply.
    const late = clientFor(server, bobAccount);
    const lateRoom = await late.join(created.id);
    assert.deepEqual(lateRoom.state.messages.map((m) => m.message_text), ["Hello world!"]);
    await Promise.all([alice.close(), bob.close(), late.close()]);
    assert.equal(alice.state, "closed");
  });

  it("keeps the room state current: edits, reactions, tombstones, typing, presence, reads", async () => {
    const ann = await register(server.baseUrl, "ann");
    const ben = await register(server.baseUrl, "ben");
    const { room } = await workspaceWithRoom(ann, [ben]);
    const annClient = clientFor(server, ann);
    const benClient = clientFor(server, ben);
    const annRoom = await annClient.join(room.id);
    const benRoom = await benClient.join(room.id);
    await until(annRoom, "change", () => annRoom.state.online?.includes(ben.user.id));

    const first = await annRoom.send("first");
    await annRoom.edit(first.id, "first, edited");
    await benRoom.react(first.id, "👍");
    const second = await annRoom.send("second");
    await annRoom.delete(second.id);
    await until(benRoom, "change", () => benRoom.state.seq >= second.seq + 1 && benRoom.state.messages.length === 2);
    const [shownFirst, shownSecond] = benRoom.state.messages;
    assert.equal(shownFirst.message_text, "first, edited");
    assert.ok(shownFirst.edited_at);
    assert.deepEqual(shownFirst.reactions, [{ reaction: "👍", count: 1, user_ids: [ben.user.id] }]);
    assert.equal(shownSecond.message_text, null);
    assert.ok(shownSecond.deleted_at);

    await annRoom.typing(true);
    await until(benRoom, "change", () => benRoom.state.typing.includes(ann.user.id));
    await annRoom.typing(false);
    await until(benRoom, "change", () => benRoom.state.typing.length === 0);

    const read = await benRoom.markRead();
    assert.equal(read.last_read_seq, benRoom.state.seq);
    assert.equal(benRoom.state.unreadCount, 0);

    await annClient.close();
    await until(benRoom, "change", () => !benRoom.state.online?.includes(ann.user.id), 20_000);
    await benClient.close();
  });

  it("opens a direct chat, and replies in a thread with the root's summary kept current", async () => {
    const ann = await register(server.baseUrl, "dm");
    const ben = await register(server.baseUrl, "dn");
    const { workspace } = await workspaceWithRoom(ann, [ben]);
    const direct = await ann.rest.openDirectChat({ workspace_id: workspace.id, user_ids: [ben.user.id] });
    const annClient = clientFor(server, ann);
    const benClient = clientFor(server, ben);
    const annRoom = await annClient.join(direct.id);
    const benRoom = await benClient.join(direct.id);

    const root = await annRoom.send("a question");
    const reply = await benRoom.send("an answer", { threadRootId: root.id });
    assert.equal(reply.thread_root_id, root.id);
    await until(annRoom, "change", () => annRoom.state.messages.find((m) => m.id === root.id)?.thread?.reply_count === 1);
    const thread = await ann.rest.threadMessages(direct.id, root.id);
    assert.deepEqual(thread.messages.map((m) => m.message_text), ["a question", "an answer"]);
  });

  it("loads older history page by page, and says why a refused message failed", async () => {
    const owner = await register(server.baseUrl, "old");
    const { room } = await workspaceWithRoom(owner);
    for (let i = 1; i <= 60; i++) await owner.rest.postMessage(room.id, { message_text: `m${i}`, client_msg_id: `m${i}` });
    const client = clientFor(server, owner);
    const handle = await client.join(room.id);
    assert.equal(handle.state.messages.length, 50);
    assert.equal(handle.state.hasOlder, true);
    const older = await handle.loadOlder(50);
    assert.equal(older.length, 10);
    assert.deepEqual(handle.state.messages.map((m) => m.message_text), Array.from({ length: 60 }, (_, i) => `m${i + 1}`));
    assert.equal(handle.state.hasOlder, false);

    const refused = handle.send("x".repeat(4001));
    await assert.rejects(refused, (error) => error instanceof RoomchatError && error.code === "validation_error");
    const failed = handle.state.messages.at(-1);
    assert.equal(failed.status, "failed");
    assert.equal(failed.error.code, "validation_error");
    handle.discard(failed.client_msg_id);
    assert.equal(handle.state.messages.at(-1).message_text, "m60");
    await client.close();
  });

  it("raises REST errors as RoomchatError with code, status and details", async () => {
    const account = await register(server.baseUrl, "err");
    const error = await account.rest.createRoom({ workspace_id: 1, name: "" }).catch((e) => e);
    assert.ok(error instanceof RoomchatError);
    assert.equal(error.code, "validation_error");
    assert.equal(error.status, 422);
    assert.ok(Array.isArray(error.details));
    const missing = await account.rest.getRoom(9_007_199_254_740_991).catch((e) => e);
    assert.ok(["not_found", "forbidden"].includes(missing.code));
  });

  it("runs the examples of docs/sdk-js.md, which the doc shows as they are", async () => {
    const doc = await readFile(join(packageRoot, "..", "..", "docs", "sdk-js.md"), "utf8");
    for (const name of ["quickstart.mjs", "guide-workflow.mjs"]) {
      const code = await readFile(join(packageRoot, "examples", name), "utf8");
      const block = doc.match(new RegExp(`<!-- examples/${name.replace(".", "\\.")} -->\\s*\`\`\`js\\n([\\s\\S]*?)\`\`\``));
      assert.ok(block, `docs/sdk-js.md shows examples/${name}`);
      assert.equal(block[1], code, `the doc's ${name} is the file's`);
    }
    const quickstart = await readFile(join(packageRoot, "examples", "quickstart.mjs"), "utf8");
    assert.ok(quickstart.trimEnd().split("\n").length <= 15, "the quickstart is fifteen lines at most");
    const workflow = await readFile(join(packageRoot, "examples", "guide-workflow.mjs"), "utf8");
    assert.ok(workflow.trimEnd().split("\n").length < 40, "the guide's workflow is under 40 lines");

    const guide = await run(process.execPath, [join(packageRoot, "examples", "guide-workflow.mjs")], {
      env: { ...process.env, ROOMCHAT_URL: server.baseUrl },
      timeout: 30_000,
    });
    assert.match(guide.stdout, /rooms: General Discussion/);
    assert.match(guide.stdout, /: Hello world!/);
    assert.match(guide.stdout, /history: 1 message/);

    const account = await register(server.baseUrl, "quick");
    const { room } = await workspaceWithRoom(account);
    await account.rest.postMessage(room.id, { message_text: "already there" });
    const quick = await run(process.execPath, [join(packageRoot, "examples", "quickstart.mjs")], {
      env: { ...process.env, ROOMCHAT_URL: server.baseUrl, ROOMCHAT_TOKEN: account.access_token, ROOM_ID: String(room.id) },
      timeout: 30_000,
    });
    assert.match(quick.stdout, /: already there/);
    assert.match(quick.stdout, /stored as seq \d+/);
  });
});
