// The message composer and the outbox: a sent message shows at once as pending and is
// (re)sent until the server confirms it, also across reconnects.

import { $, uuid } from "/js/dom.js";
import { currentSocket } from "/js/connection.js";
import { currentUser } from "/js/session_data.js";
import { currentRoom, isJoined } from "/js/open_room_data.js";
import { renderOlder } from "/js/history.js";
import { noteTyping, stopTyping } from "/js/typing.js";
import { currentTimeline } from "/js/timeline.js";

const outbox = new Map(); // client_msg_id -> {client_msg_id, room_id, message_text, inflight}

export function onComposerSubmit(ev) {
  ev.preventDefault();
  const input = $("composer-input");
  const text = input.value.trim();
  const room = currentRoom();
  if (!text || !room) return;
  input.value = "";
  autosize();
  stopTyping();
  const item = { client_msg_id: uuid(), room_id: room.id, message_text: text, inflight: false };
  outbox.set(item.client_msg_id, item);
  currentTimeline().addPending(item, currentUser());
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
  const timeline = currentTimeline();
  const socket = currentSocket();
  if (item.inflight || !outbox.has(item.client_msg_id)) return;
  const forOpenRoom = item.room_id === currentRoom()?.id;
  if (!socket?.isOpen || (forOpenRoom && !isJoined())) {
    timeline.markPending(item.client_msg_id, "sending", "Waiting for connection…");
    return; // flushed after the next (re)join
  }
  item.inflight = true;
  timeline.markPending(item.client_msg_id, "sending", "Sending…");
  try {
    const msg = await socket.request("send_room_chat_message", {
      room_id: item.room_id,
      message_text: item.message_text,
      client_msg_id: item.client_msg_id,
    });
    outbox.delete(item.client_msg_id);
    if (msg && msg.room_id === timeline.roomId) timeline.add([msg]);
    timeline.dropPending(item.client_msg_id);
  } catch (err) {
    if (err.code === "disconnected") {
      timeline.markPending(item.client_msg_id, "sending", "Waiting for connection…");
    } else if (err.code === "timeout") {
      timeline.markPending(item.client_msg_id, "sending", "Retrying…");
      setTimeout(() => sendItem(item), 1000);
    } else {
      outbox.delete(item.client_msg_id);
      timeline.markPending(item.client_msg_id, "failed", `Not sent: ${err.message}`);
    }
  } finally {
    item.inflight = false;
  }
}

export async function flushOutbox() {
  for (const item of [...outbox.values()]) {
    if (!currentSocket()?.isOpen) return;
    await sendItem(item);
  }
}

/** The messages of a room still waiting to be confirmed (shown as pending when it opens). */
export function unsentFor(roomId) {
  return [...outbox.values()].filter((item) => item.room_id === roomId);
}

/** The server stored a message of ours (its broadcast came first): no need to resend it. */
export function messageStored(clientMsgId) {
  outbox.delete(clientMsgId);
}

/** Signed out: what was not sent is dropped. */
export function clearOutbox() {
  outbox.clear();
}
