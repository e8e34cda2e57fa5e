// The room list of the selected workspace, in two sections: its rooms and the user's
// direct conversations (named by the others in them). Each row has its unread badge,
// its mention badge (@N), a marker for unread replies in the threads the user follows,
// and its newest message; creating a room. Opening a room is room.js's, above this
// module: app.js registers it (wireRooms).

import { $, el, toast, displayName } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import { userById } from "/js/users_data.js";
import { selectedWorkspace } from "/js/workspace_data.js";
import { listedRooms, listedRoom, setListedRooms } from "/js/rooms_data.js";
import { currentRoomId } from "/js/open_room_data.js";
import { roomTitle } from "/js/people_data.js";
import { loadPeople, knowsAll } from "/js/people.js";
import { rememberPasscode } from "/js/passcode.js";
import { updateTitle } from "/js/title.js";
import { attachmentSummary } from "/js/attachments.js";

let openRoom = async () => {};

/** openRoom(room): what choosing (or creating) a room does. */
export function wireRooms({ openRoom: open }) {
  openRoom = open;
  $("room-form").addEventListener("submit", onRoomCreate);
}

export async function loadRooms() {
  const workspace = selectedWorkspace();
  if (!workspace) {
    setListedRooms([]);
    $("room-list").replaceChildren();
    $("dm-list").replaceChildren();
    updateTitle();
    $("no-rooms").hidden = true;
    $("no-dms").hidden = true;
    $("dm-section").hidden = true;
    renderThreadsMark();
    return;
  }
  const wsId = workspace.id;
  let rooms;
  try {
    [rooms] = await Promise.all([rest().listRooms(wsId), loadPeople(wsId)]);
    // A direct conversation with someone who joined the workspace since: their name.
    const direct = rooms.filter((r) => r.kind === "direct");
    if (!direct.every((r) => knowsAll(r.member_ids))) await loadPeople(wsId, { force: true });
  } catch (err) {
    // A workspace no longer shown (the user was removed from it meanwhile) says nothing.
    if (selectedWorkspace()?.id !== wsId) return;
    if (err.code === "forbidden" || err.code === "not_found") {
      // Removed while another workspace was shown: none of the last one's rooms stay
      // listed under this one's name (following it is refused too: the workspaces are
      // read again, unread.js).
      setListedRooms([]);
      renderRooms();
      return;
    }
    toast(`Could not load rooms: ${err.message}`, { error: true });
    return;
  }
  if (selectedWorkspace()?.id !== wsId) return;
  setListedRooms(rooms);
  renderRooms();
}

function roomButton(room) {
  return el("li", {},
    el("button", {
      type: "button",
      dataset: { roomId: room.id },
      "aria-current": String(currentRoomId() === room.id),
      onclick: () => openRoom(room),
    },
    el("span", { class: "room-main" },
      el("span", { class: "room-name", text: roomTitle(room) }),
      el("span", { class: "room-preview" })),
    room.has_passcode ? el("span", { class: "lock", title: "Passcode required", text: "passcode" }) : null,
    el("span", { class: "thread-mark", title: "New replies in threads you follow", "aria-label": "New thread replies" }),
    el("span", { class: "mention-count" }),
    el("span", { class: "badge" })));
}

export function renderRooms() {
  const rooms = listedRooms();
  const plain = rooms.filter((r) => r.kind !== "direct");
  const direct = rooms.filter((r) => r.kind === "direct");
  $("room-list").replaceChildren(...plain.map(roomButton));
  $("dm-list").replaceChildren(...direct.map(roomButton));
  for (const room of rooms) renderRoomStatus(room.id);
  $("no-rooms").hidden = plain.length > 0;
  $("no-dms").hidden = direct.length > 0 || !selectedWorkspace();
  $("dm-section").hidden = !selectedWorkspace();
  if (plain.length === 0 && selectedWorkspace()) $("room-create").open = true;
  renderThreadsMark();
}

/** Bring one room's badges and preview up to date, in place (its button keeps the focus).
 *  The open room shows no unread or mention badge: it is being read. */
export function renderRoomStatus(roomId) {
  const room = listedRoom(roomId);
  const button = $("sidebar").querySelector(`button[data-room-id="${Number(roomId)}"]`);
  if (!room || !button) return;
  const open = currentRoomId() === room.id;
  const count = open ? 0 : Math.max(0, room.unread_count || 0);
  const badge = button.querySelector(".badge");
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.title = `${count} unread`;
  badge.hidden = count === 0;
  button.classList.toggle("unread", count > 0);
  const mentions = open ? 0 : Math.max(0, room.mention_count || 0);
  const mention = button.querySelector(".mention-count");
  mention.textContent = `@${mentions > 99 ? "99+" : mentions}`;
  mention.title = mentions === 1 ? "1 unread mention of you" : `${mentions} unread mentions of you`;
  mention.hidden = mentions === 0;
  button.classList.toggle("mentioned", mentions > 0);
  // Replies are read in their thread, not by reading the room: shown while it is open too.
  button.querySelector(".thread-mark").hidden = !(room.thread_unread > 0);
  button.querySelector(".room-name").textContent = roomTitle(room);
  const last = room.last_message;
  const preview = button.querySelector(".room-preview");
  const text = last && !last.deleted_at ? (last.message_text || attachmentSummary(last)) : "";
  preview.textContent = text
    ? `${last.user_id === currentUser()?.id ? "You" : displayName(userById(last.user_id) || last.user, last.user_id)}: ${text}`
    : "";
  preview.hidden = !text;
  renderThreadsMark();
  updateTitle();
}

/** The "Threads" button: marked while a followed thread has unread replies. */
function renderThreadsMark() {
  const unread = listedRooms().reduce((sum, r) => sum + Math.max(0, r.thread_unread || 0), 0);
  const mark = $("threads-unread");
  mark.textContent = unread > 99 ? "99+" : String(unread);
  mark.hidden = unread === 0;
  mark.title = unread === 1 ? "1 new reply" : `${unread} new replies`;
}

async function onRoomCreate(ev) {
  ev.preventDefault();
  const name = $("room-name").value.trim();
  const passcode = $("room-passcode").value;
  const workspace = selectedWorkspace();
  if (!name || !workspace) return;
  try {
    const body = { workspace_id: workspace.id, name };
    if (passcode) body.passcode = passcode;
    const room = await rest().createRoom(body);
    if (passcode) rememberPasscode(room.id, passcode);
    $("room-name").value = "";
    $("room-passcode").value = "";
    $("room-create").open = false;
    await loadRooms();
    await openRoom(room);
  } catch (err) {
    toast(`Could not create the room: ${err.message}`, { error: true });
  }
}
