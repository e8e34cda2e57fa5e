// What the socket's frames do, and its opening and closing: signals go to their
// handler; the open room's durable events (they carry a seq) go through events.js, which
// applies each once, in seq order, with the table below. Registered once at start-up
// (wireFrames, from app.js): this is the one module that reaches both the connection
// below and the room above.

import { handleSocket } from "/js/connection.js";
import { currentUser } from "/js/session_data.js";
import { setJoined, currentRoom } from "/js/open_room_data.js";
import { currentTimeline } from "/js/timeline.js";
import { handleRoomEvents, onRoomBroadcast } from "/js/events.js";
import { joinCurrentRoom, applyRoomUpdated, applyRoomDeleted, roomGone, leftRoom } from "/js/room.js";
import { flushOutbox, messageStored } from "/js/composer.js";
import { renderOlder } from "/js/history.js";
import { stopTyping, onTyping, dropTyper, clearTypers } from "/js/typing.js";
import { isMember, refreshMembersSoon, memberJoined, memberLeft, renderMembers } from "/js/members.js";
import { followWorkspace, onRoomActivity, onReadUpdated } from "/js/unread.js";
import { onRoomRead } from "/js/seenby.js";
import { onPresence } from "/js/presence.js";

/** Signals: not stored, no place in the room's order (room_activity carries the room's
 *  seq, but is no event of it). */
const SIGNALS = {
  typing_indicator: onTyping,
  room_activity: onRoomActivity,
  room_read_updated: onReadUpdated,
  room_chat_read: onRoomRead,
  room_presence(data) {
    if (onPresence(data)) renderMembers();
  },
};

/** What each durable event does to the open room. */
const ROOM_EVENTS = {
  new_room_chat_message(data) {
    if (data.client_msg_id) messageStored(data.client_msg_id);
    currentTimeline().add([data]);
    renderOlder();
    dropTyper(data.user_id);
    if (data.user && !isMember(data.user_id)) refreshMembersSoon();
  },
  room_chat_message_edited(data) { currentTimeline().replaceMessage(data.message); },
  room_chat_message_deleted(data) { currentTimeline().markDeleted(data.message_id); },
  room_chat_reaction_added(data) { currentTimeline().react(data.message_id, data.reaction, data.user_id, +1); },
  room_chat_reaction_removed(data) { currentTimeline().react(data.message_id, data.reaction, data.user_id, -1); },
  room_member_joined: memberJoined,
  room_member_left(data) {
    if (data.user_id === currentUser().id) {
      leftRoom(data);
      return;
    }
    memberLeft(data);
    dropTyper(data.user_id);
  },
  room_chat_updated: applyRoomUpdated,
  room_chat_deleted: applyRoomDeleted,
};

function onOpen({ reconnect }) {
  setJoined(false);
  // Activity is a signal: after a reconnect the room list is read again for the counts.
  followWorkspace({ reload: reconnect });
  if (currentRoom()) joinCurrentRoom();
  else flushOutbox();
}

function onClosed() {
  setJoined(false);
  stopTyping({ send: false });
  clearTypers();
}

/** Signals go to their handler; durable room events (they carry a seq) through
 *  events.js, in seq order and once. */
function onFrame(frame) {
  const signal = SIGNALS[frame.action];
  if (signal) signal(frame.data || {});
  else onRoomBroadcast(frame);
}

/** sessionEnded(reason): the server closed the socket with 4401 (session.js decides). */
export function wireFrames({ sessionEnded }) {
  handleSocket({ open: onOpen, closed: onClosed, frame: onFrame, sessionEnded });
  handleRoomEvents({
    apply(action, data) {
      ROOM_EVENTS[action]?.(data);
    },
    roomGone,
  });
}
