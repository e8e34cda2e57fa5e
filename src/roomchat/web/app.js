// roomchat web client: the reference front end for the REST + WebSocket API.
// Plain ES modules, no build step. User data is only ever rendered as text.

import { Api } from "./js/api.js";
import { $, el, toast, uuid, displayName, initials, colourFor, copyText } from "./js/dom.js";
import { Timeline } from "./js/timeline.js";
import { ChatSocket } from "./js/ws.js";

const KEY_TOKEN = "roomchat.token";
const KEY_WORKSPACE = "roomchat.workspace";
const KEY_ROOM = "roomchat.room";
const KEY_JOIN = "roomchat.joinToken";

const TYPING_RESEND_MS = 3000; // while typing, say so again this often
const TYPING_IDLE_MS = 3000; // stop after this long without input
const TYPING_EXPIRE_MS = 8000; // forget someone's typing if not refreshed

const state = {
  token: localStorage.getItem(KEY_TOKEN),
  me: null,
  workspaces: [],
  workspace: null,
  rooms: [],
  room: null, // the open room
  gen: 0, // bumps whenever the open room changes; stale async results check it
  joined: false, // joined the open room on the current connection
  historyLoaded: false, // the open room's initial history is on screen
  hasOlder: false,
  loadingOlder: false,
  joining: null,
  passcodes: new Map(), // room_id -> passcode that worked (this tab only)
  members: new Map(), // user_id -> user, for the open room
  outbox: new Map(), // client_msg_id -> {client_msg_id, room_id, message_text, inflight}
  typers: new Map(), // user_id -> expiry timer
  typing: { sent: false, at: 0, roomId: null, timer: 0 },
};

const api = new Api(() => state.token, () => signOut("Your session has expired. Please sign in again."));
let socket = null;
let timeline = null;

// ---------------------------------------------------------------- screens

function showScreen(name) {
  document.body.dataset.screen = name;
  $("auth-view").hidden = name !== "auth";
  $("app-view").hidden = name !== "app";
}

function setPane(pane) {
  document.body.dataset.pane = pane;
}

// ---------------------------------------------------------------- auth

let authMode = "signin";

function setAuthMode(mode) {
  authMode = mode;
  for (const tab of document.querySelectorAll(".tabs [data-mode]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.mode === mode));
  }
  for (const node of document.querySelectorAll(".signup-only")) node.hidden = mode !== "signup";
  $("auth-submit").textContent = mode === "signup" ? "Create account" : "Sign in";
  $("auth-password").autocomplete = mode === "signup" ? "new-password" : "current-password";
  $("auth-error").hidden = true;
}

async function onAuthSubmit(ev) {
  ev.preventDefault();
  const username = $("auth-username").value.trim();
  const password = $("auth-password").value;
  const errorBox = $("auth-error");
  errorBox.hidden = true;
  if (!username || !password) {
    errorBox.textContent = "Enter a username and a password.";
    errorBox.hidden = false;
    return;
  }
  const button = $("auth-submit");
  button.disabled = true;
  try {
    const data = authMode === "signup"
      ? await api.register(username, password, $("auth-display-name").value.trim())
      : await api.login(username, password);
    state.token = data.access_token;
    localStorage.setItem(KEY_TOKEN, state.token);
    state.me = data.user;
    $("auth-password").value = "";
    await enterApp();
  } catch (err) {
    errorBox.textContent = authErrorText(err);
    errorBox.hidden = false;
  } finally {
    button.disabled = false;
  }
}

function authErrorText(err) {
  if (err.code === "conflict") return "That username is already taken.";
  if (err.code === "unauthorized") return "Wrong username or password.";
  if (err.code === "network_error") return "Cannot reach the server. Try again in a moment.";
  return err.message || "Something went wrong.";
}

function signOut(message) {
  socket?.stop();
  socket = null;
  closeRoom({ leave: false });
  state.token = null;
  state.me = null;
  state.workspaces = [];
  state.workspace = null;
  state.rooms = [];
  state.passcodes.clear();
  state.outbox.clear();
  localStorage.removeItem(KEY_TOKEN);
  localStorage.removeItem(KEY_ROOM);
  localStorage.removeItem(KEY_WORKSPACE);
  showScreen("auth");
  setAuthMode("signin");
  if (message) {
    $("auth-error").textContent = message;
    $("auth-error").hidden = false;
  }
}

// ---------------------------------------------------------------- app start

async function enterApp() {
  showScreen("app");
  setPane("list");
  $("me-name").textContent = displayName(state.me);
  $("me-name").title = `@${state.me.username}`;
  if (timeline) timeline.meId = state.me.id;
  else timeline = new Timeline({ meId: state.me.id });
  startSocket();
  await loadWorkspaces(Number(localStorage.getItem(KEY_WORKSPACE)) || null);

  const joinToken = sessionStorage.getItem(KEY_JOIN);
  if (joinToken) {
    sessionStorage.removeItem(KEY_JOIN);
    $("auth-invite-note").hidden = true;
    await joinByLink(joinToken);
    return;
  }
  const savedRoom = Number(localStorage.getItem(KEY_ROOM));
  if (savedRoom) {
    let room = state.rooms.find((r) => r.id === savedRoom);
    if (!room) room = await api.room(savedRoom).catch(() => null);
    if (room) await openRoom(room);
  }
}

async function joinByLink(token) {
  try {
    const room = await api.joinByToken(token);
    toast(`You joined #${room.name}`);
    if (room.workspace_id !== state.workspace?.id && state.workspaces.some((w) => w.id === room.workspace_id)) {
      await selectWorkspace(room.workspace_id);
    }
    await openRoom(room);
  } catch (err) {
    const text = err.code === "not_found" ? "This join link is not valid."
      : err.code === "forbidden" ? `Could not join: ${err.message}. Ask the workspace owner to add you, then open the link again.`
        : `Could not join: ${err.message}`;
    toast(text, { error: true, ms: 8000 });
  }
}

// ---------------------------------------------------------------- socket

function socketUrl() {
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws?token=${encodeURIComponent(state.token)}`;
}

let countdownTimer = 0;

function startSocket() {
  socket?.stop();
  socket = new ChatSocket(socketUrl);
  socket.addEventListener("state", (ev) => renderConnection(ev.detail));
  socket.addEventListener("open", () => {
    state.joined = false;
    if (state.room) joinCurrentRoom();
    else flushOutbox();
  });
  socket.addEventListener("closed", (ev) => {
    state.joined = false;
    stopTyping({ send: false });
    clearTypers();
    // Never got in: maybe the token is no longer valid. A 401 here signs out (see Api).
    if (!ev.detail.opened) api.me().catch(() => {});
  });
  socket.addEventListener("broadcast", (ev) => onBroadcast(ev.detail));
  socket.start();
}

function renderConnection({ state: s, retryAt, everOpened }) {
  const pill = $("conn-state");
  const banner = $("conn-banner");
  pill.dataset.state = s;
  clearInterval(countdownTimer);
  if (s === "open") {
    pill.textContent = "Connected";
    banner.hidden = true;
    return;
  }
  if (s === "connecting") {
    pill.textContent = everOpened ? "Reconnecting…" : "Connecting…";
    $("conn-banner-text").textContent = "Reconnecting…";
    $("retry-now-btn").hidden = true;
    banner.hidden = !everOpened;
    return;
  }
  const tick = () => {
    const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    pill.textContent = `Offline, retrying in ${secs}s`;
    $("conn-banner-text").textContent = `Connection lost. Reconnecting in ${secs}s…`;
  };
  tick();
  countdownTimer = setInterval(tick, 1000);
  $("retry-now-btn").hidden = false;
  banner.hidden = false;
}

function onBroadcast(frame) {
  const data = frame.data || {};
  if (frame.action === "new_room_chat_message") {
    if (!state.room || data.room_id !== state.room.id) return;
    if (data.client_msg_id) state.outbox.delete(data.client_msg_id);
    timeline.add([data]);
    renderOlder();
    dropTyper(data.user_id);
    if (data.user && !state.members.has(data.user_id)) refreshMembersSoon();
  } else if (frame.action === "typing_indicator") {
    onTyping(data);
  }
}

// ---------------------------------------------------------------- workspaces

async function loadWorkspaces(preferId) {
  try {
    state.workspaces = await api.workspaces();
  } catch (err) {
    toast(`Could not load workspaces: ${err.message}`, { error: true });
    return;
  }
  const select = $("workspace-select");
  select.replaceChildren(...state.workspaces.map((w) => el("option", { value: w.id, text: w.name })));
  const none = state.workspaces.length === 0;
  select.hidden = none;
  $("no-workspace").hidden = !none;
  $("workspace-create").open = none;
  const keep = state.workspaces.find((w) => w.id === preferId)
    || state.workspaces.find((w) => w.id === state.workspace?.id)
    || state.workspaces[0];
  await selectWorkspace(keep ? keep.id : null);
}

async function selectWorkspace(id) {
  state.workspace = state.workspaces.find((w) => w.id === id) || null;
  const select = $("workspace-select");
  if (state.workspace) {
    select.value = String(state.workspace.id);
    localStorage.setItem(KEY_WORKSPACE, String(state.workspace.id));
  }
  $("member-add").hidden = !state.workspace || state.workspace.owner_id !== state.me.id;
  $("room-create").hidden = !state.workspace;
  await loadRooms();
}

async function loadRooms() {
  const list = $("room-list");
  if (!state.workspace) {
    state.rooms = [];
    list.replaceChildren();
    $("no-rooms").hidden = true;
    return;
  }
  const wsId = state.workspace.id;
  let rooms;
  try {
    rooms = await api.rooms(wsId);
  } catch (err) {
    toast(`Could not load rooms: ${err.message}`, { error: true });
    return;
  }
  if (state.workspace?.id !== wsId) return;
  state.rooms = rooms;
  renderRooms();
}

function renderRooms() {
  const list = $("room-list");
  list.replaceChildren(...state.rooms.map((room) => el("li", {},
    el("button", {
      type: "button",
      dataset: { roomId: room.id },
      "aria-current": String(state.room?.id === room.id),
      onclick: () => openRoom(room),
    },
    el("span", { class: "room-name", text: room.name }),
    room.has_passcode ? el("span", { class: "lock", title: "Passcode required", text: "passcode" }) : null))));
  $("no-rooms").hidden = state.rooms.length > 0;
  if (state.rooms.length === 0 && state.workspace) $("room-create").open = true;
}

async function onWorkspaceCreate(ev) {
  ev.preventDefault();
  const input = $("workspace-name");
  const name = input.value.trim();
  if (!name) return;
  try {
    const ws = await api.createWorkspace(name);
    input.value = "";
    $("workspace-create").open = false;
    await loadWorkspaces(ws.id);
    toast(`Workspace "${ws.name}" created`);
  } catch (err) {
    toast(`Could not create the workspace: ${err.message}`, { error: true });
  }
}

async function onMemberAdd(ev) {
  ev.preventDefault();
  const input = $("member-username");
  const username = input.value.trim();
  if (!username || !state.workspace) return;
  try {
    const member = await api.addWorkspaceMember(state.workspace.id, username);
    input.value = "";
    toast(`Added ${displayName(member.user) || username} to ${state.workspace.name}`);
  } catch (err) {
    const text = err.code === "not_found" ? `No user named "${username}"`
      : err.code === "conflict" ? `${username} is already a member` : err.message;
    toast(text, { error: true });
  }
}

async function onRoomCreate(ev) {
  ev.preventDefault();
  const name = $("room-name").value.trim();
  const passcode = $("room-passcode").value;
  if (!name || !state.workspace) return;
  try {
    const room = await api.createRoom(state.workspace.id, name, passcode || undefined);
    if (passcode) state.passcodes.set(room.id, passcode);
    $("room-name").value = "";
    $("room-passcode").value = "";
    $("room-create").open = false;
    await loadRooms();
    await openRoom(room);
  } catch (err) {
    toast(`Could not create the room: ${err.message}`, { error: true });
  }
}

// ---------------------------------------------------------------- rooms

function closeRoom({ leave = true } = {}) {
  if (state.room && leave && state.joined && socket?.isOpen) {
    socket.request("leave_room_chat", { room_id: state.room.id }).catch(() => {});
  }
  stopTyping();
  clearTypers();
  state.gen += 1;
  state.room = null;
  state.joined = false;
  state.historyLoaded = false;
  state.members = new Map();
  timeline?.reset(null);
  $("chat-inner").hidden = true;
  $("empty-chat").hidden = false;
  $("members-panel").hidden = true;
  localStorage.removeItem(KEY_ROOM);
  setPane("list");
  renderRooms();
}

async function openRoom(room) {
  if (state.room?.id === room.id) {
    setPane("chat");
    return;
  }
  if (state.room) closeRoom();
  state.gen += 1;
  const gen = state.gen;
  state.room = room;
  state.joined = false;
  state.historyLoaded = false;
  state.hasOlder = false;
  state.members = new Map();
  localStorage.setItem(KEY_ROOM, String(room.id));
  timeline.reset(room.id);
  for (const item of state.outbox.values()) {
    if (item.room_id === room.id) timeline.addPending(item, state.me);
  }
  renderRoomHeader();
  renderRooms();
  renderMembers();
  renderOlder();
  $("typing").textContent = "";
  $("empty-chat").hidden = true;
  $("chat-inner").hidden = false;
  setPane("chat");

  const isMember = await loadMembers();
  if (gen !== state.gen) return;
  if (room.has_passcode && !isMember && !state.passcodes.has(room.id)) {
    const code = await askPasscode(room, null);
    if (gen !== state.gen) return;
    if (code === null) {
      closeRoom({ leave: false });
      return;
    }
    state.passcodes.set(room.id, code);
  }
  await joinCurrentRoom();
  if (gen === state.gen) $("composer-input").focus({ preventScroll: true });
}

function renderRoomHeader() {
  const room = state.room;
  $("room-title").textContent = room.name;
  const ws = state.workspaces.find((w) => w.id === room.workspace_id);
  $("room-subtitle").textContent = [ws?.name, room.has_passcode ? "passcode" : null].filter(Boolean).join(" · ");
  $("copy-link-btn").dataset.link = room.link_join || "";
}

/** join_room_chat for the open room: the full history the first time, then (after a
 *  reconnect) everything after the last seq seen, paging while has_more. */
function joinCurrentRoom() {
  if (!state.room || !socket?.isOpen) return Promise.resolve();
  if (state.joining) return state.joining;
  const gen = state.gen;
  const room = state.room;
  const run = async () => {
    for (;;) {
      const payload = { room_id: room.id };
      const catchingUp = state.historyLoaded;
      if (catchingUp) payload.after_seq = timeline.lastSeq;
      const passcode = state.passcodes.get(room.id);
      if (passcode) payload.passcode = passcode;
      let data;
      try {
        data = await socket.request("join_room_chat", payload, { timeout: 15000 });
      } catch (err) {
        if (gen !== state.gen) return;
        if (err.code === "wrong_passcode" || err.code === "rate_limited") {
          state.passcodes.delete(room.id);
          const code = await askPasscode(room, err.code, Boolean(passcode), err.message);
          if (gen !== state.gen) return;
          if (code === null) {
            closeRoom({ leave: false });
            return;
          }
          state.passcodes.set(room.id, code);
          if (!socket?.isOpen) return; // the reconnect will join with it
          continue;
        }
        if (err.code === "disconnected") return; // the reconnect will join again
        if (err.code === "timeout") {
          toast("The server is not answering; retrying…", { error: true });
          socket.ws?.close(4000, "join timeout");
          return;
        }
        toast(err.code === "forbidden" ? "You cannot join this room." : `Could not join: ${err.message}`, { error: true });
        closeRoom({ leave: false });
        return;
      }
      if (gen !== state.gen) return;
      if (data.room) {
        state.room = { ...state.room, ...data.room };
        renderRoomHeader();
      }
      state.joined = true;
      const messages = data.messages || [];
      if (!catchingUp) {
        state.historyLoaded = true;
        state.hasOlder = Boolean(data.has_more) || (messages.length > 0 && messages[0].seq > 1);
        timeline.add(messages, { scroll: "bottom" });
        renderOlder();
        fillViewport();
        break;
      }
      timeline.add(messages);
      renderOlder();
      if (!data.has_more || messages.length === 0) break;
    }
    // Joins are not broadcast, so the members list is refreshed on every (re)join.
    loadMembers();
    await flushOutbox();
  };
  state.joining = run().finally(() => { state.joining = null; });
  return state.joining;
}

// ---------------------------------------------------------------- passcode dialog

function askPasscode(room, errorCode, hadPasscode = false, serverMessage = "") {
  const dialog = $("passcode-dialog");
  const input = $("passcode-input");
  const error = $("passcode-error");
  $("passcode-room").textContent = `#${room.name} is protected. Enter its passcode to join.`;
  input.value = "";
  if (errorCode === "rate_limited") {
    error.textContent = "Too many wrong attempts. Wait a while, then try again.";
  } else if (errorCode === "wrong_passcode" && hadPasscode) {
    // The server's message says how many tries are left, e.g. "wrong passcode (4 tries left)".
    const detail = /wrong passcode/i.test(serverMessage) ? serverMessage : "wrong passcode";
    error.textContent = `${detail[0].toUpperCase()}${detail.slice(1)}. Try again.`;
  } else {
    error.textContent = "";
  }
  error.hidden = !error.textContent;
  return new Promise((resolve) => {
    const finish = (value) => {
      $("passcode-form").onsubmit = null;
      $("passcode-cancel").onclick = null;
      dialog.oncancel = null;
      if (dialog.open) dialog.close();
      resolve(value);
    };
    $("passcode-form").onsubmit = (ev) => {
      ev.preventDefault();
      const value = input.value;
      if (!value) {
        error.textContent = "Enter the passcode.";
        error.hidden = false;
        return;
      }
      finish(value);
    };
    $("passcode-cancel").onclick = () => finish(null);
    dialog.oncancel = (ev) => { ev.preventDefault(); finish(null); };
    if (!dialog.open) dialog.showModal();
    input.focus();
  });
}

// ---------------------------------------------------------------- members

/** Load the open room's members; resolves to whether the current user is one. */
async function loadMembers() {
  const room = state.room;
  if (!room) return false;
  let rows;
  try {
    rows = await api.roomMembers(room.id);
  } catch {
    return false;
  }
  if (state.room?.id !== room.id) return false;
  state.members = new Map(rows.map((r) => [r.user_id, r.user || { id: r.user_id }]));
  renderMembers();
  renderTyping();
  return state.members.has(state.me.id);
}

let membersRefreshAt = 0;
let membersRefreshTimer = 0;
function refreshMembersSoon() {
  const wait = Math.max(0, membersRefreshAt + 2000 - Date.now());
  if (membersRefreshTimer) return;
  membersRefreshTimer = setTimeout(() => {
    membersRefreshTimer = 0;
    membersRefreshAt = Date.now();
    loadMembers();
  }, wait);
}

function renderMembers() {
  const users = [...state.members.values()].sort((a, b) => displayName(a).localeCompare(displayName(b)));
  $("members-count").textContent = users.length ? `(${users.length})` : "";
  $("member-list").replaceChildren(...users.map((u) => el("li", { dataset: { userId: u.id } },
    el("span", { class: "avatar", style: `background:${colourFor(u.id)}`, "aria-hidden": "true", text: initials(u) }),
    el("span", { class: "names" },
      el("span", { text: displayName(u) + (u.id === state.me.id ? " (you)" : "") }),
      u.username ? el("span", { class: "muted small", text: `@${u.username}` }) : null))));
}

function toggleMembers(force) {
  const panel = $("members-panel");
  const show = force ?? panel.hidden;
  panel.hidden = !show;
  $("members-btn").setAttribute("aria-expanded", String(show));
  if (show) loadMembers();
}

// ---------------------------------------------------------------- history paging

function renderOlder() {
  const btn = $("older-btn");
  const status = $("older-status");
  const canPage = state.historyLoaded && state.hasOlder && timeline.firstSeq > 1;
  btn.hidden = !canPage || state.loadingOlder;
  if (state.loadingOlder) status.textContent = "Loading older messages…";
  else if (!state.historyLoaded) status.textContent = "Loading…";
  else if (canPage) status.textContent = "";
  else if (timeline.lastSeq === 0 && timeline.pending.size === 0) status.textContent = "No messages yet. Say hello!";
  else status.textContent = "This is the beginning of the room.";
}

async function loadOlder() {
  if (!state.room || !state.historyLoaded || state.loadingOlder) return;
  if (!state.hasOlder || timeline.firstSeq <= 1) return;
  const gen = state.gen;
  state.loadingOlder = true;
  renderOlder();
  try {
    const data = await api.messagesBefore(state.room.id, timeline.firstSeq);
    if (gen !== state.gen) return;
    timeline.prependOlder(data.messages || []);
    state.hasOlder = Boolean(data.has_more) && (data.messages || []).length > 0;
  } catch (err) {
    if (gen === state.gen) toast(`Could not load older messages: ${err.message}`, { error: true });
  } finally {
    if (gen === state.gen) {
      state.loadingOlder = false;
      renderOlder();
    }
  }
  if (gen === state.gen) fillViewport();
}

/** If the history does not fill the view there is nothing to scroll; page until it does. */
function fillViewport() {
  const s = $("messages");
  if (state.hasOlder && s.scrollHeight <= s.clientHeight + 40) loadOlder();
}

// ---------------------------------------------------------------- sending

function onComposerSubmit(ev) {
  ev.preventDefault();
  const input = $("composer-input");
  const text = input.value.trim();
  if (!text || !state.room) return;
  input.value = "";
  autosize();
  stopTyping();
  const item = { client_msg_id: uuid(), room_id: state.room.id, message_text: text, inflight: false };
  state.outbox.set(item.client_msg_id, item);
  timeline.addPending(item, state.me);
  renderOlder();
  sendItem(item);
}

/** Send one queued message. The client_msg_id makes a resend after a reconnect safe:
 *  the server answers with the message it already stored instead of a duplicate. */
async function sendItem(item) {
  if (item.inflight || !state.outbox.has(item.client_msg_id)) return;
  const forOpenRoom = item.room_id === state.room?.id;
  if (!socket?.isOpen || (forOpenRoom && !state.joined)) {
    timeline.markPending(item.client_msg_id, "sending", "Waiting for connection…");
    return; // flushed after the next (re)join
  }
  item.inflight = true;
  timeline.markPending(item.client_msg_id, "sending", "Sending…");
  try {
    const msg = await socket.request("send_room_chat_message", {
      room_id: item.room_id,
      message_text: item.message_text,
      client_msg_id: item.client_msg_id,
    });
    state.outbox.delete(item.client_msg_id);
    if (msg && msg.room_id === timeline.roomId) timeline.add([msg]);
    timeline.dropPending(item.client_msg_id);
  } catch (err) {
    if (err.code === "disconnected") {
      timeline.markPending(item.client_msg_id, "sending", "Waiting for connection…");
    } else if (err.code === "timeout") {
      timeline.markPending(item.client_msg_id, "sending", "Retrying…");
      setTimeout(() => sendItem(item), 1000);
    } else {
      state.outbox.delete(item.client_msg_id);
      timeline.markPending(item.client_msg_id, "failed", `Not sent: ${err.message}`);
    }
  } finally {
    item.inflight = false;
  }
}

async function flushOutbox() {
  for (const item of [...state.outbox.values()]) {
    if (!socket?.isOpen) return;
    await sendItem(item);
  }
}

// ---------------------------------------------------------------- typing

function onComposerInput() {
  autosize();
  if (!state.room || !state.joined) return;
  const input = $("composer-input");
  if (!input.value.trim()) {
    stopTyping();
    return;
  }
  const t = state.typing;
  const now = Date.now();
  if (!t.sent || t.roomId !== state.room.id || now - t.at > TYPING_RESEND_MS) {
    if (socket.send("typing_indicator", { room_id: state.room.id, is_typing: true })) {
      t.sent = true;
      t.at = now;
      t.roomId = state.room.id;
    }
  }
  clearTimeout(t.timer);
  t.timer = setTimeout(() => stopTyping(), TYPING_IDLE_MS);
}

function stopTyping({ send = true } = {}) {
  const t = state.typing;
  clearTimeout(t.timer);
  if (t.sent && send && socket?.isOpen) {
    socket.send("typing_indicator", { room_id: t.roomId, is_typing: false });
  }
  t.sent = false;
}

function onTyping({ room_id: roomId, user_id: userId, is_typing: isTyping }) {
  if (!state.room || roomId !== state.room.id || userId === state.me.id) return;
  clearTimeout(state.typers.get(userId));
  if (isTyping) {
    state.typers.set(userId, setTimeout(() => dropTyper(userId), TYPING_EXPIRE_MS));
    if (!state.members.has(userId)) refreshMembersSoon();
  } else {
    state.typers.delete(userId);
  }
  renderTyping();
}

function dropTyper(userId) {
  if (!state.typers.has(userId)) return;
  clearTimeout(state.typers.get(userId));
  state.typers.delete(userId);
  renderTyping();
}

function clearTypers() {
  for (const timer of state.typers.values()) clearTimeout(timer);
  state.typers.clear();
  renderTyping();
}

function renderTyping() {
  const names = [...state.typers.keys()].map((id) => {
    const u = state.members.get(id);
    return u && (u.display_name || u.username) ? displayName(u) : "Someone";
  });
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = `${names[0]}, ${names[1]} and ${names.length - 2} more are typing…`;
  $("typing").textContent = text;
}

// ---------------------------------------------------------------- wiring

function autosize() {
  const input = $("composer-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight + 2, 160)}px`;
}

function wire() {
  for (const tab of document.querySelectorAll(".tabs [data-mode]")) {
    tab.addEventListener("click", () => setAuthMode(tab.dataset.mode));
  }
  $("auth-form").addEventListener("submit", onAuthSubmit);
  $("signout-btn").addEventListener("click", () => signOut());
  $("workspace-select").addEventListener("change", (ev) => selectWorkspace(Number(ev.target.value)));
  $("refresh-btn").addEventListener("click", () => loadWorkspaces(state.workspace?.id));
  $("workspace-form").addEventListener("submit", onWorkspaceCreate);
  $("member-form").addEventListener("submit", onMemberAdd);
  $("room-form").addEventListener("submit", onRoomCreate);
  $("back-btn").addEventListener("click", () => setPane("list"));
  $("members-btn").addEventListener("click", () => toggleMembers());
  $("members-close").addEventListener("click", () => toggleMembers(false));
  $("retry-now-btn").addEventListener("click", () => socket?.retryNow());
  $("older-btn").addEventListener("click", () => loadOlder());
  $("messages").addEventListener("scroll", () => {
    if ($("messages").scrollTop < 60) loadOlder();
  }, { passive: true });
  $("copy-link-btn").addEventListener("click", async () => {
    const link = state.room?.link_join;
    if (!link) return;
    toast(await copyText(link) ? "Join link copied" : `Join link: ${link}`, { ms: 4000 });
  });
  $("composer").addEventListener("submit", onComposerSubmit);
  const input = $("composer-input");
  input.addEventListener("input", onComposerInput);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      $("composer").requestSubmit();
    }
  });
  window.addEventListener("online", () => socket?.retryNow());
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") socket?.retryNow();
  });
}

async function boot() {
  wire();
  const match = location.pathname.match(/^\/join\/([^/]+)\/?$/);
  if (match) {
    sessionStorage.setItem(KEY_JOIN, decodeURIComponent(match[1]));
    history.replaceState(null, "", "/");
  }
  if (sessionStorage.getItem(KEY_JOIN)) $("auth-invite-note").hidden = false;
  setAuthMode("signin");
  if (state.token) {
    try {
      state.me = await api.me();
      await enterApp();
      return;
    } catch (err) {
      if (err.code !== "unauthorized") {
        showScreen("auth");
        $("auth-error").textContent = authErrorText(err);
        $("auth-error").hidden = false;
        return;
      }
    }
  }
  showScreen("auth");
  $("auth-username").focus();
}

boot();
