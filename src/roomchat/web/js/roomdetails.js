// A room's details in its settings dialog, for every member (read-only): who created
// it, whether it has a passcode, and its members, from what the REST API answers
// (GET /api/v1/room-users/room/{id}; the creator, if no longer a member, from the
// workspace's members). Changing the room stays its creator's and the owner's.

import { $, el, displayName } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import { currentRoom } from "/js/open_room_data.js";

let generation = 0;

/** Fill the details of `room` (the open room), fetching its members. */
export async function renderRoomDetails(room) {
  const gen = ++generation;
  const me = currentUser();
  $("details-passcode").textContent = room.has_passcode
    ? "Set: joining this room needs it"
    : "None: anyone in the workspace can join";
  if (room.created_by === me?.id) $("details-creator").textContent = "You";
  else if (!$("details-creator").textContent || $("details-creator").dataset.roomId !== String(room.id)) {
    $("details-creator").textContent = "…";
  }
  $("details-creator").dataset.roomId = String(room.id);
  let rows;
  try {
    rows = await rest().listRoomMembers(room.id);
  } catch {
    rows = null;
  }
  if (gen !== generation || currentRoom()?.id !== room.id) return;
  if (rows === null) {
    $("details-member-count").textContent = "Could not load the members.";
    $("details-members").replaceChildren();
    return;
  }
  const users = rows.map((r) => r.user || { id: r.user_id });
  users.sort((a, b) => displayName(a).localeCompare(displayName(b)));
  $("details-member-count").textContent = users.length === 1 ? "1 member" : `${users.length} members`;
  $("details-members").replaceChildren(...users.map((u) => el("li", { dataset: { userId: u.id } },
    displayName(u) + (u.id === me?.id ? " (you)" : ""),
    u.username ? el("span", { class: "muted small", text: ` @${u.username}` }) : null)));
  if (room.created_by !== me?.id) {
    const creator = users.find((u) => u.id === room.created_by) || (await workspaceUser(room));
    if (gen !== generation) return;
    $("details-creator").textContent = creator ? displayName(creator) : `user ${room.created_by}`;
  }
}

/** The creator among the workspace's members (they may have left the room). */
async function workspaceUser(room) {
  try {
    const data = await rest().listWorkspaceMembers(room.workspace_id);
    const rows = Array.isArray(data) ? data : (data?.members ?? []);
    return rows.find((m) => m.user_id === room.created_by)?.user ?? null;
  } catch {
    return null;
  }
}
