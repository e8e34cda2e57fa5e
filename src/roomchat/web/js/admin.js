// The "Workspace settings" dialog of the selected workspace: its members with their roles
// and when they joined (page by page), and for those allowed: removing a member (the
// owner: anyone but themselves; an admin: plain members), making a member an admin or
// back (the owner), handing the workspace on (the owner), the pending invitations with their cancel, inviting by username (the
// owner and admins) and renaming the workspace (the owner). Everyone else sees the member
// list read-only. The server still decides: a refusal (`forbidden`) is shown as such.
// What others change reaches this dialog through the workspace signals (sidebar_live.js
// calls refreshAdmin); renaming or handing on the workspace here is shown in the switcher
// by workspaces.js (applyWorkspaceUpdated, registered by app.js: wireAdmin).

import { $, el, displayName } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import { selectedWorkspace } from "/js/workspace_data.js";
import { person, peopleWorkspaceId } from "/js/people_data.js";
import { confirmAction } from "/js/confirm.js";

const PAGE = 50;

const state = {
  wsId: null,
  members: [], // rows {workspace_id, user_id, role, joined_at, user}, by user id
  more: false, // another page after the last row
  invitations: [],
};

const hooks = {
  workspaceUpdated: () => {}, // (workspace): show its new name or owner everywhere
  invite: async () => false, // (username, report): the sidebar's invite; resolves to sent
};

/** workspaceUpdated(workspace): what a rename's or a handover's reply does;
 *  invite(username): send one. */
export function wireAdmin({ workspaceUpdated, invite }) {
  hooks.workspaceUpdated = workspaceUpdated;
  hooks.invite = invite;
  $("workspace-settings-btn").addEventListener("click", openAdmin);
  $("admin-close").addEventListener("click", closeAdmin);
  $("admin-more").addEventListener("click", () => loadMembers({ more: true }));
  $("admin-rename-form").addEventListener("submit", onRename);
  $("admin-invite-form").addEventListener("submit", onInvite);
}

/** The user's role in the selected workspace: owner, admin, member (or null). */
export function myRole() {
  const ws = selectedWorkspace();
  const me = currentUser();
  if (!ws || !me) return null;
  if (ws.owner_id === me.id) return "owner";
  // Another workspace's list (this one's still loading) says nothing of my role here.
  const listed = peopleWorkspaceId() === ws.id ? (person(me.id)?.role ?? "member") : "member";
  // The workspace says who owns it: a list read before I handed it on still says owner,
  // and the handover made me a member.
  return listed === "owner" ? "member" : listed;
}

function canManage() {
  const role = myRole();
  return role === "owner" || role === "admin";
}

export function isAdminOpen() {
  return $("admin-dialog").open;
}

export async function openAdmin() {
  const ws = selectedWorkspace();
  if (!ws) return;
  state.wsId = ws.id;
  state.members = [];
  state.invitations = [];
  state.more = false;
  $("admin-name").value = ws.name;
  showError("");
  $("admin-dialog").showModal();
  render();
  await refreshAdmin();
}

export function closeAdmin() {
  const dialog = $("admin-dialog");
  if (dialog.open) dialog.close();
}

/** Read the members (as many as are shown) and the invitations again, if the dialog shows
 *  the selected workspace (a member joined, left or changed role; an invitation was sent). */
export async function refreshAdmin() {
  if (!isAdminOpen()) return;
  if (selectedWorkspace()?.id !== state.wsId) {
    closeAdmin();
    return;
  }
  await Promise.all([loadMembers({ more: false }), loadInvitations()]);
}

/** The workspace's name changed (here, or a workspace_updated). */
export function renderAdminTitle() {
  if (!isAdminOpen()) return;
  const ws = selectedWorkspace();
  if (!ws || ws.id !== state.wsId) return;
  $("admin-title").textContent = `${ws.name}: settings`;
}

async function loadMembers({ more }) {
  // One page at a time: a second click (or a refresh) while one is read would add it twice.
  if (state.loading) return;
  state.loading = true;
  try {
    await readMembers({ more });
  } finally {
    state.loading = false;
  }
}

async function readMembers({ more }) {
  const wsId = state.wsId;
  // The first page again holds at least as many rows as are shown now.
  const limit = more ? PAGE : Math.max(PAGE, state.members.length);
  const after = more ? state.members.at(-1)?.user_id : undefined;
  let rows;
  try {
    const query = { limit: Math.min(500, limit + 1) };
    if (after !== undefined) query.after = after;
    rows = await rest().listWorkspaceMembersPage(wsId, query);
  } catch (err) {
    showError(`Could not load the members: ${message(err)}`);
    return;
  }
  if (state.wsId !== wsId) return;
  const page = rows.slice(0, limit);
  state.more = rows.length > limit;
  state.members = more ? [...state.members, ...page] : page;
  render();
}

async function loadInvitations() {
  const wsId = state.wsId;
  if (!canManage()) {
    state.invitations = [];
    render();
    return;
  }
  try {
    const list = await rest().listPendingInvitations(wsId);
    if (state.wsId !== wsId) return;
    state.invitations = list;
  } catch (err) {
    if (err.code !== "forbidden") showError(`Could not load the invitations: ${message(err)}`);
    state.invitations = [];
  }
  render();
}

function render() {
  const ws = selectedWorkspace();
  if (!ws || ws.id !== state.wsId) return;
  const role = myRole();
  const manage = role === "owner" || role === "admin";
  $("admin-title").textContent = `${ws.name}: settings`;
  $("admin-rename-form").hidden = role !== "owner";
  $("admin-invite-form").hidden = !manage;
  $("admin-invitations-section").hidden = !manage;
  $("admin-members").replaceChildren(...state.members.map((row) => memberRow(row, role)));
  $("admin-more").hidden = !state.more;
  $("admin-invitations").replaceChildren(...state.invitations.map(invitationRow));
  $("admin-no-invitations").hidden = state.invitations.length > 0;
}

function joinedText(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return "";
  return `joined ${d.toLocaleDateString([], { year: "numeric", month: "short", day: "numeric" })}`;
}

/** What `role` (mine) may do to `row`: {remove, setRole, handOn}. */
function allowed(row, role) {
  const none = { remove: false, setRole: false, handOn: false };
  const me = currentUser()?.id;
  if (row.user_id === me || row.role === "owner" || row.role === "bot") return none;
  if (role === "owner") return { remove: true, setRole: true, handOn: true };
  if (role === "admin") return { ...none, remove: row.role === "member" };
  return none;
}

function memberRow(row, role) {
  const user = row.user || { id: row.user_id };
  const may = allowed(row, role);
  const name = displayName(user, row.user_id);
  return el("li", { dataset: { userId: row.user_id } },
    el("span", { class: "names" },
      el("span", { class: "admin-member-name", text: row.user_id === currentUser()?.id ? `${name} (you)` : name }),
      el("span", { class: "muted small", text: [user.username ? `@${user.username}` : null, joinedText(row.joined_at)].filter(Boolean).join(" · ") })),
    el("span", { class: "role-pill", dataset: { role: row.role }, text: row.role }),
    el("span", { class: "admin-actions" },
      may.setRole ? el("button", {
        type: "button", class: "small-btn",
        text: row.role === "admin" ? "Make member" : "Make admin",
        onclick: () => setRole(row, row.role === "admin" ? "member" : "admin"),
      }) : null,
      may.handOn ? el("button", {
        type: "button", class: "small-btn", text: "Make owner", "aria-label": `Make ${name} the owner`,
        onclick: () => handOn(row),
      }) : null,
      may.remove ? el("button", {
        type: "button", class: "small-btn danger", text: "Remove", "aria-label": `Remove ${name}`,
        onclick: () => removeMember(row),
      }) : null));
}

function invitationRow(inv) {
  const name = displayName(inv.user, inv.user_id);
  return el("li", { dataset: { invitationId: inv.id } },
    el("span", { class: "names" },
      el("span", { class: "admin-invitee", text: name }),
      el("span", { class: "muted small", text: `invited by ${displayName(inv.invited_by)}` })),
    el("button", {
      type: "button", class: "small-btn", text: "Cancel", "aria-label": `Cancel the invitation of ${name}`,
      onclick: () => cancelInvitation(inv),
    }));
}

function message(err) {
  if (err?.code === "forbidden") return "you are not allowed to do that in this workspace";
  if (err?.code === "not_found") return "it no longer exists";
  return err?.message || String(err);
}

function showError(text) {
  showMessage(text);
}

/** One line at the top of the dialog (the page's toasts are behind it): what went wrong
 *  (error), or what was done. */
function showMessage(text, error = true) {
  for (const id of ["admin-error", "admin-status"]) {
    $(id).textContent = "";
    $(id).hidden = true;
  }
  const node = $(error ? "admin-error" : "admin-status");
  node.textContent = text;
  node.hidden = !text;
}

/** Run one change; a refusal is shown in the dialog. Resolves to the reply or null. */
async function attempt(request, failure) {
  showError("");
  try {
    return await request();
  } catch (err) {
    showError(`${failure}: ${message(err)}.`);
    return null;
  }
}

async function setRole(row, role) {
  const name = displayName(row.user, row.user_id);
  const done = await attempt(() => rest().setWorkspaceRole(state.wsId, row.user_id, { role }), `Could not change ${name}'s role`);
  if (!done) return;
  showMessage(role === "admin" ? `${name} is now an admin.` : `${name} is now a member.`, false);
  await loadMembers({ more: false });
}

/** The owner hands the workspace to `row` (and becomes a member): asked first, since only
 *  the new owner can hand it back, and its API keys and webhooks go with the handover. */
async function handOn(row) {
  const ws = selectedWorkspace();
  const name = displayName(row.user, row.user_id);
  const ok = await confirmAction(`Make ${name} the owner?`,
    `${name} becomes the owner of ${ws?.name ?? "the workspace"} and you a member; only ${name} can hand it back. `
    + "Its API keys are revoked and its webhooks deleted: the new owner makes new ones.", "Make owner");
  if (!ok || !isAdminOpen()) return;
  const updated = await attempt(() => rest().transferWorkspace(state.wsId, { user_id: row.user_id }), `Could not hand the workspace to ${name}`);
  if (!updated) return;
  hooks.workspaceUpdated(updated);
  showMessage(`${name} is now the owner.`, false);
  await Promise.all([loadMembers({ more: false }), loadInvitations()]);
}

async function removeMember(row) {
  const ws = selectedWorkspace();
  const name = displayName(row.user, row.user_id);
  const ok = await confirmAction(`Remove ${name}?`,
    `${name} leaves ${ws?.name ?? "the workspace"} and all its rooms. Only a new invitation brings them back.`, "Remove");
  if (!ok || !isAdminOpen()) return;
  const done = await attempt(() => rest().removeWorkspaceMember(state.wsId, row.user_id), `Could not remove ${name}`);
  if (!done) return;
  showMessage(`${name} was removed.`, false);
  await loadMembers({ more: false });
}

async function cancelInvitation(inv) {
  const name = displayName(inv.user, inv.user_id);
  const done = await attempt(() => rest().cancelInvitation(inv.id), `Could not cancel the invitation of ${name}`);
  if (done) showMessage(`The invitation of ${name} was cancelled.`, false);
  await loadInvitations();
}

async function onRename(ev) {
  ev.preventDefault();
  const name = $("admin-name").value.trim();
  const ws = selectedWorkspace();
  if (!name || !ws || name === ws.name) return;
  showError("");
  let updated;
  try {
    updated = await rest().renameWorkspace(ws.id, { name });
  } catch (err) {
    showError(err.code === "conflict" ? "You already have a workspace with that name."
      : `Could not rename the workspace: ${message(err)}.`);
    return;
  }
  hooks.workspaceUpdated(updated);
  showMessage(`The workspace is now called ${updated.name}.`, false);
}

async function onInvite(ev) {
  ev.preventDefault();
  const input = $("admin-invite-username");
  const username = input.value.trim();
  if (!username) return;
  showMessage("");
  if (await hooks.invite(username, showMessage)) {
    input.value = "";
    await loadInvitations();
  }
}
