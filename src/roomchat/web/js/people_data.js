// The selected workspace's members (whom a direct message can go to, whose names a
// direct conversation and a mention show), and a room's title as the UI shows it: its
// name, or for a direct conversation the names of the others in it.
// A data module: it imports only other data modules and dom.js.

import { displayName } from "/js/dom.js";
import { currentUser } from "/js/session_data.js";
import { userById } from "/js/users_data.js";

let workspaceId = null;
let people = new Map(); // user_id -> user

/** The members of workspace `wsId` (rows of GET /api/v1/workspaces/{id}/members). */
export function setPeople(wsId, rows) {
  workspaceId = wsId;
  people = new Map(rows.map((r) => [r.user_id, { ...(r.user || { id: r.user_id }), role: r.role }]));
}

export function clearPeople() {
  workspaceId = null;
  people = new Map();
}

export function peopleWorkspaceId() {
  return workspaceId;
}

/** A member of the workspace, with their newest name and picture (users_data.js;
 *  undefined: not one, or not loaded). */
export function person(userId) {
  const row = people.get(userId);
  return row && { ...row, ...userById(userId), role: row.role };
}

/** Everyone in the workspace but the user, by name. */
export function otherPeople() {
  const me = currentUser()?.id;
  return [...people.keys()].map(person)
    .filter((u) => u.id !== me)
    .sort((a, b) => displayName(a).localeCompare(displayName(b)));
}

/** A room's title: its name, or (a direct conversation) the others' names. */
export function roomTitle(room) {
  if (!room) return "";
  if (room.kind !== "direct") return room.name ?? "";
  const me = currentUser()?.id;
  const others = (room.member_ids || []).filter((id) => id !== me);
  if (others.length === 0) return "Only you";
  return others.map((id) => displayName(person(id), id)).join(", ");
}

/** How a room is named in a sentence: "#General", or "your conversation with Bob". */
export function roomPhrase(room) {
  return room?.kind === "direct" ? `the conversation with ${roomTitle(room)}` : `#${room?.name ?? ""}`;
}
