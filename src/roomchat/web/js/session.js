// Signing in, up and out, and entering the app once signed in (including a pending
// /join/{token} link, which is remembered across the sign-in in sessionStorage). The
// session is a RoomchatClient (the SDK): it signs in, renews the token before it expires,
// keeps the connection, and closes for good when the session is revoked.

import { $ } from "/js/dom.js";
import { RoomchatClient, webStorageOutbox } from "/sdk/index.js";
import { chat, setChat, rest } from "/js/client.js";
import { accessToken, storeToken, currentUser, setCurrentUser, clearSession } from "/js/session_data.js";
import { clearWorkspaces, savedWorkspaceId } from "/js/workspace_data.js";
import { listedRoom, setListedRooms } from "/js/rooms_data.js";
import { savedRoomId } from "/js/open_room_data.js";
import { showScreen, setPane } from "/js/layout.js";
import { showTimeline } from "/js/timeline.js";
import { resetConnection } from "/js/connection.js";
import { CONNECTION_OPTIONS } from "/js/heartbeat.js";
import { updateTitle } from "/js/title.js";
import { listenTo, stopListening } from "/js/live.js";
import { loadWorkspaces, selectWorkspace } from "/js/workspaces.js";
import { openRoom, closeRoom, joinByLink, openJoinedRoom } from "/js/room.js";
import { nameOf, member } from "/js/members.js";
import { clearPeople, person } from "/js/people_data.js";
import { closePanel } from "/js/threadpanel.js";
import { forgetPasscodes } from "/js/passcode.js";
import { watchTimeline } from "/js/readmark.js";
import { updateSeenBy } from "/js/seenby.js";
import { closeAccount } from "/js/account.js";
import { renderMe } from "/js/profile.js";
import { clearUsers, noteUsers } from "/js/users_data.js";

const KEY_JOIN = "roomchat.joinToken";
// Messages not yet stored survive a reload here (the SDK keeps each user's apart).
const KEY_OUTBOX = "roomchat.outbox";
const EXPIRED = "Your session has expired. Please sign in again.";
// The server's rule for a new password (domain/users.py MIN_PASSWORD_CHARS), said
// under the field before anything fails, and checked here before asking.
const MIN_PASSWORD_CHARS = 8;

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
  if (authMode === "signup" && [...password].length < MIN_PASSWORD_CHARS) {
    showAuthError(`Choose a password of at least ${MIN_PASSWORD_CHARS} characters.`);
    $("auth-password").focus();
    return;
  }
  const button = $("auth-submit");
  button.disabled = true;
  try {
    const displayNameGiven = $("auth-display-name").value.trim();
    const client = authMode === "signup"
      ? await RoomchatClient.register({
        ...clientOptions(), username, password, ...(displayNameGiven ? { displayName: displayNameGiven } : {}),
      })
      : await RoomchatClient.login({ ...clientOptions(), username, password });
    setCurrentUser(client.user);
    $("auth-password").value = "";
    await enterApp(client);
  } catch (err) {
    showAuthError(authErrorText(err));
  } finally {
    button.disabled = false;
  }
}

function clientOptions() {
  return {
    baseUrl: location.origin,
    ...CONNECTION_OPTIONS, // a dead connection found within 10 s, back within seconds
    outbox: webStorageOutbox(localStorage, KEY_OUTBOX),
    // Bound: the SDK calls it as its own method, and a browser's fetch must be called on
    // the window ("Illegal invocation" otherwise).
    fetch: (input, init) => fetch(input, init),
  };
}

/** A reload with a stored token: enter the app as its user. False (the sign-in form says
 *  why) when the token is no longer good or the server cannot be reached. */
export async function resumeSession() {
  const client = new RoomchatClient({ ...clientOptions(), token: accessToken() });
  try {
    setCurrentUser(await client.rest.me()); // renewed first if it expired meanwhile
  } catch (err) {
    client.close();
    if (err.code === "unauthorized") {
      clearSession();
      showAuthError(EXPIRED);
    } else {
      showAuthError(authErrorText(err));
    }
    return false;
  }
  await enterApp(client);
  return true;
}

export function authErrorText(err) {
  if (err.code === "conflict") return "That username is already taken.";
  if (err.code === "unauthorized") return "Wrong username or password.";
  if (err.code === "network_error") return "Cannot reach the server. Try again in a moment.";
  return err.message || "Something went wrong.";
}

/** The client closed for good (live.js): the session was revoked (signed out
 *  elsewhere), cannot be renewed, or this page may not connect. */
export function sessionEnded(reason) {
  const text = reason.code === "token_revoked" ? "You were signed out."
    : reason.code === "origin_not_allowed" ? "This page may not connect to the server (its origin is not allowed)."
      : EXPIRED;
  signOut(text, { revoke: false });
}

export function signOut(message, { revoke = !message } = {}) {
  const client = chat();
  stopListening(); // its closing is ours: no "signed out" about it
  setChat(null);
  if (client) endClient(client, revoke);
  closeRoom(); // and forget it for the next page load
  closePanel();
  closeAccount();
  clearPeople();
  clearUsers();
  clearSession();
  clearWorkspaces();
  setListedRooms([]);
  updateTitle();
  forgetPasscodes();
  resetConnection();
  showScreen("auth");
  setAuthMode("signin");
  if (message) showAuthError(message);
}

/** Signing out on purpose revokes the session on the server (its sockets close
 *  everywhere). What was not sent is dropped with it. */
async function endClient(client, revoke) {
  try {
    if (revoke) await client.logout();
  } catch {
    // Signed out here either way.
  }
  await client.close();
  localStorage.removeItem(KEY_OUTBOX);
}

/** The open room's timeline changed: mark read what comes into view, follow "Seen by". */
function onTimelineChange() {
  watchTimeline();
  updateSeenBy();
}

/** Signed in with `client`: the app, the connection, the workspaces, then the room the
 *  join link leads to or the one open last time. */
export async function enterApp(client) {
  const me = currentUser();
  client.user ??= me; // the outbox's messages show their author before the first connection
  setChat(client);
  storeToken(client.token);
  client.on("token", ({ token }) => { // renewed before it expires: kept for a reload
    if (chat() === client) storeToken(token);
  });
  resetConnection();
  listenTo(client);
  client.connect().catch(() => {}); // a final close signs out (live.js)
  showScreen("app");
  setPane("list");
  noteUsers([me]);
  renderMe(); // the top bar's name and picture
  showTimeline({ meId: me.id, nameOf, userOf: (id) => member(id) || person(id), onChange: onTimelineChange });
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
    if (!room) room = await rest().getRoom(savedRoom).catch(() => null);
    if (room) await openRoom(room);
  }
}
