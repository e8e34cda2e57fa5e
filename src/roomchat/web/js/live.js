// What the RoomchatClient's events do, registered on each new client (session.js): its
// state in the top bar (a final close signs out), every (re)connection (the workspace is
// followed again, the open room refreshed), the signals (unread counts, mentions, "Seen
// by"), the open room's durable events (each once, in seq order: notices, members, its
// settings, the thread open in the side panel) and a room the SDK could not resume. This is the one module that reaches both the
// connection below and the room above; what a final close does (sign out) is session.js's,
// registered by app.js (wireLive).

import { connectedAgain } from "/js/client.js";
import { renderConnection } from "/js/connection.js";
import { currentUser } from "/js/session_data.js";
import { currentRoomId } from "/js/open_room_data.js";
import { currentTimeline } from "/js/timeline.js";
import { isHistoryShown } from "/js/history.js";
import { applyRoomUpdated, applyRoomDeleted, leftRoom, roomLost, refreshRoom } from "/js/room.js";
import { isMember, refreshMembersSoon, memberJoined, memberLeft } from "/js/members.js";
import { followWorkspace, onRoomActivity, onReadUpdated, onMention } from "/js/unread.js";
import { onRoomRead } from "/js/seenby.js";
import { threadEvent, threadConnected } from "/js/threadpanel.js";
import { threadsChanged } from "/js/threadlist.js";
import { applyUserUpdated } from "/js/profile.js";

/** Signals: not stored, no place in the room's order; typing and presence are in the
 *  room's state already (room.js draws it). */
const SIGNALS = {
  room_activity(data) {
    onRoomActivity(data);
    threadsChanged(); // a reply: the followed threads' unread
  },
  room_read_updated: onReadUpdated,
  room_chat_mention: onMention,
  room_chat_read: onRoomRead,
  user_updated: applyUserUpdated, // someone's new name or picture, everywhere they show
  typing_indicator(data) {
    if (data.room_id === currentRoomId() && data.is_typing && !isMember(data.user_id)) refreshMembersSoon();
  },
};

/** What each durable event of the open room does besides its state (its messages are
 *  drawn from the state: edits, deletes and reactions need nothing here). */
const ROOM_EVENTS = {
  new_room_chat_message(data) {
    if (data.user && !isMember(data.user_id)) refreshMembersSoon();
  },
  room_member_joined: memberJoined,
  room_member_left(data) {
    if (data.user_id === currentUser()?.id) leftRoom(data);
    else memberLeft(data);
  },
  room_chat_updated: applyRoomUpdated,
  room_chat_deleted: applyRoomDeleted,
};

const handlers = {
  sessionEnded: () => {}, // (reason): the client closed for good
};

let listening = [];

/** sessionEnded(reason): the client closed for good (session.js decides); signals: more
 *  signal handlers by action (the live sidebar's, sidebar_live.js). */
export function wireLive({ sessionEnded, signals = {} }) {
  handlers.sessionEnded = sessionEnded;
  for (const [action, handler] of Object.entries(signals)) {
    if (!SIGNALS[action]) SIGNALS[action] = handler;
  }
}

/** Follow a new client's events (and stop following the last one's). */
export function listenTo(client) {
  stopListening();
  renderConnection({ state: client.state, reason: client.reason });
  listening = [
    client.on("state", onState),
    client.on("connected", onConnected),
    client.on("signal", (signal) => guarded(signal.action, () => SIGNALS[signal.action]?.(signal.data || {}))),
    client.on("event", ({ roomId, event }) => {
      if (roomId !== currentRoomId()) return;
      guarded(event.action, () => ROOM_EVENTS[event.action]?.(event.data));
      guarded(event.action, () => threadEvent(event));
    }),
    client.on("roomLost", ({ roomId, error }) => {
      if (roomId === currentRoomId()) roomLost(error);
    }),
    client.on("warning", ({ message, error }) => console.warn("roomchat:", message, error)),
  ];
}

/** Signing out: what the closing client says next is no news. */
export function stopListening() {
  for (const off of listening) off();
  listening = [];
}

function onState({ state, reason, retryInMs }) {
  renderConnection({ state, reason, retryInMs });
  currentTimeline()?.setConnected(state === "connected");
  threadConnected(state === "connected");
  if (state === "closed" && reason && reason.code !== "client_closed") handlers.sessionEnded(reason);
}

/** Connected, the open room caught up: the server forgot what the last connection
 *  followed (the workspace), and signals were lost meanwhile. */
function onConnected({ reconnected }) {
  connectedAgain();
  followWorkspace({ reload: reconnected });
  if (reconnected && isHistoryShown()) refreshRoom();
}

function guarded(action, apply) {
  try {
    apply();
  } catch (err) {
    console.error("roomchat: could not apply", action, err);
  }
}
