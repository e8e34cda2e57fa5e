// The workspace picker, creating a workspace, and (for its owner) adding members to it.

import { $, el, toast, displayName } from "/js/dom.js";
import { state, ctx, KEY_WORKSPACE } from "/js/state.js";
import { loadRooms } from "/js/rooms.js";

export async function loadWorkspaces(preferId) {
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
  $("member-add").hidden = !state.workspace || state.workspace.owner_id !== state.me.id;
  $("room-create").hidden = !state.workspace;
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
    const member = await ctx.api.addWorkspaceMember(state.workspace.id, username);
    input.value = "";
    toast(`Added ${displayName(member.user) || username} to ${state.workspace.name}`);
  } catch (err) {
    const text = err.code === "not_found" ? `No user named "${username}"`
      : err.code === "conflict" ? `${username} is already a member` : err.message;
    toast(text, { error: true });
  }
}
