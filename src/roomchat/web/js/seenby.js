// "Seen by" under the user's own latest message in the open room: its readers from
// GET .../readers whenever that message changes (and after every (re)join), then the
// room_chat_read broadcasts: a member whose position reaches the message has read it.
// Only members who share read receipts are ever named (the server sees to that).

import { el, displayName } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import { currentRoom } from "/js/open_room_data.js";
import { member } from "/js/members.js";
import { currentTimeline } from "/js/timeline.js";
import { isBot } from "/js/bots.js";
import { avatar } from "/js/avatars.js";
import { userById } from "/js/users_data.js";

const MAX_NAMES = 3;

const seen = {
  roomId: null,
  messageId: null,
  seq: 0,
  readers: new Map(), // user_id -> user
  fetchGen: 0,
  node: el("div", { class: "seen-by", "aria-live": "polite", hidden: true }),
};

/** The newest confirmed, not deleted message of the user's in the timeline. */
function latestMine(timeline) {
  for (let i = timeline.seqs.length - 1; i >= 0; i -= 1) {
    const entry = timeline.items.get(timeline.seqs[i]);
    if (entry.kind === "msg" && entry.msg.user_id === timeline.meId && !entry.msg.deleted_at) return entry;
  }
  return null;
}

/** The timeline changed (or the room was (re)joined: refetch): follow the latest message. */
export function updateSeenBy({ refetch = false } = {}) {
  const timeline = currentTimeline();
  const room = currentRoom();
  const entry = timeline && room ? latestMine(timeline) : null;
  if (!entry) {
    seen.node.remove();
    seen.roomId = seen.messageId = null;
    seen.readers = new Map();
    return;
  }
  const changed = entry.msg.id !== seen.messageId || room.id !== seen.roomId;
  if (changed) {
    seen.roomId = room.id;
    seen.messageId = entry.msg.id;
    seen.seq = entry.msg.seq;
    seen.readers = new Map();
  }
  if (seen.node.parentNode !== entry.node) entry.node.append(seen.node);
  render();
  if (changed || refetch) fetchReaders();
}

async function fetchReaders() {
  const { roomId, messageId } = seen;
  const gen = ++seen.fetchGen;
  let data;
  try {
    data = await rest().messageReaders(roomId, messageId);
  } catch {
    return; // e.g. deleted meanwhile: the timeline moves on by itself
  }
  if (gen !== seen.fetchGen || seen.messageId !== messageId) return;
  // Merged: a receipt broadcast while the request was under way stays.
  for (const user of data.readers || []) seen.readers.set(user.id, user);
  render();
}

/** room_chat_read {room_id, user_id, last_read_seq}: another member's read position. */
/** Someone's name or picture changed (users_data.js): draw the line again. */
export function refreshSeenBy() {
  if (seen.messageId !== null) render();
}

export function onRoomRead(data) {
  if (seen.messageId === null || data.room_id !== seen.roomId || data.user_id === currentUser()?.id) return;
  if (data.last_read_seq >= seen.seq) {
    seen.readers.set(data.user_id, member(data.user_id) || seen.readers.get(data.user_id) || { id: data.user_id });
  } else {
    seen.readers.delete(data.user_id); // marked unread again
  }
  render();
}

/** A reader as newest known (users_data.js): a changed name or picture shows here too. */
function newest(user) {
  return member(user.id) || userById(user.id) || user;
}

/** Draw the line under the message, the view staying at the bottom if it was there: the
 *  line arrives after the room is shown and must not push the newest message out. */
function render() {
  const timeline = currentTimeline();
  if (timeline) timeline.keepingBottom(draw);
  else draw();
}

function draw() {
  // People only: a bot "reads" what it is sent, which tells nobody anything.
  const people = [...seen.readers.values()].map(newest).filter((u) => !isBot(u));
  people.sort((a, b) => displayName(a, a.id).localeCompare(displayName(b, b.id)));
  const names = people.map((u) => displayName(u, u.id));
  seen.node.hidden = names.length === 0;
  if (!names.length) {
    seen.node.textContent = "";
    return;
  }
  const shown = names.slice(0, MAX_NAMES);
  const others = names.length - shown.length;
  const list = others > 0
    ? `${shown.join(", ")} and ${others} other${others === 1 ? "" : "s"}`
    : shown.length > 1 ? `${shown.slice(0, -1).join(", ")} and ${shown[shown.length - 1]}` : shown[0];
  // Their pictures first (no text of their own: the line reads "Seen by ...").
  seen.node.replaceChildren(
    el("span", { class: "seen-avatars" }, ...people.slice(0, MAX_NAMES).map((u) => avatar(u, { size: "sm", userId: u.id }))),
    el("span", { text: `Seen by ${list}` }));
  seen.node.title = `Seen by ${names.join(", ")}`;
}
