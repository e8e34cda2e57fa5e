// Typing indicators: telling the room while the user types, and showing who else is.

import { $, displayName } from "/js/dom.js";
import { state, ctx } from "/js/state.js";
import { refreshMembersSoon } from "/js/members.js";

const TYPING_RESEND_MS = 3000; // while typing, say so again this often
const TYPING_IDLE_MS = 3000; // stop after this long without input
const TYPING_EXPIRE_MS = 8000; // forget someone's typing if not refreshed

/** The composer's text changed: say "typing" (throttled), or stop when it is empty. */
export function noteTyping() {
  if (!state.room || !state.joined) return;
  const input = $("composer-input");
  if (!input.value.trim()) {
    stopTyping();
    return;
  }
  const t = state.typing;
  const now = Date.now();
  if (!t.sent || t.roomId !== state.room.id || now - t.at > TYPING_RESEND_MS) {
    if (ctx.socket.send("typing_indicator", { room_id: state.room.id, is_typing: true })) {
      t.sent = true;
      t.at = now;
      t.roomId = state.room.id;
    }
  }
  clearTimeout(t.timer);
  t.timer = setTimeout(() => stopTyping(), TYPING_IDLE_MS);
}

export function stopTyping({ send = true } = {}) {
  const t = state.typing;
  clearTimeout(t.timer);
  if (t.sent && send && ctx.socket?.isOpen) {
    ctx.socket.send("typing_indicator", { room_id: t.roomId, is_typing: false });
  }
  t.sent = false;
}

export function onTyping({ room_id: roomId, user_id: userId, is_typing: isTyping }) {
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

export function dropTyper(userId) {
  if (!state.typers.has(userId)) return;
  clearTimeout(state.typers.get(userId));
  state.typers.delete(userId);
  renderTyping();
}

export function clearTypers() {
  for (const timer of state.typers.values()) clearTimeout(timer);
  state.typers.clear();
  renderTyping();
}

export function renderTyping() {
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
