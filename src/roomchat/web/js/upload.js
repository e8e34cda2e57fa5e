// Uploading files into the open room (issue 24): by the composer's attach button, by
// dropping files on the room, or by pasting them into the message box. Each file goes up
// at once (POST /api/v1/room-chats/{room_id}/attachments, multipart, one part "file")
// with a progress bar and a cancel button; the files that made it go with the next
// message (send_room_chat_message with attachment_ids; its text may then be empty).
// XMLHttpRequest, not fetch: it reports upload progress and can be aborted. The bearer
// token is the SDK's (the client renews it; a 401 is tried once more with a fresh one).
// The page makes its own elements: the tray above the composer, the attach button.

import { $, el, toast } from "/js/dom.js";
import { chat } from "/js/client.js";
import { currentRoomId } from "/js/open_room_data.js";
import { formatSize } from "/js/attachments.js";

/** The server takes at most this many files in one message. */
export const MAX_FILES_PER_MESSAGE = 10;

let tray = null;
let fileInput = null;
let nextKey = 1;
let lastSend = null; // {key: the room and files, clientMsgId} of the latest message with files
// key -> {key, roomId, file, state: "uploading"|"done"|"failed", attachment, xhr, node, bar, status}
const uploads = new Map();

/** Make the attach button, the file input and the tray; listen for drops and pastes. */
export function wireUploads() {
  const composer = $("composer");
  fileInput = el("input", { type: "file", multiple: true, id: "attach-input", class: "visually-hidden", tabindex: "-1", "aria-hidden": "true" });
  const button = el("button", {
    type: "button", class: "icon-btn attach-btn", id: "attach-btn", title: "Attach files", "aria-label": "Attach files", text: "+",
  });
  button.addEventListener("click", () => fileInput.click());
  fileInput.addEventListener("change", () => {
    addFiles([...fileInput.files]);
    fileInput.value = "";
  });
  composer.prepend(button, fileInput);
  tray = el("ul", { class: "upload-tray", id: "upload-tray", "aria-label": "Files to send" });
  tray.hidden = true;
  composer.before(tray);
  tray.addEventListener("click", onTrayClick);

  // Paste: files on the clipboard (a screenshot) are uploaded; text pastes as text.
  $("composer-input").addEventListener("paste", (ev) => {
    const files = [...(ev.clipboardData?.files || [])];
    if (!files.length) return;
    ev.preventDefault();
    addFiles(files);
  });

  // Drop anywhere on the open room.
  const area = $("chat-inner");
  let depth = 0;
  const hasFiles = (ev) => [...(ev.dataTransfer?.types || [])].includes("Files");
  area.addEventListener("dragenter", (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    depth += 1;
    area.classList.add("drop-target");
  });
  area.addEventListener("dragover", (ev) => {
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    ev.dataTransfer.dropEffect = "copy";
  });
  area.addEventListener("dragleave", () => {
    depth = Math.max(0, depth - 1);
    if (!depth) area.classList.remove("drop-target");
  });
  area.addEventListener("drop", (ev) => {
    depth = 0;
    area.classList.remove("drop-target");
    if (!hasFiles(ev)) return;
    ev.preventDefault();
    addFiles([...ev.dataTransfer.files]);
  });
}

/** Upload these files to the open room. */
export function addFiles(files) {
  const roomId = currentRoomId();
  if (roomId === null || !files.length) return;
  dropOtherRooms(roomId);
  const room = [...uploads.values()].filter((u) => u.roomId === roomId);
  const room_left = MAX_FILES_PER_MESSAGE - room.length;
  if (files.length > room_left) {
    toast(`At most ${MAX_FILES_PER_MESSAGE} files go with one message.`, { error: true });
    files = files.slice(0, Math.max(0, room_left));
  }
  for (const file of files) start(roomId, file);
  render();
}

/** True while files of the open room are uploaded or waiting to be sent with a message. */
export function hasUploads() {
  const roomId = currentRoomId();
  return [...uploads.values()].some((u) => u.roomId === roomId);
}

/** Forget every upload (the room changed, or the user signed out); running ones stop.
 *  Files that went up but were never sent are removed by the server after a day. */
export function resetUploads() {
  for (const u of uploads.values()) u.xhr?.abort();
  uploads.clear();
  render();
}

/** Send `text` with the open room's uploaded files. False (and nothing sent) when some
 *  are still on their way or failed: the user is told. */
export function sendWithUploads(roomId, text) {
  const mine = [...uploads.values()].filter((u) => u.roomId === roomId);
  if (mine.some((u) => u.state === "uploading")) {
    toast("Wait until the files are uploaded, or cancel them.", { error: true });
    return false;
  }
  if (mine.some((u) => u.state === "failed")) {
    toast("Remove the files that could not be uploaded first.", { error: true });
    return false;
  }
  const ids = mine.map((u) => u.attachment.id);
  const client = chat();
  if (!client || !ids.length) return false;
  for (const u of mine) u.state = "sending";
  render();
  // Sent again (after a lost reply) with the same files, it is the same message: the
  // server answers with the one it stored instead of storing it twice.
  const key = `${roomId}:${ids.join(",")}`;
  if (!lastSend || lastSend.key !== key) lastSend = { key, clientMsgId: randomId() };
  client.request("send_room_chat_message", {
    room_id: roomId, message_text: text, attachment_ids: ids, client_msg_id: lastSend.clientMsgId,
  }).then(() => {
    for (const u of mine) uploads.delete(u.key);
    render();
  }, (err) => {
    for (const u of mine) if (uploads.has(u.key)) u.state = "done";
    render();
    toast(`Not sent: ${err?.message || "refused"}`, { error: true, ms: 6000 });
  });
  return true;
}

function randomId() {
  if (globalThis.crypto?.randomUUID) return crypto.randomUUID();
  return Array.from(crypto.getRandomValues(new Uint8Array(16)), (b) => b.toString(16).padStart(2, "0")).join("");
}

function dropOtherRooms(roomId) {
  for (const [key, u] of uploads) {
    if (u.roomId === roomId) continue;
    u.xhr?.abort();
    uploads.delete(key);
  }
}

// The server's upload limit, once a refusal has told it (details.max_upload_bytes):
// a later file over it is refused here, without sending megabytes to be refused.
let maxUploadBytes = null;

function start(roomId, file) {
  const u = {
    key: String(nextKey++), roomId, file, state: "uploading", attachment: null, xhr: null, error: "", loaded: 0,
  };
  uploads.set(u.key, u);
  if (maxUploadBytes !== null && file.size > maxUploadBytes) {
    return fail(u, refusal(413, { code: "payload_too_large" }, file));
  }
  send(u, false);
}

async function send(u, retried) {
  const client = chat();
  if (!client) return fail(u, "not signed in");
  const base = client.rest.http.baseUrl;
  const xhr = new XMLHttpRequest();
  u.xhr = xhr;
  xhr.open("POST", `${base}/api/v1/room-chats/${encodeURIComponent(u.roomId)}/attachments`);
  xhr.setRequestHeader("Accept", "application/json");
  const token = client.token;
  if (token) xhr.setRequestHeader("Authorization", `Bearer ${token}`);
  xhr.responseType = "json";
  xhr.upload.addEventListener("progress", (ev) => {
    if (!ev.lengthComputable) return;
    u.loaded = ev.loaded / ev.total;
    paint(u);
  });
  xhr.addEventListener("load", async () => {
    if (!uploads.has(u.key)) return;
    u.xhr = null;
    const body = xhr.response;
    if (xhr.status === 201 && body?.data) {
      u.state = "done";
      u.attachment = body.data;
      return render();
    }
    if (xhr.status === 401 && !retried) {
      // The token expired meanwhile: the SDK renews it; once more with the new one.
      try { await client.rest.http.call("GET", "/api/v1/users/me"); } catch { /* said below */ }
      if (client.token && client.token !== token) return send(u, true);
    }
    fail(u, refusal(xhr.status, body?.error, u.file));
  });
  xhr.addEventListener("error", () => {
    if (!uploads.has(u.key)) return;
    u.xhr = null;
    fail(u, "the server could not be reached");
  });
  const form = new FormData();
  form.append("file", u.file, u.file.name || "pasted-file");
  xhr.send(form);
}

/** What the user reads when the server refuses a file. */
function refusal(status, error, file) {
  const code = error?.code;
  if (code === "payload_too_large" || (status === 413 && !code)) {
    const limit = error?.details?.max_upload_bytes;
    if (Number.isSafeInteger(limit) && limit > 0) maxUploadBytes = limit;
    const over = maxUploadBytes === null ? "the server's upload limit" : `the limit of ${formatSize(maxUploadBytes)}`;
    return `too large (${formatSize(file.size)}): over ${over}`;
  }
  if (code === "quota_exceeded") return "the workspace's storage is full";
  if (code === "rate_limited") return "too many uploads: try again in a minute";
  if (code === "forbidden") return "you cannot upload to this room";
  if (code === "validation_error") return error.message || "the server refused this file";
  return error?.message || `refused (HTTP ${status})`;
}

function fail(u, reason) {
  u.state = "failed";
  u.error = reason;
  render();
}

function onTrayClick(ev) {
  const btn = ev.target.closest("button[data-act]");
  const key = btn?.closest("li[data-key]")?.dataset.key;
  const u = key && uploads.get(key);
  if (!u) return;
  if (btn.dataset.act === "cancel" || btn.dataset.act === "remove") {
    u.xhr?.abort();
    uploads.delete(key);
    render();
  }
}

function paint(u) {
  if (!u.node) return;
  u.node.dataset.state = u.state;
  u.bar.value = u.state === "uploading" ? u.loaded : 1;
  u.bar.hidden = u.state === "failed";
  u.status.textContent = u.state === "uploading" ? `${Math.round(u.loaded * 100)}%`
    : u.state === "failed" ? `Not uploaded: ${u.error}`
      : u.state === "sending" ? "Sending…" : "Ready";
  u.action.dataset.act = u.state === "uploading" ? "cancel" : "remove";
  u.action.textContent = u.state === "uploading" ? "Cancel" : "Remove";
  u.action.hidden = u.state === "sending";
  u.action.setAttribute("aria-label", `${u.action.textContent} ${u.file.name}`);
}

function render() {
  if (!tray) return;
  const roomId = currentRoomId();
  const shown = [...uploads.values()].filter((u) => u.roomId === roomId);
  for (const u of shown) {
    if (!u.node) {
      u.bar = el("progress", { class: "upload-bar", max: 1, value: 0 });
      u.status = el("span", { class: "upload-status", role: "status" });
      u.action = el("button", { type: "button", class: "link-btn" });
      u.node = el("li", { class: "upload", dataset: { key: u.key } },
        el("span", { class: "upload-name", text: u.file.name || "pasted file" }),
        el("span", { class: "upload-size", text: formatSize(u.file.size) }),
        u.bar, u.status, u.action);
    }
    paint(u);
  }
  tray.replaceChildren(...shown.map((u) => u.node));
  tray.hidden = shown.length === 0;
}
