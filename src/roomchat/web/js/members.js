// The open room's members (held here, read through member / isMember), the side panel
// (who is online in the room, and where its moderators remove someone), the
// membership events of others (room_member_joined / room_member_left; our own leaving
// closes the room: room.js), and the lookup of names for the typing line, the notices
// and the reactions.

import { $, el, toast, displayName } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import { currentRoom, canModerate } from "/js/open_room_data.js";
import { confirmAction } from "/js/confirm.js";
import { isOnline } from "/js/presence.js";
import { currentTimeline } from "/js/timeline.js";
import { avatar } from "/js/avatars.js";
import { userById, usersClock, noteUsers, noteUserSeen } from "/js/users_data.js";

let members = new Map(); // user_id -> user, for the open room
let loaded = () => {}; // runs after every load: names may now be known (app.js registers)

/** Run `handler` after the members were (re)loaded. */
export function onMembersLoaded(handler) {
  loaded = handler;
}

/** The open room's member with this id, as newest known (users_data.js; undefined: not
 *  one, or not known yet). */
export function member(userId) {
  return members.has(userId) ? userById(userId) || members.get(userId) : undefined;
}

export function isMember(userId) {
  return members.has(userId);
}

/** The open room's members (as loaded), e.g. whom a mention can name. */
export function roomMembers() {
  return [...members.keys()].map(member);
}

/** A new open room (or none): nobody known until its members load. */
export function clearMembers() {
  members = new Map();
}

// The membership events applied while a members request is under way, one list per
// request: its reply may have been read before them (a removal would come back), so
// they are applied again on top of it.
const loading = new Set();

function noteMembership(roomId, userId, user) {
  for (const changes of loading) changes.push({ roomId, userId, user });
}

/** Load the open room's members; resolves to whether the current user is one. */
export async function loadMembers() {
  const room = currentRoom();
  if (!room) return false;
  const changes = [];
  loading.add(changes);
  const asOf = usersClock();
  let rows;
  try {
    rows = await rest().listRoomMembers(room.id);
  } catch {
    return false;
  } finally {
    loading.delete(changes);
  }
  noteUsers(rows.map((r) => r.user), { asOf }); // the newest names and pictures
  if (currentRoom()?.id !== room.id) return false;
  const fresh = new Map(rows.map((r) => [r.user_id, r.user || { id: r.user_id }]));
  for (const c of changes) {
    if (c.roomId !== room.id) continue;
    if (c.user) fresh.set(c.userId, c.user);
    else fresh.delete(c.userId);
  }
  members = fresh;
  renderMembers();
  loaded();
  return members.has(currentUser().id);
}

let membersRefreshAt = 0;
let membersRefreshTimer = 0;

/** Reload the members soon, at most once every 2 seconds (someone unknown spoke or typed). */
export function refreshMembersSoon() {
  if (membersRefreshTimer) return;
  const wait = Math.max(0, membersRefreshAt + 2000 - Date.now());
  membersRefreshTimer = setTimeout(() => {
    membersRefreshTimer = 0;
    membersRefreshAt = Date.now();
    loadMembers();
  }, wait);
}

/** A user's name as the open room knows it (members first, then message authors). */
export function nameOf(userId) {
  const me = currentUser();
  if (userId === me?.id) return displayName(me);
  const user = member(userId) || userById(userId) || currentTimeline()?.userFor(userId);
  return user && (user.display_name || user.username) ? displayName(user) : `user ${userId}`;
}

export function renderMembers() {
  // Nobody removes anyone from a direct conversation.
  const moderator = canModerate() && currentRoom()?.kind !== "direct";
  const me = currentUser();
  const users = roomMembers().sort((a, b) => displayName(a).localeCompare(displayName(b)));
  $("members-count").textContent = users.length ? `(${users.length})` : "";
  $("member-list").replaceChildren(...users.map((u) => el("li", { dataset: { userId: u.id } },
    el("span", { class: "avatar-wrap" },
      avatar(u),
      isOnline(u.id) ? el("span", { class: "presence-dot", role: "img", "aria-label": "online", title: "Online in this room" }) : null),
    el("span", { class: "names" },
      el("span", { text: displayName(u) + (u.id === me.id ? " (you)" : "") }),
      u.username ? el("span", { class: "muted small", text: `@${u.username}` }) : null),
    moderator && u.id !== me.id
      ? el("button", {
        type: "button", class: "small-btn remove-btn", text: "Remove",
        "aria-label": `Remove ${displayName(u)} from the room`, onclick: () => removeMember(u),
      })
      : null)));
}

export function toggleMembers(force) {
  const panel = $("members-panel");
  const show = force ?? panel.hidden;
  panel.hidden = !show;
  $("members-btn").setAttribute("aria-expanded", String(show));
  if (show) loadMembers();
}

/** A moderator removes someone: room_member_left (removed_by: them) tells everyone. */
async function removeMember(user) {
  const room = currentRoom();
  if (!room) return;
  const ok = await confirmAction(
    `Remove ${displayName(user)} from #${room.name}?`,
    `They stop seeing the room. They can join it again${room.has_passcode ? " with its passcode" : ""}.`,
    "Remove",
  );
  if (!ok || currentRoom()?.id !== room.id) return;
  try {
    await rest().removeRoomMember(room.id, user.id);
    toast(`${displayName(user)} was removed from #${room.name}`);
  } catch (err) {
    toast(`Could not remove ${displayName(user)}: ${err.message}`, { error: true });
  }
}

// ---- membership events of others (the SDK hands each over once, in seq order)

export function memberJoined(data) {
  const user = data.user || { id: data.user_id };
  noteUserSeen(data.user);
  const name = data.user_id === currentUser().id ? "You" : displayName(user, data.user_id);
  members.set(data.user_id, user);
  noteMembership(data.room_id, data.user_id, user);
  renderMembers();
  currentTimeline().addNotice(data.seq, `${name} joined`);
}

/** Someone else left or was removed (our own leaving closes the room: room.js). */
export function memberLeft(data) {
  const self = data.removed_by === data.user_id;
  const name = nameOf(data.user_id);
  const by = data.removed_by === currentUser().id ? "you" : nameOf(data.removed_by);
  members.delete(data.user_id);
  noteMembership(data.room_id, data.user_id, null);
  renderMembers();
  currentTimeline().addNotice(data.seq, self ? `${name} left` : `${name} was removed by ${by}`);
}
