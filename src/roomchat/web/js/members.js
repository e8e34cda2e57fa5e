// The open room's members: the side panel, and the lookup the typing line uses for names.

import { $, el, displayName, initials, colourFor } from "/js/dom.js";
import { state, ctx } from "/js/state.js";
import { renderTyping } from "/js/typing.js";

/** Load the open room's members; resolves to whether the current user is one. */
export async function loadMembers() {
  const room = state.room;
  if (!room) return false;
  let rows;
  try {
    rows = await ctx.api.roomMembers(room.id);
  } catch {
    return false;
  }
  if (state.room?.id !== room.id) return false;
  state.members = new Map(rows.map((r) => [r.user_id, r.user || { id: r.user_id }]));
  renderMembers();
  renderTyping();
  return state.members.has(state.me.id);
}

let membersRefreshAt = 0;
let membersRefreshTimer = 0;

/** Reload the members soon, at most once every 2 seconds (someone unknown spoke or typed). */
export function refreshMembersSoon() {
  if (membersRefreshTimer) return;
  const wait = Math.max(0, membersRefreshAt + 2000 - Date.now());
  membersRefreshTimer = setTimeout(() => {
    membersRefreshTimer = 0;
    membersRefreshAt = Date.now();
    loadMembers();
  }, wait);
}

export function renderMembers() {
  const users = [...state.members.values()].sort((a, b) => displayName(a).localeCompare(displayName(b)));
  $("members-count").textContent = users.length ? `(${users.length})` : "";
  $("member-list").replaceChildren(...users.map((u) => el("li", { dataset: { userId: u.id } },
    el("span", { class: "avatar", style: `background:${colourFor(u.id)}`, "aria-hidden": "true", text: initials(u) }),
    el("span", { class: "names" },
      el("span", { text: displayName(u) + (u.id === state.me.id ? " (you)" : "") }),
      u.username ? el("span", { class: "muted small", text: `@${u.username}` }) : null))));
}

export function toggleMembers(force) {
  const panel = $("members-panel");
  const show = force ?? panel.hidden;
  panel.hidden = !show;
  $("members-btn").setAttribute("aria-expanded", String(show));
  if (show) loadMembers();
}
