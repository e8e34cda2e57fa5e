// Changing sent messages: the inline editor (your own), deleting (your own, or anyone's
// as the room's creator or the workspace owner), the quick reactions, and marking
// unread from a message. What changed
// shows when the change's broadcast comes back (events.js applies each once, in order).

import { el, toast } from "/js/dom.js";
import { currentSocket } from "/js/connection.js";
import { currentUser } from "/js/session_data.js";
import { isJoined } from "/js/open_room_data.js";
import { confirmAction } from "/js/confirm.js";
import { nameOf } from "/js/members.js";
import { pauseReading } from "/js/readmark.js";
import { onReadUpdated } from "/js/unread.js";
import { currentTimeline } from "/js/timeline.js";

/** The one click listener of the message list: buttons say what they do in data-act. */
export function onMessageListClick(ev) {
  const li = ev.target.closest("#message-list > li.msg");
  if (!li) return;
  const entry = currentTimeline().entryAt(Number(li.dataset.seq));
  if (!entry || entry.msg.deleted_at) return;
  const btn = ev.target.closest("button[data-act]");
  if (!btn) {
    // A tap on the message shows its actions where there is no hover (touch screens).
    if (ev.target.closest(".bubble")) li.classList.toggle("show-actions");
    return;
  }
  if (btn.dataset.act === "react") toggleReaction(entry, btn.dataset.reaction);
  else if (btn.dataset.act === "edit") startEdit(entry);
  else if (btn.dataset.act === "delete") deleteMessage(entry);
  else if (btn.dataset.act === "unread") markUnreadFrom(entry);
}

/** Send a change over the socket; resolves to the reply's data, or null (toasted). */
async function change(action, payload) {
  const socket = currentSocket();
  if (!socket?.isOpen || !isJoined()) {
    toast("Not connected. Try again in a moment.", { error: true });
    return null;
  }
  try {
    return await socket.request(action, payload);
  } catch (err) {
    const text = err.code === "not_found" ? "That message was deleted."
      : err.code === "rate_limited" ? "Slow down a little, then try again."
        : err.code === "disconnected" ? "Connection lost. Try again in a moment."
          : err.message;
    toast(text, { error: true });
    return null;
  }
}

/** Clicking a reaction you gave takes it back; any other adds it. */
async function toggleReaction(entry, reaction) {
  if (!reaction) return;
  const payload = { room_id: entry.msg.room_id, message_id: entry.msg.id, reaction };
  const had = entry.mine.has(reaction);
  const reply = await change(had ? "remove_room_chat_reaction" : "add_room_chat_reaction", payload);
  // Nothing changed: this client was wrong about it (whom a reaction lists is capped at
  // 20 users), so the click means the other way.
  if (reply && reply.changed === false) {
    await change(had ? "add_room_chat_reaction" : "remove_room_chat_reaction", payload);
  }
}

/** "Mark unread from here": the room's read position moves back to just before this
 *  message (mark_room_unread), and stays there while the room is open. */
async function markUnreadFrom(entry) {
  const msg = entry.msg;
  const reply = await change("mark_room_unread", { room_id: msg.room_id, seq: msg.seq });
  if (!reply) return;
  pauseReading(msg.room_id);
  onReadUpdated(reply);
  currentTimeline().markUnread(reply.last_read_seq);
  toast(reply.unread_count === 1 ? "1 message marked unread" : `${reply.unread_count} messages marked unread`);
}

async function deleteMessage(entry) {
  const msg = entry.msg;
  const mine = msg.user_id === currentUser().id;
  const ok = await confirmAction(
    mine ? "Delete your message?" : `Delete ${nameOf(msg.user_id)}'s message?`,
    "Everyone sees “message deleted” in its place. This cannot be undone.",
    "Delete",
  );
  if (!ok || currentTimeline().entryAt(msg.seq) !== entry) return;
  await change("delete_room_chat_message", { room_id: msg.room_id, message_id: msg.id });
}

function startEdit(entry) {
  const timeline = currentTimeline();
  if (entry.editor) {
    entry.editor.querySelector("textarea").focus();
    return;
  }
  const seq = entry.msg.seq;
  const input = el("textarea", { class: "edit-input", rows: 2, maxlength: 4000, "aria-label": "Edit message" });
  input.value = entry.msg.message_text ?? "";
  const save = el("button", { type: "submit", class: "primary small-btn", text: "Save" });
  const cancel = el("button", { type: "button", class: "small-btn", text: "Cancel" });
  const form = el("form", { class: "editor" }, input, el("div", { class: "editor-actions" },
    el("span", { class: "muted small", text: "Enter to save, Esc to cancel" }), cancel, save));
  const close = () => {
    if (timeline.entryAt(seq) === entry && entry.editor === form) timeline.setEditor(seq, null);
  };
  cancel.addEventListener("click", close);
  input.addEventListener("keydown", (ev) => {
    if (ev.key === "Escape") {
      ev.preventDefault();
      close();
    } else if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
      ev.preventDefault();
      form.requestSubmit();
    }
  });
  form.addEventListener("submit", async (ev) => {
    ev.preventDefault();
    const text = input.value.trim();
    if (!text) {
      toast("A message cannot be empty: delete it instead.", { error: true });
      return;
    }
    if (text === entry.msg.message_text) {
      close();
      return;
    }
    save.disabled = cancel.disabled = input.readOnly = true;
    const reply = await change("edit_room_chat_message", {
      room_id: entry.msg.room_id, message_id: entry.msg.id, message_text: text,
    });
    save.disabled = cancel.disabled = input.readOnly = false;
    if (!reply) return;
    if (timeline.entryAt(seq) === entry) timeline.applyEdit(reply.message);
    close();
  });
  timeline.setEditor(seq, form);
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}
