// People and places for a test: registered users, a workspace they all belong to, a room.

import WebSocket from "ws";

import { RestApi, RoomchatClient } from "../../dist/index.js";

let counter = 0;

/** A unique username (3-32 of a-z 0-9 _ . -). */
export function username(prefix = "u") {
  counter += 1;
  return `${prefix}${process.pid.toString(36)}${Date.now().toString(36).slice(-5)}${counter}`.slice(0, 32);
}

export const PASSWORD = "correct horse battery staple";

/** Register a user: {user, access_token, expires_in, rest}. */
export async function register(baseUrl, prefix = "u") {
  const anonymous = new RestApi({ baseUrl });
  const session = await anonymous.register({ username: username(prefix), password: PASSWORD });
  const rest = new RestApi({ baseUrl, bearer: { get: async () => session.access_token, rejected: async () => null } });
  return { ...session, rest };
}

/** A workspace owned by `owner` with `members` in it (invited, accepted), and a room. */
export async function workspaceWithRoom(owner, members = [], name = "General") {
  const workspace = await owner.rest.createWorkspace({ name: `ws ${username("w")}` });
  for (const member of members) {
    await owner.rest.inviteToWorkspace(workspace.id, { username: member.user.username });
    const [invitation] = (await member.rest.listInvitations()).filter((i) => i.workspace_id === workspace.id);
    await member.rest.acceptInvitation(invitation.id);
  }
  const room = await owner.rest.createRoom({ workspace_id: workspace.id, name });
  return { workspace, room };
}

const made = new Set();

/** Close every client clientFor made (a test's `after`): one left open after a failure
 * would go on reconnecting to a stopped server and keep the test process alive. */
export async function closeClients() {
  await Promise.all([...made].map((client) => client.close()));
  made.clear();
}

/** A client for a registered user; the test's options on top (wsUrl through a proxy, say). */
export function clientFor(server, account, options = {}) {
  return track(new RoomchatClient({
    baseUrl: server.baseUrl,
    token: { token: account.access_token, expiresIn: account.expires_in },
    WebSocket,
    environment: null,
    heartbeatIntervalMs: 500,
    heartbeatTimeoutMs: 1000,
    requestTimeoutMs: 5000,
    backoff: { initialMs: 50, maxMs: 500 },
    ...options,
  }));
}

/** Closed by closeClients(). */
export function track(client) {
  made.add(client);
  return client;
}

/** Resolves with the first value `emitter` emits on `name` that `test` accepts. */
export function waitFor(emitter, name, test = () => true, timeoutMs = 15_000) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      off();
      reject(new Error(`no ${name} in ${timeoutMs} ms`));
    }, timeoutMs);
    const off = emitter.on(name, (value) => {
      if (!test(value)) return;
      clearTimeout(timer);
      off();
      resolve(value);
    });
  });
}

/** Resolves once `condition()` holds, checked on every `name` event of `emitter`. */
export async function until(emitter, name, condition, timeoutMs = 15_000) {
  if (condition()) return;
  await waitFor(emitter, name, () => condition(), timeoutMs);
}
