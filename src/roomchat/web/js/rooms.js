// The room list of the selected workspace (each room with its unread badge and its
// newest message), and creating a room in it.

import { $, el, toast, displayName } from "/js/dom.js";
import { state, ctx } from "/js/state.js";
import { openRoom } from "/js/room.js";

export async function loadRooms() {
  const list = $("room-list");
  if (!state.workspace) {
    state.rooms = [];
    list.replaceChildren();
    $("no-rooms").hidden = true;
    return;
  }
  const wsId = state.workspace.id;
  let rooms;
  try {
    rooms = await ctx.api.rooms(wsId);
  } catch (err) {
    toast(`Could not load rooms: ${err.message}`, { error: true });
    return;
  }
  if (state.workspace?.id !== wsId) return;
  state.rooms = rooms;
  renderRooms();
}

export function renderRooms() {
  const list = $("room-list");
  list.replaceChildren(...state.rooms.map((room) => el("li", {},
    el("button", {
      type: "button",
      dataset: { roomId: room.id },
      "aria-current": String(state.room?.id === room.id),
      onclick: () => openRoom(room),
    },
    el("span", { class: "room-main" },
      el("span", { class: "room-name", text: room.name }),
      el("span", { class: "room-preview" })),
    room.has_passcode ? el("span", { class: "lock", title: "Passcode required", text: "passcode" }) : null,
    el("span", { class: "badge" })))));
  for (const room of state.rooms) renderRoomStatus(room.id);
  $("no-rooms").hidden = state.rooms.length > 0;
  if (state.rooms.length === 0 && state.workspace) $("room-create").open = true;
}

/** Bring one room's badge and preview up to date, in place (its button keeps the focus).
 *  The open room shows no badge: it is being read. */
export function renderRoomStatus(roomId) {
  const room = state.rooms.find((r) => r.id === roomId);
  const button = $("room-list").querySelector(`button[data-room-id="${Number(roomId)}"]`);
  if (!room || !button) return;
  const count = state.room?.id === room.id ? 0 : Math.max(0, room.unread_count || 0);
  const badge = button.querySelector(".badge");
  badge.textContent = count > 99 ? "99+" : String(count);
  badge.title = `${count} unread`;
  badge.hidden = count === 0;
  button.classList.toggle("unread", count > 0);
  const last = room.last_message;
  const preview = button.querySelector(".room-preview");
  const text = last && !last.deleted_at ? (last.message_text ?? "") : "";
  preview.textContent = text
    ? `${last.user_id === state.me?.id ? "You" : displayName(last.user, last.user_id)}: ${text}`
    : "";
  preview.hidden = !text;
}

export async function onRoomCreate(ev) {
  ev.preventDefault();
  const name = $("room-name").value.trim();
  const passcode = $("room-passcode").value;
  if (!name || !state.workspace) return;
  try {
    const room = await ctx.api.createRoom(state.workspace.id, name, passcode || undefined);
    if (passcode) state.passcodes.set(room.id, passcode);
    $("room-name").value = "";
    $("room-passcode").value = "";
    $("room-create").open = false;
    await loadRooms();
    await openRoom(room);
  } catch (err) {
    toast(`Could not create the room: ${err.message}`, { error: true });
  }
}
