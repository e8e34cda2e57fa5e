// The workspace picker, creating a workspace, inviting members (its owner and admins),
// leaving it (its other members), and what changes to it from elsewhere do here: renamed,
// or the user removed from it (sidebar_live.js).

import { $, el, toast } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import {
  allWorkspaces, setWorkspaces, selectedWorkspace, setSelectedWorkspace, deselectWorkspace,
} from "/js/workspace_data.js";
import { currentRoom } from "/js/open_room_data.js";
import { loadRooms } from "/js/rooms.js";
import { closeRoom, roomGone, renderRoomHeader } from "/js/room.js";
import { loadInvitations } from "/js/invitations.js";
import { followWorkspace } from "/js/unread.js";
import { person, peopleWorkspaceId } from "/js/people_data.js";
import { closePanel } from "/js/threadpanel.js";
import { threadsChanged } from "/js/threadlist.js";

export async function loadWorkspaces(preferId) {
  // Pending invitations show with the workspaces; accepting one opens its workspace.
  reloadInvitations();
  try {
    setWorkspaces(await rest().listWorkspaces());
  } catch (err) {
    toast(`Could not load workspaces: ${err.message}`, { error: true });
    return;
  }
  const workspaces = allWorkspaces();
  const select = $("workspace-select");
  select.replaceChildren(...workspaces.map((w) => el("option", { value: w.id, text: w.name })));
  const none = workspaces.length === 0;
  select.hidden = none;
  $("no-workspace").hidden = !none;
  $("workspace-create").open = none;
  const keep = workspaces.find((w) => w.id === preferId)
    || workspaces.find((w) => w.id === selectedWorkspace()?.id)
    || workspaces[0];
  await selectWorkspace(keep ? keep.id : null);
}

export async function selectWorkspace(id) {
  const workspace = setSelectedWorkspace(id);
  const select = $("workspace-select");
  if (workspace) select.value = String(workspace.id);
  $("workspace-leave").open = false;
  $("workspace-leave-form").onsubmit = onWorkspaceLeave;
  $("room-create").hidden = !workspace;
  $("rooms-section").hidden = !workspace; // no workspace, no rooms (nor threads) to show
  $("empty-chat-hint").textContent = workspace
    ? "Pick a room on the left, or create one."
    : "Create a workspace, or accept an invitation, to start chatting.";
  renderWorkspaceControls();
  followWorkspace(); // live badges for its rooms
  await loadRooms();
  renderWorkspaceControls(); // the user's role is known with the members
  threadsChanged(); // the "Threads" list, if it shows, is this workspace's
}

/** What the user's role in the selected workspace lets them do from the sidebar: the
 *  owner and admins invite; everyone but the owner may leave; everyone sees the
 *  workspace's settings (its members; the owner and admins manage them there). */
export function renderWorkspaceControls() {
  const workspace = selectedWorkspace();
  const owner = Boolean(workspace) && workspace.owner_id === currentUser().id;
  const admin = Boolean(workspace) && !owner && peopleWorkspaceId() === workspace.id
    && person(currentUser().id)?.role === "admin";
  $("member-add").hidden = !(owner || admin);
  $("workspace-leave").hidden = !workspace || owner;
  $("workspace-settings-btn").hidden = !workspace;
}

/** A workspace's new name (a rename here, or workspace_updated): the switcher and the
 *  open room's header show it. */
export function applyWorkspaceUpdated(workspace) {
  if (!workspace || !allWorkspaces().some((w) => w.id === workspace.id)) return;
  setWorkspaces(allWorkspaces().map((w) => (w.id === workspace.id ? { ...w, ...workspace } : w)));
  if (selectedWorkspace()?.id === workspace.id) setSelectedWorkspace(workspace.id);
  const option = $("workspace-select").querySelector(`option[value="${Number(workspace.id)}"]`);
  if (option) option.textContent = workspace.name;
  if (currentRoom()?.workspace_id === workspace.id) renderRoomHeader();
  renderWorkspaceControls();
}

/** Read the pending invitations again (one arrived: invitation_received). */
export function reloadInvitations() {
  return loadInvitations((ws) => loadWorkspaces(ws.id));
}

/** The user is no longer a member of workspace `wsId` (removed, or left from another
 *  device): its rooms close, it leaves the switcher, and `text` says why. */
export async function workspaceLost(wsId, text) {
  const wasSelected = selectedWorkspace()?.id === wsId;
  // Closes its open room (if any), and says why where the room would show.
  if (wasSelected || currentRoom()?.workspace_id === wsId) roomGone(text);
  if (wasSelected) {
    closePanel();
    deselectWorkspace();
  }
  await loadWorkspaces(null);
}

export async function onWorkspaceCreate(ev) {
  ev.preventDefault();
  const input = $("workspace-name");
  const name = input.value.trim();
  if (!name) return;
  try {
    const ws = await rest().createWorkspace({ name });
    input.value = "";
    $("workspace-create").open = false;
    await loadWorkspaces(ws.id);
    toast(`Workspace "${ws.name}" created`);
  } catch (err) {
    toast(`Could not create the workspace: ${err.message}`, { error: true });
  }
}

export async function onMemberAdd(ev) {
  ev.preventDefault();
  const input = $("member-username");
  if (await invite(input.value.trim())) input.value = "";
}

/** Invite `username` to the selected workspace (the sidebar's form and the workspace
 *  settings'); resolves to whether it was sent. `report(text, error)` says how it went
 *  (by default a toast). */
export async function invite(username, report = (text, error) => toast(text, { error, ms: 5000 })) {
  const workspace = selectedWorkspace();
  if (!username || !workspace) return false;
  try {
    // The server answers the same whether or not the user exists (nobody can probe
    // for accounts), so the message cannot say more either.
    await rest().inviteToWorkspace(workspace.id, { username });
    report(`Invitation sent: if "${username}" has an account, they can accept it and join ${workspace.name}.`, false);
    return true;
  } catch (err) {
    const text = err.code === "validation_error" ? `"${username}" is not a valid username`
      : err.code === "forbidden" ? "Only the workspace's owner and admins can invite." : err.message;
    report(text, true);
    return false;
  }
}

export async function onWorkspaceLeave(ev) {
  ev.preventDefault();
  const ws = selectedWorkspace();
  if (!ws) return;
  try {
    await rest().leaveWorkspace(ws.id);
  } catch (err) {
    toast(`Could not leave: ${err.message}`, { error: true });
    return;
  }
  if (currentRoom()?.workspace_id === ws.id) closeRoom();
  closePanel();
  deselectWorkspace();
  toast(`You left ${ws.name}`);
  await loadWorkspaces(null);
}
