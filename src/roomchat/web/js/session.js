// Signing in, up and out, and entering the app once signed in (including a pending
// /join/{token} link, which is remembered across the sign-in in sessionStorage).

import { $, displayName } from "/js/dom.js";
import { api } from "/js/client.js";
import { accessToken, storeToken, currentUser, setCurrentUser, clearSession } from "/js/session_data.js";
import { clearWorkspaces, savedWorkspaceId } from "/js/workspace_data.js";
import { listedRoom, setListedRooms } from "/js/rooms_data.js";
import { savedRoomId } from "/js/open_room_data.js";
import { showScreen, setPane } from "/js/layout.js";
import { showTimeline } from "/js/timeline.js";
import { startSocket, stopSocket } from "/js/connection.js";
import { loadWorkspaces, selectWorkspace } from "/js/workspaces.js";
import { openRoom, closeRoom, joinByLink, openJoinedRoom } from "/js/room.js";
import { nameOf } from "/js/members.js";
import { forgetPasscodes } from "/js/passcode.js";
import { clearOutbox } from "/js/composer.js";
import { watchTimeline } from "/js/readmark.js";
import { updateSeenBy } from "/js/seenby.js";
import { closeAccount } from "/js/account.js";

const KEY_JOIN = "roomchat.joinToken";

let authMode = "signin";

/** A /join/{token} link was opened: keep it across the sign-in (this tab only). */
export function savePendingJoin(token) {
  sessionStorage.setItem(KEY_JOIN, token);
}

export function hasPendingJoin() {
  return Boolean(sessionStorage.getItem(KEY_JOIN));
}

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
      ? await api.register(username, password, $("auth-display-name").value.trim())
      : await api.login(username, password);
    setToken(data.access_token);
    setCurrentUser(data.user);
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

// --- Token renewal: a token is replaced a while before it expires, so neither REST nor
// the socket ever sees it expire. The server closes a socket at its token's expiry
// (4401 token_expired); by then there is a newer token, and the socket reconnects
// with it and catches up (after_seq) at once.

let renewTimer = 0;

function tokenExpiry(token) {
  try {
    const part = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
    const claims = JSON.parse(atob(part));
    return { exp: claims.exp * 1000, iat: claims.iat * 1000 };
  } catch {
    return null;
  }
}

export function setToken(token) {
  storeToken(token);
  scheduleRenewal();
}

function scheduleRenewal() {
  clearTimeout(renewTimer);
  const token = accessToken();
  const times = token && tokenExpiry(token);
  if (!times) return;
  const lifetime = Math.max(0, times.exp - times.iat);
  const margin = Math.min(Math.max(lifetime / 10, 1000), 10 * 60 * 1000);
  // setTimeout cannot wait past ~24.8 days; a renewal that far off is re-planned then.
  const delay = Math.min(Math.max(0, times.exp - margin - Date.now()), 2 ** 31 - 1);
  renewTimer = setTimeout(renewToken, delay);
}

export async function renewToken() {
  if (!accessToken()) return false;
  try {
    const data = await api.refresh(); // a 401 here signs out (see Api)
    setToken(data.access_token);
    return true;
  } catch (err) {
    if (err.code !== "unauthorized") renewTimer = setTimeout(renewToken, 5000);
    return false;
  }
}

/** The server closed the socket with 4401: reconnect (true) once there is a valid token. */
export async function sessionEnded(reason) {
  if (reason.includes("token_revoked")) {
    signOut("You were signed out.", { revoke: false });
    return false;
  }
  const token = accessToken();
  const times = token && tokenExpiry(token);
  if (times && times.exp - Date.now() > 2000) return true; // already renewed
  return renewToken();
}

export function signOut(message, { revoke = !message } = {}) {
  // Signing out on purpose revokes the token server-side (its sockets close everywhere).
  if (revoke && accessToken()) api.logout().catch(() => {});
  clearTimeout(renewTimer);
  stopSocket();
  closeRoom({ leave: false }); // and forget it for the next page load
  closeAccount();
  clearSession();
  clearWorkspaces();
  setListedRooms([]);
  forgetPasscodes();
  clearOutbox();
  showScreen("auth");
  setAuthMode("signin");
  if (message) showAuthError(message);
}

/** The open room's timeline changed: mark read what comes into view, follow "Seen by". */
function onTimelineChange() {
  watchTimeline();
  updateSeenBy();
}

export async function enterApp() {
  scheduleRenewal();
  showScreen("app");
  setPane("list");
  const me = currentUser();
  $("me-name").textContent = displayName(me);
  $("me-name").title = `@${me.username}`;
  showTimeline({ meId: me.id, nameOf, onChange: onTimelineChange });
  startSocket();
  await loadWorkspaces(savedWorkspaceId());

  const joinToken = sessionStorage.getItem(KEY_JOIN);
  if (joinToken) {
    sessionStorage.removeItem(KEY_JOIN);
    $("auth-invite-note").hidden = true;
    const room = await joinByLink(joinToken); // asks for a passcode where the room has one
    if (room) await openJoinedRoom(room, selectWorkspace);
    return;
  }
  const savedRoom = savedRoomId();
  if (savedRoom) {
    let room = listedRoom(savedRoom);
    if (!room) room = await api.room(savedRoom).catch(() => null);
    if (room) await openRoom(room);
  }
}
