// The workspace picker, creating a workspace, inviting members (its owner), and
// leaving it (its other members).

import { $, el, toast } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import {
  allWorkspaces, setWorkspaces, selectedWorkspace, setSelectedWorkspace, deselectWorkspace,
} from "/js/workspace_data.js";
import { currentRoom } from "/js/open_room_data.js";
import { loadRooms } from "/js/rooms.js";
import { closeRoom } from "/js/room.js";
import { loadInvitations } from "/js/invitations.js";
import { followWorkspace } from "/js/unread.js";
import { closePanel } from "/js/threadpanel.js";
import { threadsChanged } from "/js/threadlist.js";

export async function loadWorkspaces(preferId) {
  // Pending invitations show with the workspaces; accepting one opens its workspace.
  loadInvitations((ws) => loadWorkspaces(ws.id));
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
  const owner = Boolean(workspace) && workspace.owner_id === currentUser().id;
  $("member-add").hidden = !owner;
  $("workspace-leave").hidden = !workspace || owner;
  $("workspace-leave").open = false;
  $("workspace-leave-form").onsubmit = onWorkspaceLeave;
  $("room-create").hidden = !workspace;
  followWorkspace(); // live badges for its rooms
  await loadRooms();
  threadsChanged(); // the "Threads" list, if it shows, is this workspace's
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
  const username = input.value.trim();
  const workspace = selectedWorkspace();
  if (!username || !workspace) return;
  try {
    // The server answers the same whether or not the user exists (nobody can probe
    // for accounts), so the message cannot say more either.
    await rest().inviteToWorkspace(workspace.id, { username });
    input.value = "";
    toast(`Invitation sent: if "${username}" has an account, they can accept it and join ${workspace.name}.`, { ms: 5000 });
  } catch (err) {
    const text = err.code === "validation_error" ? `"${username}" is not a valid username` : err.message;
    toast(text, { error: true });
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
