// The room list of the selected workspace, and creating a room in it.

import { $, el, toast } from "/js/dom.js";
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
    el("span", { class: "room-name", text: room.name }),
    room.has_passcode ? el("span", { class: "lock", title: "Passcode required", text: "passcode" }) : null))));
  $("no-rooms").hidden = state.rooms.length > 0;
  if (state.rooms.length === 0 && state.workspace) $("room-create").open = true;
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
