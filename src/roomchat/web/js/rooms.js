// The room list of the selected workspace (each room with its unread badge and its
// newest message), and creating a room in it. Opening a room is room.js's, above this
// module: app.js registers it (wireRooms).

import { $, el, toast, displayName } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import { selectedWorkspace } from "/js/workspace_data.js";
import { listedRooms, listedRoom, setListedRooms } from "/js/rooms_data.js";
import { currentRoomId } from "/js/open_room_data.js";
import { rememberPasscode } from "/js/passcode.js";
import { attachmentSummary } from "/js/attachments.js";

let openRoom = async () => {};

/** openRoom(room): what choosing (or creating) a room does. */
export function wireRooms({ openRoom: open }) {
  openRoom = open;
  $("room-form").addEventListener("submit", onRoomCreate);
}

export async function loadRooms() {
  const list = $("room-list");
  const workspace = selectedWorkspace();
  if (!workspace) {
    setListedRooms([]);
    list.replaceChildren();
    $("no-rooms").hidden = true;
    return;
  }
  const wsId = workspace.id;
  let rooms;
  try {
    rooms = await rest().listRooms(wsId);
  } catch (err) {
    toast(`Could not load rooms: ${err.message}`, { error: true });
    return;
  }
  if (selectedWorkspace()?.id !== wsId) return;
  setListedRooms(rooms);
  renderRooms();
}

export function renderRooms() {
  const list = $("room-list");
  const rooms = listedRooms();
  list.replaceChildren(...rooms.map((room) => el("li", {},
    el("button", {
      type: "button",
      dataset: { roomId: room.id },
      "aria-current": String(currentRoomId() === room.id),
      onclick: () => openRoom(room),
    },
    el("span", { class: "room-main" },
      el("span", { class: "room-name", text: room.name }),
      el("span", { class: "room-preview" })),
    room.has_passcode ? el("span", { class: "lock", title: "Passcode required", text: "passcode" }) : null,
    el("span", { class: "badge" })))));
  for (const room of rooms) renderRoomStatus(room.id);
  $("no-rooms").hidden = rooms.length > 0;
  if (rooms.length === 0 && selectedWorkspace()) $("room-create").open = true;
}

/** Bring one room's badge and preview up to date, in place (its button keeps the focus).
 *  The open room shows no badge: it is being read. */
export function renderRoomStatus(roomId) {
  const room = listedRoom(roomId);
  const button = $("room-list").querySelector(`button[data-room-id="${Number(roomId)}"]`);
  if (!room || !button) return;
  const count = currentRoomId() === room.id ? 0 : Math.max(0, room.unread_count || 0);
  const badge = button.querySelector(".badge");
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.title = `${count} unread`;
  badge.hidden = count === 0;
  button.classList.toggle("unread", count > 0);
  const last = room.last_message;
  const preview = button.querySelector(".room-preview");
  const text = last && !last.deleted_at ? (last.message_text || attachmentSummary(last)) : "";
  preview.textContent = text
    ? `${last.user_id === currentUser()?.id ? "You" : displayName(last.user, last.user_id)}: ${text}`
    : "";
  preview.hidden = !text;
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
