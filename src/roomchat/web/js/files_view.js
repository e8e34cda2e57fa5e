// The open room's "Files" view (issue 24): every file sent in the room, newest first
// (GET /api/v1/room-chats/{room_id}/attachments, paged back with before_id), images as
// thumbnails, other files as download chips. A dialog the page makes itself, opened by
// a "Files" button in the room's header.

import { $, el, formatTime } from "/js/dom.js";
import { rest } from "/js/client.js";
import { currentRoom, roomGeneration } from "/js/open_room_data.js";
import { isImage, imageThumbnail, fileChip, formatSize } from "/js/attachments.js";

const PAGE = 50;

let view = null;
let loadedFor = null; // the room generation the list is of
let oldest = null; // the smallest id listed: the next page is before it
let loading = false;

/** Make the Files button (before the Members button) and the dialog. */
export function wireFilesView() {
  const button = el("button", {
    type: "button", id: "files-btn", title: "Files shared in this room", "aria-haspopup": "dialog", text: "Files",
  });
  $("members-btn").before(button);
  button.addEventListener("click", openFilesView);

  const title = el("h3", { id: "files-title", text: "Files" });
  const close = el("button", { type: "button", class: "icon-btn", id: "files-close", "aria-label": "Close files", text: "×" });
  const list = el("ul", { class: "files-list", id: "files-list", "aria-label": "Files" });
  const status = el("p", { class: "muted small", id: "files-status", role: "status" });
  const more = el("button", { type: "button", class: "link-btn", id: "files-more", text: "Load older files" });
  more.hidden = true;
  const dialog = el("dialog", { id: "files-dialog", class: "files-dialog", "aria-labelledby": "files-title" },
    el("div", { class: "dialog-head" }, title, close), list, status, more);
  document.body.append(dialog);
  close.addEventListener("click", () => dialog.close());
  more.addEventListener("click", () => loadPage());
  view = { dialog, title, list, status, more };
}

/** Open the view on the open room's files, read afresh. */
export async function openFilesView() {
  const room = currentRoom();
  if (!view || !room) return;
  view.title.textContent = room.name ? `Files in ${room.name}` : "Files";
  view.list.replaceChildren();
  view.more.hidden = true;
  oldest = null;
  loadedFor = roomGeneration();
  if (!view.dialog.open) view.dialog.showModal();
  await loadPage();
}

/** The room changed: the view (of the old room) closes. */
export function closeFilesView() {
  if (view?.dialog.open) view.dialog.close();
  loadedFor = null;
}

async function loadPage() {
  const room = currentRoom();
  if (!room || loading) return;
  const gen = roomGeneration();
  loading = true;
  view.status.textContent = "Loading…";
  view.more.hidden = true;
  let page;
  try {
    page = await rest().http.call("GET", `/api/v1/room-chats/${encodeURIComponent(room.id)}/attachments`, {
      query: { limit: PAGE, before_id: oldest ?? undefined },
    });
  } catch (err) {
    if (gen === roomGeneration()) view.status.textContent = `Could not load the files: ${err?.message || "error"}`;
    return;
  } finally {
    loading = false;
  }
  if (gen !== roomGeneration() || loadedFor !== gen) return;
  const files = page?.attachments || [];
  for (const att of files) {
    oldest = oldest === null ? att.id : Math.min(oldest, att.id);
    view.list.append(fileRow(att));
  }
  view.more.hidden = !page?.has_more;
  view.status.textContent = view.list.children.length ? "" : "No files in this room yet.";
}

/** An image: its thumbnail, its name, size and time; another file: its chip (name and
 *  size, a download link) and its time. */
function fileRow(att) {
  const when = formatTime(att.created_at);
  if (!isImage(att)) {
    return el("li", { class: "files-row", dataset: { attachmentId: att.id } },
      fileChip(att), el("span", { class: "muted small files-time", text: when }));
  }
  return el("li", { class: "files-row", dataset: { attachmentId: att.id } },
    imageThumbnail(att, { maxW: 160, maxH: 120 }),
    el("div", { class: "files-meta" },
      el("span", { class: "att-name", text: att.filename }),
      el("span", { class: "muted small", text: `${formatSize(att.size)} · ${when}` })));
}
