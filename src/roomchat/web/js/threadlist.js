// The "Threads" view of the side panel: the threads the user follows in the selected
// workspace (GET /api/v1/workspaces/{id}/threads), newest activity first, each with its
// room, its root and its unread replies. Choosing one opens its room (room.js, above
// this module: app.js registers it) and the thread.

import { $, el, toast, displayName } from "/js/dom.js";
import { userById } from "/js/users_data.js";
import { rest } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import { selectedWorkspace } from "/js/workspace_data.js";
import { listedRoom } from "/js/rooms_data.js";
import { currentRoomId } from "/js/open_room_data.js";
import { roomTitle } from "/js/people_data.js";
import { threadSummary } from "/js/timeline.js";
import { showPanel, panelMode, openThread } from "/js/threadpanel.js";

const RELOAD_GAP_MS = 1000;

let openRoom = async () => {};
let loadSerial = 0;
const reload = { timer: 0, at: 0 };

/** openRoom(room): what choosing a thread of another room does first. */
export function wireThreadList({ openRoom: open }) {
  openRoom = open;
  $("threads-btn").addEventListener("click", () => {
    if (panelMode() === "list") showPanel(null);
    else showThreadList();
  });
}

export async function showThreadList() {
  showPanel("list");
  await loadThreads();
}

/** Something changed in the workspace's threads: read the list again if it shows. */
export function threadsChanged() {
  if (panelMode() !== "list" || reload.timer) return;
  reload.timer = setTimeout(() => {
    reload.timer = 0;
    reload.at = Date.now();
    loadThreads();
  }, Math.max(0, reload.at + RELOAD_GAP_MS - Date.now()));
}

async function loadThreads() {
  const ws = selectedWorkspace();
  const serial = ++loadSerial;
  if (!ws) {
    renderThreads([]);
    return;
  }
  let data;
  try {
    data = await rest().followedThreads(ws.id, { limit: 50 });
  } catch (err) {
    if (serial === loadSerial) toast(`Could not load the threads: ${err.message}`, { error: true });
    return;
  }
  if (serial !== loadSerial || selectedWorkspace()?.id !== ws.id || panelMode() !== "list") return;
  renderThreads(data.threads || []);
}

function renderThreads(threads) {
  const me = currentUser()?.id;
  $("followed-threads").replaceChildren(...threads.map((t) => {
    const room = listedRoom(t.room_id);
    const root = t.root || {};
    const author = root.user_id === me ? "You" : displayName(userById(root.user_id) || root.user, root.user_id);
    const text = root.deleted_at ? "message deleted" : (root.message_text ?? "");
    const unread = Math.max(0, t.unread_replies || 0);
    return el("li", {},
      el("button", {
        type: "button",
        class: unread > 0 ? "thread-item unread" : "thread-item",
        dataset: { roomId: t.room_id, rootId: t.thread_root_id },
        onclick: () => goTo(t.room_id, t.thread_root_id),
      },
      el("span", { class: "thread-room muted small", text: room ? (room.kind === "direct" ? roomTitle(room) : `#${roomTitle(room)}`) : "" }),
      el("span", { class: "thread-root" }, el("span", { class: "author", text: `${author}: ` }), text),
      el("span", { class: "thread-meta muted small", text: threadSummary(root.thread) }),
      unread > 0 ? el("span", { class: "badge", text: unread > 99 ? "99+" : String(unread), title: `${unread} unread` }) : null));
  }));
  $("no-threads").hidden = threads.length > 0;
}

async function goTo(roomId, rootId) {
  if (currentRoomId() !== roomId) {
    let room = listedRoom(roomId);
    if (!room) room = await rest().getRoom(roomId).catch(() => null);
    if (!room) {
      toast("That room is gone.", { error: true });
      return;
    }
    await openRoom(room);
    if (currentRoomId() !== roomId) return; // not joined (refused, or cancelled)
  }
  await openThread(roomId, rootId);
}
