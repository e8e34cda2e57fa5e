// Typing indicators: telling the room while the user types (the SDK's room.typing, which
// repeats it at most every 3 s), and showing who else is (room.state.typing: the SDK
// forgets someone who stopped saying so, and whoever sent a message).

import { $, el, displayName } from "/js/dom.js";
import { isConnected } from "/js/client.js";
import { openHandle } from "/js/open_room_data.js";
import { member } from "/js/members.js";
import { avatar } from "/js/avatars.js";

const TYPING_IDLE_MS = 3000; // stop after this long without input

const told = { handle: null, timer: 0 }; // the room we told we are typing

/** The composer's text changed: say "typing", or stop when it is empty. */
export function noteTyping() {
  const handle = openHandle();
  if (!handle || handle.state.status !== "joined" || !isConnected()) return;
  if (!$("composer-input").value.trim()) {
    stopTyping();
    return;
  }
  told.handle = handle;
  handle.typing(true).catch(() => {}); // a signal: lost if the connection is
  clearTimeout(told.timer);
  told.timer = setTimeout(() => stopTyping(), TYPING_IDLE_MS);
}

export function stopTyping() {
  clearTimeout(told.timer);
  const handle = told.handle;
  told.handle = null;
  if (handle && isConnected()) handle.typing(false).catch(() => {});
}

/** Who else is typing in the open room, by name (and picture: member() is the newest). */
export function renderTyping() {
  const ids = openHandle()?.state.typing ?? [];
  const names = ids.map((id) => {
    const u = member(id);
    return u && (u.display_name || u.username) ? displayName(u) : "Someone";
  });
  let text = "";
  if (names.length === 1) text = `${names[0]} is typing…`;
  else if (names.length === 2) text = `${names[0]} and ${names[1]} are typing…`;
  else if (names.length > 2) text = `${names[0]}, ${names[1]} and ${names.length - 2} more are typing…`;
  const faces = ids.slice(0, 2).map((id) => avatar(member(id) ?? null, { size: "sm", userId: id }));
  $("typing").replaceChildren(...(text ? [...faces, el("span", { text })] : []));
}
