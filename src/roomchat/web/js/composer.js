// The message composer. A message goes to the SDK's outbox: it shows at once as pending
// (room.state), is sent again after any drop until the server has it (its client_msg_id
// makes that safe), and shows as failed if refused: retry or discard it.

import { $ } from "/js/dom.js";
import { chat } from "/js/client.js";
import { currentRoom } from "/js/open_room_data.js";
import { noteTyping, stopTyping } from "/js/typing.js";
import { composerTextFits, showComposerLength } from "/js/composerlimit.js";
import { hasUploads, sendWithUploads } from "/js/upload.js";

export function onComposerSubmit(ev) {
  ev.preventDefault();
  const input = $("composer-input");
  const text = input.value.trim();
  const room = currentRoom();
  const client = chat();
  if (!composerTextFits(text)) return; // too long: said so, the text stays
  const withFiles = Boolean(room && client && hasUploads()); // issue 24: the text may be empty
  if (withFiles ? !sendWithUploads(room.id, text) : (!text || !room || !client)) return;
  input.value = "";
  autosize();
  showComposerLength();
  stopTyping();
  if (withFiles) return; // sent with its files (upload.js)
  // Settled in the room's state (sent, or failed with a reason): nothing to do here.
  client.send(room.id, text).catch(() => {});
}

export function onComposerInput() {
  autosize();
  showComposerLength();
  noteTyping();
}

/** Enter sends, Shift+Enter makes a new line (and Enter while an IME is composing is the IME's). */
export function onComposerKeydown(ev) {
  if (ev.defaultPrevented) return; // the mention picker's key
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    $("composer").requestSubmit();
  }
}

/** The pending list's buttons: send a failed message again (the same client_msg_id, so
 *  never stored twice), or drop it. */
export function onPendingListClick(ev) {
  const btn = ev.target.closest("button[data-act]");
  const id = btn?.closest("li[data-client-msg-id]")?.dataset.clientMsgId;
  const client = chat();
  if (!id || !client) return;
  if (btn.dataset.act === "retry") client.retry(id).catch(() => {});
  else if (btn.dataset.act === "discard") client.discard(id);
}

function autosize() {
  const input = $("composer-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight + 2, 160)}px`;
}
