// The open room's settings dialog: everyone can leave the room; its creator and the
// workspace owner also rename it, set or clear its passcode, replace its join link and
// delete it. What changed reaches every member as room_chat_updated / _deleted.
// Closing the room once it is deleted or left is room.js's, above this module: app.js
// registers it (wireSettings).

import { $, toast } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import { currentRoom, canModerate } from "/js/open_room_data.js";
import { confirmAction } from "/js/confirm.js";
import { rememberPasscode, forgetPasscode } from "/js/passcode.js";
import { loadRooms } from "/js/rooms.js";
import { renderRoomDetails } from "/js/roomdetails.js";

const closing = {
  roomDeleted: () => {}, // ({room_id}): as its room_chat_deleted does
  roomGone: () => {}, // (text): close it, saying why
};

/** roomDeleted({room_id}) and roomGone(text): what deleting and leaving the room do. */
export function wireSettings({ roomDeleted, roomGone }) {
  Object.assign(closing, { roomDeleted, roomGone });
  $("settings-btn").addEventListener("click", openSettings);
  $("settings-close").addEventListener("click", closeSettings);
  $("rename-form").addEventListener("submit", onRename);
  $("room-passcode-form").addEventListener("submit", onSetPasscode);
  $("passcode-clear-btn").addEventListener("click", onClearPasscode);
  $("rotate-link-btn").addEventListener("click", onRotateLink);
  $("delete-room-btn").addEventListener("click", onDeleteRoom);
  $("leave-room-btn").addEventListener("click", onLeaveRoom);
}

export function openSettings() {
  const room = currentRoom();
  if (!room) return;
  $("settings-name").value = room.name;
  $("settings-passcode").value = "";
  $("settings-dialog").showModal();
  renderSettings();
}

export function closeSettings() {
  const dialog = $("settings-dialog");
  if (dialog.open) dialog.close();
}

/** Show the open room as it is now (also while open, when room_chat_updated arrives). */
export function renderSettings() {
  const room = currentRoom();
  if (!room || !$("settings-dialog").open) return;
  $("settings-title").textContent = `#${room.name}`;
  $("settings-manage").hidden = !canModerate(room);
  renderRoomDetails(room); // what everyone may see of it, read-only
  $("passcode-status").textContent = room.has_passcode
    ? "This room has a passcode: whoever joins it from now on needs it."
    : "No passcode: anyone in the workspace can join.";
  $("passcode-clear-btn").hidden = !room.has_passcode;
  $("settings-passcode-submit").textContent = room.has_passcode ? "Change passcode" : "Set passcode";
  $("settings-link").textContent = room.link_join || "";
  $("settings-link-row").hidden = !room.link_join;
}

/** Run a request with the dialog's buttons disabled; resolves to its data or null (toasted). */
async function busy(request, failure) {
  const buttons = $("settings-dialog").querySelectorAll("button");
  for (const b of buttons) b.disabled = true;
  try {
    return await request();
  } catch (err) {
    toast(`${failure}: ${err.message}`, { error: true });
    return null;
  } finally {
    for (const b of buttons) b.disabled = false;
  }
}

async function onRename(ev) {
  ev.preventDefault();
  const room = currentRoom();
  const name = $("settings-name").value.trim();
  if (!room || !name || name === room.name) return;
  if (await busy(() => rest().updateRoom(room.id, { name }), "Could not rename the room")) {
    toast(`Room renamed to #${name}`);
  }
}

async function onSetPasscode(ev) {
  ev.preventDefault();
  const room = currentRoom();
  const passcode = $("settings-passcode").value;
  if (!room) return;
  if (passcode.length < 4 || passcode.length > 64) {
    toast("A passcode has 4 to 64 characters.", { error: true });
    return;
  }
  if (await busy(() => rest().updateRoom(room.id, { passcode }), "Could not set the passcode")) {
    rememberPasscode(room.id, passcode);
    $("settings-passcode").value = "";
    toast("Passcode set");
  }
}

async function onClearPasscode() {
  const room = currentRoom();
  if (!room) return;
  if (await busy(() => rest().updateRoom(room.id, { passcode: null }), "Could not remove the passcode")) {
    forgetPasscode(room.id);
    toast("Passcode removed");
  }
}

async function onRotateLink() {
  const room = currentRoom();
  if (!room) return;
  const ok = await confirmAction("Replace the join link?", "The current link stops working; share the new one.", "Replace link");
  if (!ok || currentRoom()?.id !== room.id) return;
  if (await busy(() => rest().rotateRoomLink(room.id), "Could not replace the link")) toast("New join link made");
}

async function onDeleteRoom() {
  const room = currentRoom();
  if (!room) return;
  const ok = await confirmAction(`Delete #${room.name}?`, "Its messages are gone for everyone, and nobody can join it again.", "Delete room");
  if (!ok || currentRoom()?.id !== room.id) return;
  const data = await busy(() => rest().deleteRoom(room.id), "Could not delete the room");
  if (data) closing.roomDeleted({ room_id: room.id }); // its broadcast may come first: both do the same
}

async function onLeaveRoom() {
  const room = currentRoom();
  if (!room) return;
  const ok = await confirmAction(
    `Leave #${room.name}?`,
    room.has_passcode ? "You need its passcode to join again." : "You can join again from the room list.",
    "Leave",
  );
  if (!ok || currentRoom()?.id !== room.id) return;
  const data = await busy(() => rest().removeRoomMember(room.id, currentUser().id), "Could not leave the room");
  if (data && currentRoom()?.id === room.id) {
    forgetPasscode(room.id);
    closing.roomGone(`You left #${room.name}.`); // as its room_member_left does, whichever comes first
    loadRooms();
  }
}
