// Signing in, up and out, and entering the app once signed in (including a pending
// /join/{token} link, which is remembered across the sign-in in sessionStorage).

import { $, toast, displayName } from "/js/dom.js";
import { Timeline } from "/js/timeline.js";
import { state, ctx, KEY_TOKEN, KEY_WORKSPACE, KEY_ROOM, KEY_JOIN, showScreen, setPane } from "/js/state.js";
import { startSocket } from "/js/connection.js";
import { loadWorkspaces, selectWorkspace } from "/js/workspaces.js";
import { openRoom, closeRoom } from "/js/room.js";

let authMode = "signin";

export function setAuthMode(mode) {
  authMode = mode;
  for (const tab of document.querySelectorAll(".tabs [data-mode]")) {
    tab.setAttribute("aria-selected", String(tab.dataset.mode === mode));
  }
  for (const node of document.querySelectorAll(".signup-only")) node.hidden = mode !== "signup";
  $("auth-submit").textContent = mode === "signup" ? "Create account" : "Sign in";
  $("auth-password").autocomplete = mode === "signup" ? "new-password" : "current-password";
  $("auth-error").hidden = true;
}

export function showAuthError(text) {
  $("auth-error").textContent = text;
  $("auth-error").hidden = false;
}

export async function onAuthSubmit(ev) {
  ev.preventDefault();
  const username = $("auth-username").value.trim();
  const password = $("auth-password").value;
  $("auth-error").hidden = true;
  if (!username || !password) {
    showAuthError("Enter a username and a password.");
    return;
  }
  const button = $("auth-submit");
  button.disabled = true;
  try {
    const data = authMode === "signup"
      ? await ctx.api.register(username, password, $("auth-display-name").value.trim())
      : await ctx.api.login(username, password);
    state.token = data.access_token;
    localStorage.setItem(KEY_TOKEN, state.token);
    state.me = data.user;
    $("auth-password").value = "";
    await enterApp();
  } catch (err) {
    showAuthError(authErrorText(err));
  } finally {
    button.disabled = false;
  }
}

export function authErrorText(err) {
  if (err.code === "conflict") return "That username is already taken.";
  if (err.code === "unauthorized") return "Wrong username or password.";
  if (err.code === "network_error") return "Cannot reach the server. Try again in a moment.";
  return err.message || "Something went wrong.";
}

export function signOut(message) {
  ctx.socket?.stop();
  ctx.socket = null;
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
  if (message) showAuthError(message);
}

export async function enterApp() {
  showScreen("app");
  setPane("list");
  $("me-name").textContent = displayName(state.me);
  $("me-name").title = `@${state.me.username}`;
  if (ctx.timeline) ctx.timeline.meId = state.me.id;
  else ctx.timeline = new Timeline({ meId: state.me.id });
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
    if (!room) room = await ctx.api.room(savedRoom).catch(() => null);
    if (room) await openRoom(room);
  }
}

async function joinByLink(token) {
  try {
    const room = await ctx.api.joinByToken(token);
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
