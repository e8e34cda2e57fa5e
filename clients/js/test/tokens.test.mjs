// Tokens that expire every few seconds: renewed before expiry, the socket reopened with
// the new one, nothing missed. A revoked session (logout) stops the client for good.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { jwtExpiry } from "../dist/index.js";
import { clientFor, closeClients, register, until, waitFor, workspaceWithRoom } from "./support/accounts.mjs";
import { FaultProxy } from "./support/proxy.mjs";
import { RoomchatServer } from "./support/server.mjs";

const TOKEN_TTL_S = 4;

describe("tokens", { timeout: 60_000 }, () => {
  const server = new RoomchatServer({ jwt_ttl_seconds: TOKEN_TTL_S, revocation_poll_interval_s: 0.2 });
  before(() => server.start());
  after(async () => {
    await closeClients();
    await server.stop();
  });

  it("renews the token before it expires and follows the room across expiries", async () => {
    const talker = await register(server.baseUrl, "tt");
    const reader = await register(server.baseUrl, "tr");
    const { room } = await workspaceWithRoom(talker, [reader]);
    const client = clientFor(server, reader, { refreshMarginMs: 1000 });
    const renewals = [];
    let last = reader.access_token;
    client.on("token", ({ token }) => {
      renewals.push({ at: Date.now(), oldExpiry: jwtExpiry(last) });
      last = token;
    });
    const closes = [];
    client.on("state", (change) => change.reason && closes.push(change.reason.code));
    const handle = await client.join(room.id);
    const sender = clientFor(server, talker);
    const senderRoom = await sender.join(room.id);

    // Two lifetimes of a token, a message every 250 ms.
    const sent = [];
    const until2 = Date.now() + 2 * TOKEN_TTL_S * 1000 + 500;
    while (Date.now() < until2) {
      sent.push((await senderRoom.send(`tick ${sent.length}`)).client_msg_id);
      await new Promise((resolve) => setTimeout(resolve, 250)); // the pace of the traffic, not a wait for an event
    }
    await until(handle, "change", () => sent.every((id) => handle.state.messages.some((m) => m.client_msg_id === id)), 15_000);

    const ids = handle.state.messages.map((m) => m.client_msg_id);
    assert.equal(new Set(ids).size, ids.length, "nothing twice");
    assert.ok(renewals.length >= 2, `renewed ${renewals.length} times`);
    for (const renewal of renewals) assert.ok(renewal.at < renewal.oldExpiry, "renewed before the old token expired");
    assert.ok(closes.includes("token_expired"), `the server closed the socket at the token's expiry: ${closes}`);
    assert.ok(!closes.includes("unauthorized"), `never unauthorized: ${closes}`);
    assert.equal(client.state, "connected");
    await Promise.all([client.close(), sender.close()]);
  });

  it("stops for good when the session is revoked (a logout elsewhere)", async () => {
    const proxy = await new FaultProxy(server.port).start();
    try {
      const account = await register(server.baseUrl, "rv");
      const { room } = await workspaceWithRoom(account);
      const client = clientFor(server, account, { wsUrl: proxy.wsUrl });
      await client.join(room.id);
      const closed = waitFor(client, "state", (change) => change.state === "closed");
      await account.rest.logout({ all: true }); // the same user, elsewhere: every session
      const change = await closed;
      assert.equal(change.reason.code, "token_revoked");
      assert.equal(change.reason.closeCode, 4401);
      assert.equal(change.reason.final, true);
      const attempts = proxy.accepted;
      await assert.rejects(client.room(room.id).send("after"), { code: "unauthorized" });
      // A second chance to reconnect would come within the backoff's 500 ms ceiling.
      await new Promise((resolve) => setTimeout(resolve, 1500));
      assert.equal(proxy.accepted, attempts, "no reconnection after a revocation");
      assert.equal(client.state, "closed");
    } finally {
      await proxy.close();
    }
  });
});
