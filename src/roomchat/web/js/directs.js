// Direct messages: the "New message" picker (workspace members, 1 to 8 others) that
// opens the one direct conversation of exactly those people (POST /api/v1/direct-chats/,
// made if there is none) and opens it as any room. The conversations themselves are
// listed by rooms.js ("Direct messages").

import { $, el, toast, displayName } from "/js/dom.js";
import { rest } from "/js/client.js";
import { selectedWorkspace } from "/js/workspace_data.js";
import { otherPeople } from "/js/people_data.js";
import { loadPeople } from "/js/people.js";
import { loadRooms } from "/js/rooms.js";
import { avatar } from "/js/avatars.js";
import { openRoom } from "/js/room.js";

const MAX_OTHERS = 8;

const picked = new Set(); // user ids

export function wireDirects() {
  $("new-dm-btn").addEventListener("click", openPicker);
  $("dm-close").addEventListener("click", closePicker);
  $("dm-filter").addEventListener("input", renderPeople);
  $("dm-form").addEventListener("submit", onStart);
}

async function openPicker() {
  const ws = selectedWorkspace();
  if (!ws) return;
  picked.clear();
  $("dm-filter").value = "";
  $("dm-error").hidden = true;
  $("dm-dialog").showModal();
  renderPeople();
  await loadPeople(ws.id, { force: true }); // whoever joined since
  if ($("dm-dialog").open) renderPeople();
  $("dm-filter").focus();
}

/** The workspace's people changed (someone joined or left), or someone's name or picture
 *  (users_data.js): the open picker shows them. */
export function refreshPicker() {
  if ($("dm-dialog").open) renderPeople();
}

export function closePicker() {
  const dialog = $("dm-dialog");
  if (dialog.open) dialog.close();
}

function renderPeople() {
  const filter = $("dm-filter").value.trim().toLowerCase();
  const people = otherPeople().filter((u) => u.role !== "bot").filter((u) => !filter
    || displayName(u).toLowerCase().includes(filter) || (u.username || "").toLowerCase().includes(filter));
  $("dm-people").replaceChildren(...people.map((u) => {
    const box = el("input", { type: "checkbox", value: u.id, "aria-label": displayName(u) });
    box.checked = picked.has(u.id);
    box.addEventListener("change", () => {
      if (box.checked) picked.add(u.id);
      else picked.delete(u.id);
      renderCount();
    });
    return el("li", {}, el("label", { class: "check-row" },
      box,
      avatar(u),
      el("span", { class: "names" },
        el("span", { text: displayName(u) }),
        u.username ? el("span", { class: "muted small", text: `@${u.username}` }) : null)));
  }));
  $("dm-none").hidden = people.length > 0;
  renderCount();
}

function renderCount() {
  const n = picked.size;
  const tooMany = n > MAX_OTHERS;
  $("dm-count").textContent = n === 0 ? "Pick one person, or up to 8."
    : tooMany ? `${n} picked: at most ${MAX_OTHERS} others.` : `${n} picked`;
  $("dm-count").classList.toggle("form-error", tooMany);
  $("dm-start").disabled = n === 0 || tooMany;
}

async function onStart(ev) {
  ev.preventDefault();
  const ws = selectedWorkspace();
  const ids = [...picked];
  if (!ws || ids.length === 0 || ids.length > MAX_OTHERS) return;
  const button = $("dm-start");
  button.disabled = true;
  let room;
  try {
    room = await rest().openDirectChat({ workspace_id: ws.id, user_ids: ids });
  } catch (err) {
    $("dm-error").textContent = `Could not open the conversation: ${err.message}`;
    $("dm-error").hidden = false;
    renderCount();
    return;
  }
  closePicker();
  await loadRooms();
  await openRoom(room);
}
