// Running a workspace with the SDK against a real server: roles, the paged member list,
// pending invitations listed and cancelled, renaming, a new name and picture, a removal;
// and the live sidebar's signals reaching a client that follows the workspace.

import assert from "node:assert/strict";
import { after, before, describe, it } from "node:test";

import { RoomchatError } from "../dist/index.js";
import { clientFor, closeClients, register, username, waitFor } from "./support/accounts.mjs";
import { RoomchatServer } from "./support/server.mjs";

// A 1x1 PNG.
const PIXEL = Uint8Array.from(
  atob("iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg=="),
  (c) => c.charCodeAt(0),
);

describe("running a workspace", { timeout: 60_000 }, () => {
  const server = new RoomchatServer({});
  before(() => server.start());
  after(async () => {
    await closeClients();
    await server.stop();
  });

  it("roles, members, invitations, profiles and the sidebar's signals", async () => {
    const owner = await register(server.baseUrl, "owner");
    const bob = await register(server.baseUrl, "bob");
    const cat = await register(server.baseUrl, "cat");
    const workspace = await owner.rest.createWorkspace({ name: `ws ${username("w")}` });
    await owner.rest.inviteToWorkspace(workspace.id, { username: bob.user.username });
    const [invitation] = await bob.rest.listInvitations();
    await bob.rest.acceptInvitation(invitation.id);

    const client = clientFor(server, bob);
    await client.request("subscribe_workspace", { workspace_id: workspace.id });
    const signal = (action, test = () => true) => waitFor(client, "signal", (s) => s.action === action && test(s.data));

    const made = signal("workspace_room_created");
    const room = await owner.rest.createRoom({ workspace_id: workspace.id, name: "launch" });
    assert.equal((await made).data.room.id, room.id);

    const promoted = signal("workspace_member_updated");
    const member = await owner.rest.setWorkspaceRole(workspace.id, bob.user.id, { role: "admin" });
    assert.equal(member.role, "admin");
    assert.equal((await promoted).data.user_id, bob.user.id);
    const [first] = await owner.rest.listWorkspaceMembersPage(workspace.id, { limit: 1 });
    assert.equal(first.user_id, Math.min(owner.user.id, bob.user.id));

    await bob.rest.inviteToWorkspace(workspace.id, { user_id: cat.user.id }); // an admin invites
    const [pending] = await owner.rest.listPendingInvitations(workspace.id);
    assert.equal(pending.user_id, cat.user.id);
    assert.equal(pending.invited_by.id, bob.user.id);
    await bob.rest.cancelInvitation(pending.id);
    assert.deepEqual(await owner.rest.listPendingInvitations(workspace.id), []);
    await assert.rejects(cat.rest.listPendingInvitations(workspace.id), (e) => e instanceof RoomchatError && e.code === "forbidden");

    const renamed = signal("workspace_updated");
    await owner.rest.renameWorkspace(workspace.id, { name: "Renamed" });
    assert.equal((await renamed).data.workspace.name, "Renamed");

    const updated = signal("user_updated", (d) => d.user_id === owner.user.id);
    await owner.rest.updateMe({ display_name: "The Owner" });
    assert.equal((await updated).data.user.display_name, "The Owner");
    const pictured = await owner.rest.setAvatar(PIXEL);
    assert.match(pictured.avatar_url, /\/api\/v1\/users\/\d+\/avatar\/[0-9a-f]{32}\.png$/);

    // A file in a room: uploaded, listed, looked up again with fresh URLs.
    const file = await owner.rest.uploadAttachment(room.id, PIXEL, "pixel.png");
    assert.equal(file.content_type, "image/png");
    assert.equal(file.filename, "pixel.png");
    assert.deepEqual([file.width, file.height], [1, 1]);
    await owner.rest.postMessage(room.id, { message_text: "", attachment_ids: [file.id] });
    const files = await owner.rest.listAttachments(room.id, { limit: 10 }); // sent files only
    assert.deepEqual(files.attachments.map((a) => a.id), [file.id]);
    const again = await owner.rest.getAttachment(file.id);
    assert.equal((await fetch(again.url)).status, 200);
    await assert.rejects(cat.rest.getAttachment(file.id), (e) => e instanceof RoomchatError && e.code === "forbidden");

    const removed = signal("workspace_member_left");
    await owner.rest.removeWorkspaceMember(workspace.id, bob.user.id);
    assert.deepEqual((await removed).data, { workspace_id: workspace.id, user_id: bob.user.id, removed_by: owner.user.id });
    const members = await owner.rest.listWorkspaceMembers(workspace.id);
    assert.deepEqual(members.map((m) => m.user_id), [owner.user.id]);
  });
});
