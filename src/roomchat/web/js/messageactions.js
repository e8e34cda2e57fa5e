// Changing sent messages through the open room's handle (the SDK): the inline editor
// (your own), deleting (your own, or anyone's as the room's creator or the workspace
// owner), the quick reactions, marking unread from a message, and opening a message's
// thread. The same for the room's timeline and a thread's (the panel's): each list's
// listener passes its own. What changed shows when the change's event reaches the
// room's state (the SDK applies each once, in order).

import { el, toast } from "/js/dom.js";
import { isConnected } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import { isJoined, openHandle } from "/js/open_room_data.js";
import { confirmAction } from "/js/confirm.js";
import { nameOf } from "/js/members.js";
import { pauseReading, resumeReading } from "/js/readmark.js";
import { onReadUpdated } from "/js/unread.js";
import { currentTimeline } from "/js/timeline.js";
import { openThread } from "/js/threadpanel.js";
import { openEmojiPicker } from "/js/emoji.js";
import { toggleActionBar, hideActionBars } from "/js/actionbar.js";

/** The one click listener of a message list (the room's, or a thread's: `timeline`):
 *  buttons say what they do in data-act. */
export function onMessageListClick(ev, timeline = currentTimeline()) {
  const li = ev.target.closest("li.msg[data-seq]");
  if (!li || !timeline?.list.contains(li)) return;
  const entry = timeline.entryAt(Number(li.dataset.seq));
  if (!entry) return;
  const btn = ev.target.closest("button[data-act]");
  // A deleted root's thread can still be read.
  if (btn?.dataset.act === "thread") {
    hideActionBars();
    openThread(entry.msg.room_id, entry.msg.id);
    return;
  }
  if (entry.msg.deleted_at) return;
  if (!btn) {
    // A tap on the message shows its actions where there is no hover (touch screens).
    if (ev.target.closest(".bubble") && !ev.target.closest("a")) toggleActionBar(li);
    return;
  }
  if (btn.dataset.act === "emoji") {
    openEmojiPicker(btn, (emoji) => {
      hideActionBars();
      toggleReaction(timeline, entry, emoji);
    });
    return;
  }
  hideActionBars(); // the bar was for this: done with it
  if (btn.dataset.act === "react") toggleReaction(timeline, entry, btn.dataset.reaction);
  else if (btn.dataset.act === "edit") startEdit(timeline, entry);
  else if (btn.dataset.act === "delete") deleteMessage(timeline, entry);
  else if (btn.dataset.act === "unread") markUnreadFrom(timeline, entry);
}

/** Make a change in the open room (`act(handle)`); resolves to its result, or null
 *  (toasted). `{ok: value}` wraps it, as some results are false. */
async function change(act) {
  const handle = openHandle();
  if (!handle || !isConnected() || !isJoined()) {
    toast("Not connected. Try again in a moment.", { error: true });
    return null;
  }
  try {
    return { ok: await act(handle) };
  } catch (err) {
    const text = err.code === "not_found" ? "That message was deleted."
      : err.code === "rate_limited" ? "Slow down a little, then try again."
        : err.code === "connection_lost" || err.code === "timeout" ? "Connection lost. Try again in a moment."
          : err.message;
    toast(text, { error: true });
    return null;
  }
}

/** Clicking a reaction you gave takes it back; any other adds it. */
async function toggleReaction(timeline, entry, reaction) {
  if (!reaction) return;
  const id = entry.msg.id;
  const had = entry.mine.has(reaction);
  const toggle = (give) => change((room) => (give ? room.react(id, reaction) : room.unreact(id, reaction)));
  let done = await toggle(!had);
  // Nothing changed: this client was wrong about it (whom a reaction lists is capped at
  // 20 users), so the click means the other way.
  let given = !had;
  if (done && done.ok === false) {
    given = had;
    done = await toggle(had);
  }
  if (done) timeline.noteReaction(id, reaction, given);
}

/** "Mark unread from here": the room's read position moves back to just before this
 *  message (mark_room_unread), and stays there while the room is open. */
async function markUnreadFrom(timeline, entry) {
  const msg = entry.msg;
  // Paused first: a mark read due now would otherwise go after this one and undo it.
  pauseReading(msg.room_id);
  const done = await change((room) => room.markUnread(msg.seq));
  if (!done) {
    resumeReading(msg.room_id);
    return;
  }
  const reply = done.ok;
  onReadUpdated(reply);
  timeline.markUnread(reply.last_read_seq);
  toast(reply.unread_count === 1 ? "1 message marked unread" : `${reply.unread_count} messages marked unread`);
}

async function deleteMessage(timeline, entry) {
  const msg = entry.msg;
  const mine = msg.user_id === currentUser().id;
  const ok = await confirmAction(
    mine ? "Delete your message?" : `Delete ${nameOf(msg.user_id)}'s message?`,
    "Everyone sees “message deleted” in its place. This cannot be undone.",
    "Delete",
  );
  if (!ok || timeline.entryAt(msg.seq) !== entry) return;
  await change((room) => room.delete(msg.id));
}

function startEdit(timeline, entry) {
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
    const done = await change((room) => room.edit(entry.msg.id, text));
    save.disabled = cancel.disabled = input.readOnly = false;
    if (done) close(); // its event shows the new text
  });
  timeline.setEditor(seq, form);
  input.focus();
  input.setSelectionRange(input.value.length, input.value.length);
}
