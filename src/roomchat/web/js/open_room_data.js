// The open room (remembered across reloads), the SDK's handle of it once joined (its
// state: messages, typing, who is online), and its generation: it bumps whenever the
// open room changes, and an async result that finds it changed is for a room no longer
// open.
// A data module: it imports only other data modules.

import { currentUser } from "/js/session_data.js";
import { workspaceById } from "/js/workspace_data.js";
import { person, peopleWorkspaceId } from "/js/people_data.js";

const KEY_ROOM = "roomchat.room";

let room = null;
let generation = 0;
let handle = null;

export function currentRoom() {
  return room;
}

export function currentRoomId() {
  return room?.id ?? null;
}

export function roomGeneration() {
  return generation;
}

/** A room is now open (null: none); not joined yet. */
export function setOpenRoom(value) {
  generation += 1;
  room = value;
  handle = null;
  if (room) localStorage.setItem(KEY_ROOM, String(room.id));
  else localStorage.removeItem(KEY_ROOM);
}

/** The open room's fields as the server says they are now (same room, same generation). */
export function updateOpenRoom(changes) {
  if (room) room = { ...room, ...changes };
}

/** The room open when the page was last open (null: none). */
export function savedRoomId() {
  return Number(localStorage.getItem(KEY_ROOM)) || null;
}

/** The SDK's RoomHandle of the open room (null until it is joined). */
export function openHandle() {
  return handle;
}

export function setOpenHandle(value) {
  handle = value;
}

/** The open room is joined: its state is followed, across reconnects. */
export function isJoined() {
  return handle?.state.status === "joined";
}

/** May the user moderate `room` (delete anyone's messages, remove members, change or
 *  delete the room)? Its creator, its workspace's owner and the workspace's admins may. */
export function canModerate(subject = room) {
  const me = currentUser();
  if (!subject || !me) return false;
  if (subject.created_by === me.id) return true;
  const ws = workspaceById(subject.workspace_id);
  if (Boolean(ws) && ws.owner_id === me.id) return true;
  // A workspace admin manages its rooms as the owner does.
  return peopleWorkspaceId() === subject.workspace_id && person(me.id)?.role === "admin";
}
