// The user's workspaces and the selected one (remembered across reloads).
// A data module: it imports nothing of the client's.

const KEY_WORKSPACE = "roomchat.workspace";

let workspaces = [];
let selected = null;

export function allWorkspaces() {
  return workspaces;
}

export function setWorkspaces(list) {
  workspaces = list;
}

export function workspaceById(id) {
  return workspaces.find((w) => w.id === id) || null;
}

export function selectedWorkspace() {
  return selected;
}

/** Select one of the workspaces by id (null when it is not one of them). */
export function setSelectedWorkspace(id) {
  selected = workspaceById(id);
  if (selected) localStorage.setItem(KEY_WORKSPACE, String(selected.id));
  return selected;
}

/** None selected, and none to come back to after a reload (the user left it). */
export function deselectWorkspace() {
  selected = null;
  localStorage.removeItem(KEY_WORKSPACE);
}

/** The workspace selected when the page was last open (null: none). */
export function savedWorkspaceId() {
  return Number(localStorage.getItem(KEY_WORKSPACE)) || null;
}

export function clearWorkspaces() {
  workspaces = [];
  deselectWorkspace();
}
