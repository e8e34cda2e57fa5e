// The workspace picker, creating a workspace, inviting members (its owner), and
// leaving it (its other members).

import { $, el, toast } from "/js/dom.js";
import { state, ctx, KEY_WORKSPACE } from "/js/state.js";
import { loadRooms } from "/js/rooms.js";
import { closeRoom } from "/js/room.js";
import { loadInvitations } from "/js/invitations.js";
import { followWorkspace } from "/js/unread.js";

export async function loadWorkspaces(preferId) {
  // Pending invitations show with the workspaces; accepting one opens its workspace.
  loadInvitations((ws) => loadWorkspaces(ws.id));
  try {
    state.workspaces = await ctx.api.workspaces();
  } catch (err) {
    toast(`Could not load workspaces: ${err.message}`, { error: true });
    return;
  }
  const select = $("workspace-select");
  select.replaceChildren(...state.workspaces.map((w) => el("option", { value: w.id, text: w.name })));
  const none = state.workspaces.length === 0;
  select.hidden = none;
  $("no-workspace").hidden = !none;
  $("workspace-create").open = none;
  const keep = state.workspaces.find((w) => w.id === preferId)
    || state.workspaces.find((w) => w.id === state.workspace?.id)
    || state.workspaces[0];
  await selectWorkspace(keep ? keep.id : null);
}

export async function selectWorkspace(id) {
  state.workspace = state.workspaces.find((w) => w.id === id) || null;
  const select = $("workspace-select");
  if (state.workspace) {
    select.value = String(state.workspace.id);
    localStorage.setItem(KEY_WORKSPACE, String(state.workspace.id));
  }
  const owner = Boolean(state.workspace) && state.workspace.owner_id === state.me.id;
  $("member-add").hidden = !owner;
  $("workspace-leave").hidden = !state.workspace || owner;
  $("workspace-leave").open = false;
  $("workspace-leave-form").onsubmit = onWorkspaceLeave;
  $("room-create").hidden = !state.workspace;
  followWorkspace(); // live badges for its rooms
  await loadRooms();
}

export async function onWorkspaceCreate(ev) {
  ev.preventDefault();
  const input = $("workspace-name");
  const name = input.value.trim();
  if (!name) return;
  try {
    const ws = await ctx.api.createWorkspace(name);
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
  if (!username || !state.workspace) return;
  try {
    // The server answers the same whether or not the user exists (nobody can probe
    // for accounts), so the message cannot say more either.
    await ctx.api.addWorkspaceMember(state.workspace.id, username);
    input.value = "";
    toast(`Invitation sent: if "${username}" has an account, they can accept it and join ${state.workspace.name}.`, { ms: 5000 });
  } catch (err) {
    const text = err.code === "validation_error" ? `"${username}" is not a valid username` : err.message;
    toast(text, { error: true });
  }
}

export async function onWorkspaceLeave(ev) {
  ev.preventDefault();
  const ws = state.workspace;
  if (!ws) return;
  try {
    await ctx.api.request("DELETE", `/api/v1/workspaces/${ws.id}/members/me`);
  } catch (err) {
    toast(`Could not leave: ${err.message}`, { error: true });
    return;
  }
  if (state.room?.workspace_id === ws.id) closeRoom({ leave: false });
  state.workspace = null;
  localStorage.removeItem(KEY_WORKSPACE);
  toast(`You left ${ws.name}`);
  await loadWorkspaces(null);
}
