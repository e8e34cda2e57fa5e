// The live sidebar: what the workspace signals of the followed workspace (see
// docs/protocol.md, "The live sidebar: workspace signals") and invitation_received do to
// the page, with no reload. Rooms made, renamed (or their passcode set or cleared) and
// deleted show in the room list at once (an open room that is deleted closes with a
// notice); members joining, leaving and changing role update the people (the names of
// direct conversations, the "New message" picker) and the workspace settings dialog; the
// user removed from the workspace loses it and its rooms, with a notice; a renamed
// workspace is renamed in the switcher; an invitation shows with its Accept and Decline.
// All are signals, lost while disconnected: after a reconnect (unread.js follows the
// workspace again) `resync` reads the workspaces, invitations, rooms and people again.
// app.js registers the handlers on live.js (wireLive) and resync on unread.js.

import { toast, displayName } from "/js/dom.js";
import { currentUser } from "/js/session_data.js";
import { selectedWorkspace } from "/js/workspace_data.js";
import { listedRoom, listedRooms, setListedRooms, updateListedRoom, unlistRoom } from "/js/rooms_data.js";
import { currentRoom } from "/js/open_room_data.js";
import { person } from "/js/people_data.js";
import { loadPeople } from "/js/people.js";
import { loadRooms, renderRooms } from "/js/rooms.js";
import { applyRoomDeleted, renderRoomHeader } from "/js/room.js";
import {
  loadWorkspaces, applyWorkspaceUpdated, workspaceLost, renderWorkspaceControls, reloadInvitations,
} from "/js/workspaces.js";
import { refreshPicker } from "/js/directs.js";
import { refreshAdmin, renderAdminTitle, closeAdmin } from "/js/admin.js";

/** Whether a signal is about the workspace on show (the one followed). */
function shown(data) {
  return data.workspace_id != null && data.workspace_id === selectedWorkspace()?.id;
}

/** What the room list shows of a room from a signal: its public fields only (the
 *  signal's room carries no link or read state of the user's). */
function publicFields(room) {
  const { name, has_passcode: hasPasscode } = room;
  return { name, has_passcode: hasPasscode };
}

function roomCreated(data) {
  if (!shown(data) || !data.room) return;
  if (listedRoom(data.room_id)) {
    roomUpdated(data);
    return;
  }
  // A direct conversation is named by its people, who may be new here: the list (and
  // the people) are read again.
  if (data.room.kind === "direct") {
    loadRooms();
    return;
  }
  setListedRooms([...listedRooms(), data.room].sort((a, b) => a.id - b.id));
  renderRooms();
}

function roomUpdated(data) {
  if (!shown(data) || !data.room) return;
  if (!listedRoom(data.room_id)) {
    roomCreated(data);
    return;
  }
  updateListedRoom(data.room_id, publicFields(data.room));
  renderRooms();
}

function roomDeleted(data) {
  if (!shown(data)) return;
  if (currentRoom()?.id === data.room_id) {
    applyRoomDeleted({ room_id: data.room_id }); // closes it: "#name was deleted."
    return;
  }
  unlistRoom(data.room_id);
  renderRooms();
}

/** Someone joined, left or changed role: the people, and whatever shows them. */
async function peopleChanged(wsId) {
  await loadPeople(wsId, { force: true });
  if (selectedWorkspace()?.id !== wsId) return;
  renderWorkspaceControls();
  renderRooms(); // direct conversations are named by their people
  renderRoomHeader(); // an admin moderates rooms
  refreshPicker();
  refreshAdmin();
}

function memberJoined(data) {
  if (shown(data)) peopleChanged(data.workspace_id);
}

function memberLeft(data) {
  if (!shown(data)) return;
  const me = currentUser()?.id;
  if (data.user_id !== me) {
    peopleChanged(data.workspace_id);
    return;
  }
  const ws = selectedWorkspace();
  const by = data.removed_by;
  const text = by === me || by == null
    ? `You left the workspace ${ws.name}.`
    : `You were removed from the workspace ${ws.name} by ${displayName(person(by), by)}.`;
  closeAdmin();
  workspaceLost(ws.id, text);
}

async function memberUpdated(data) {
  if (!shown(data)) return;
  const ws = selectedWorkspace();
  const me = currentUser()?.id;
  // My role before: the owner is the workspace's, anyone else's is in the member list.
  const was = ws.owner_id === data.user_id ? "owner" : person(data.user_id)?.role;
  if (data.user_id === me && data.role !== was) {
    if (data.role === "admin") toast(`You are now an admin of ${ws.name}`, { ms: 5000 });
    else if (data.role === "owner") toast(`You now own ${ws.name}`, { ms: 5000 });
    else if (was === "owner") toast(`You handed ${ws.name} on; you are a member now`, { ms: 5000 });
    else if (data.role === "member") toast(`You are no longer an admin of ${ws.name}`, { ms: 5000 });
  }
  // Handed on: the new owner is the workspace's at once, so the old owner's controls go
  // before the member list is read again.
  if (data.role === "owner" && ws.owner_id !== data.user_id) {
    applyWorkspaceUpdated({ ...ws, owner_id: data.user_id });
  }
  await peopleChanged(data.workspace_id);
  // The workspace handed on: its owner changed too.
  if (data.role === "owner" && ws.owner_id !== data.user_id) loadWorkspaces(ws.id);
}

function workspaceUpdated(data) {
  if (!data.workspace) return;
  applyWorkspaceUpdated(data.workspace);
  renderAdminTitle();
}

function invitationReceived(data) {
  const inv = data.invitation;
  if (!inv) return;
  reloadInvitations();
  toast(`${displayName(inv.invited_by)} invited you to ${inv.workspace_name}`, { ms: 5000 });
}

/** An invitation to me was cancelled: it leaves the list (the list is read again). */
function invitationCancelled(data) {
  if (!data.invitation_id) return;
  reloadInvitations();
}

/** The signal handlers, by action (live.js's SIGNALS gets them: wireLive). */
export const sidebarSignals = {
  workspace_room_created: roomCreated,
  workspace_room_updated: roomUpdated,
  workspace_room_deleted: roomDeleted,
  workspace_member_joined: memberJoined,
  workspace_member_left: memberLeft,
  workspace_member_updated: memberUpdated,
  workspace_updated: workspaceUpdated,
  invitation_received: invitationReceived,
  invitation_cancelled: invitationCancelled,
};

/** Following the workspace again after a reconnect: what the lost signals would have
 *  said is read again (the workspaces and their names, the invitations, the room list,
 *  the people). */
export async function resync() {
  const wsId = selectedWorkspace()?.id ?? null;
  if (wsId !== null) await loadPeople(wsId, { force: true });
  await loadWorkspaces(wsId); // the invitations and the room list too
  if (selectedWorkspace()?.id !== wsId) return;
  renderRooms();
  refreshPicker();
  refreshAdmin();
}
