// Client state shared by the views, the objects every view talks to, and which
// screen / pane is showing (the narrow layout shows either the room list or the chat).

import { $ } from "/js/dom.js";

export const KEY_TOKEN = "roomchat.token";
export const KEY_WORKSPACE = "roomchat.workspace";
export const KEY_ROOM = "roomchat.room";
export const KEY_JOIN = "roomchat.joinToken";

export const state = {
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
  joining: null, // the join in flight (a promise)
  joinAgain: false, // a join was asked for while one was in flight: run another after it
  passcodes: new Map(), // room_id -> passcode that worked (this tab only)
  members: new Map(), // user_id -> user, for the open room
  outbox: new Map(), // client_msg_id -> {client_msg_id, room_id, message_text, inflight}
  typers: new Map(), // user_id -> expiry timer
  typing: { sent: false, at: 0, roomId: null, timer: 0 },
};

/** api: the REST client (set once by app.js); socket: the ChatSocket while signed in;
 *  timeline: the open room's message list, created on first sign-in. */
export const ctx = { api: null, socket: null, timeline: null };

/** May the user moderate `room` (delete anyone's messages, remove members, change or
 *  delete the room)? Its creator and its workspace's owner may. */
export function canModerate(room = state.room) {
  if (!room || !state.me) return false;
  if (room.created_by === state.me.id) return true;
  const ws = state.workspaces.find((w) => w.id === room.workspace_id);
  return Boolean(ws) && ws.owner_id === state.me.id;
}

export function showScreen(name) {
  document.body.dataset.screen = name;
  $("auth-view").hidden = name !== "auth";
  $("app-view").hidden = name !== "app";
}

export function setPane(pane) {
  document.body.dataset.pane = pane;
}
