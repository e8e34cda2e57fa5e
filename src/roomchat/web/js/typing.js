// Typing indicators: telling the room while the user types, and showing who else is.

import { $, displayName } from "/js/dom.js";
import { currentSocket } from "/js/connection.js";
import { currentUser } from "/js/session_data.js";
import { currentRoom, isJoined } from "/js/open_room_data.js";
import { member, isMember, refreshMembersSoon } from "/js/members.js";

const TYPING_RESEND_MS = 3000; // while typing, say so again this often
const TYPING_IDLE_MS = 3000; // stop after this long without input
const TYPING_EXPIRE_MS = 8000; // forget someone's typing if not refreshed

const told = { sent: false, at: 0, roomId: null, timer: 0 }; // what we told the open room
const typers = new Map(); // user_id -> expiry timer: who else is typing in the open room

/** The composer's text changed: say "typing" (throttled), or stop when it is empty. */
export function noteTyping() {
  const room = currentRoom();
  if (!room || !isJoined()) return;
  const input = $("composer-input");
  if (!input.value.trim()) {
    stopTyping();
    return;
  }
  const now = Date.now();
  if (!told.sent || told.roomId !== room.id || now - told.at > TYPING_RESEND_MS) {
    if (currentSocket().send("typing_indicator", { room_id: room.id, is_typing: true })) {
      told.sent = true;
      told.at = now;
      told.roomId = room.id;
    }
  }
  clearTimeout(told.timer);
  told.timer = setTimeout(() => stopTyping(), TYPING_IDLE_MS);
}

export function stopTyping({ send = true } = {}) {
  const socket = currentSocket();
  clearTimeout(told.timer);
  if (told.sent && send && socket?.isOpen) {
    socket.send("typing_indicator", { room_id: told.roomId, is_typing: false });
  }
  told.sent = false;
}

export function onTyping({ room_id: roomId, user_id: userId, is_typing: isTyping }) {
  const room = currentRoom();
  if (!room || roomId !== room.id || userId === currentUser().id) return;
  clearTimeout(typers.get(userId));
  if (isTyping) {
    typers.set(userId, setTimeout(() => dropTyper(userId), TYPING_EXPIRE_MS));
    if (!isMember(userId)) refreshMembersSoon();
  } else {
    typers.delete(userId);
  }
  renderTyping();
}

export function dropTyper(userId) {
  if (!typers.has(userId)) return;
  clearTimeout(typers.get(userId));
  typers.delete(userId);
  renderTyping();
}

export function clearTypers() {
  for (const timer of typers.values()) clearTimeout(timer);
  typers.clear();
  renderTyping();
}

export function renderTyping() {
  const names = [...typers.keys()].map((id) => {
    const u = member(id);
    return u && (u.display_name || u.username) ? displayName(u) : "Someone";
  });
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = `${names[0]}, ${names[1]} and ${names.length - 2} more are typing…`;
  $("typing").textContent = text;
}
