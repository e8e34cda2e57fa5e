// The message composer and the outbox: a sent message shows at once as pending and is
// (re)sent until the server confirms it, also across reconnects.

import { $, uuid } from "/js/dom.js";
import { state, ctx } from "/js/state.js";
import { renderOlder } from "/js/history.js";
import { noteTyping, stopTyping } from "/js/typing.js";

export function onComposerSubmit(ev) {
  ev.preventDefault();
  const input = $("composer-input");
  const text = input.value.trim();
  if (!text || !state.room) return;
  input.value = "";
  autosize();
  stopTyping();
  const item = { client_msg_id: uuid(), room_id: state.room.id, message_text: text, inflight: false };
  state.outbox.set(item.client_msg_id, item);
  ctx.timeline.addPending(item, state.me);
  renderOlder();
  sendItem(item);
}

export function onComposerInput() {
  autosize();
  noteTyping();
}

/** Enter sends, Shift+Enter makes a new line (and Enter while an IME is composing is the IME's). */
export function onComposerKeydown(ev) {
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    $("composer").requestSubmit();
  }
}

function autosize() {
  const input = $("composer-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight + 2, 160)}px`;
}

/** Send one queued message. The client_msg_id makes a resend after a reconnect safe:
 *  the server answers with the message it already stored instead of a duplicate. */
async function sendItem(item) {
  const timeline = ctx.timeline;
  if (item.inflight || !state.outbox.has(item.client_msg_id)) return;
  const forOpenRoom = item.room_id === state.room?.id;
  if (!ctx.socket?.isOpen || (forOpenRoom && !state.joined)) {
    timeline.markPending(item.client_msg_id, "sending", "Waiting for connection…");
    return; // flushed after the next (re)join
  }
  item.inflight = true;
  timeline.markPending(item.client_msg_id, "sending", "Sending…");
  try {
    const msg = await ctx.socket.request("send_room_chat_message", {
      room_id: item.room_id,
      message_text: item.message_text,
      client_msg_id: item.client_msg_id,
    });
    state.outbox.delete(item.client_msg_id);
    if (msg && msg.room_id === timeline.roomId) timeline.add([msg]);
    timeline.dropPending(item.client_msg_id);
  } catch (err) {
    if (err.code === "disconnected") {
      timeline.markPending(item.client_msg_id, "sending", "Waiting for connection…");
    } else if (err.code === "timeout") {
      timeline.markPending(item.client_msg_id, "sending", "Retrying…");
      setTimeout(() => sendItem(item), 1000);
    } else {
      state.outbox.delete(item.client_msg_id);
      timeline.markPending(item.client_msg_id, "failed", `Not sent: ${err.message}`);
    }
  } finally {
    item.inflight = false;
  }
}

export async function flushOutbox() {
  for (const item of [...state.outbox.values()]) {
    if (!ctx.socket?.isOpen) return;
    await sendItem(item);
  }
}
