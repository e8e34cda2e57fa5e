// The WebSocket of the signed-in user: connection state in the top bar and the banner,
// rejoining the open room after every (re)connect, and the frames the server pushes.

import { $ } from "/js/dom.js";
import { ChatSocket } from "/js/ws.js";
import { state, ctx } from "/js/state.js";
import { joinCurrentRoom } from "/js/room.js";
import { flushOutbox } from "/js/composer.js";
import { stopTyping, onTyping, clearTypers } from "/js/typing.js";
import { sessionEnded } from "/js/session.js";
import { onRoomBroadcast } from "/js/events.js";
import { followWorkspace, onRoomActivity, onReadUpdated } from "/js/unread.js";
import { onRoomRead } from "/js/seenby.js";
import { onPresence } from "/js/presence.js";

// A fresh single-use ticket per connection attempt: the access token never appears in
// a URL (URLs end up in logs and browser history).
async function socketUrl() {
  const { ticket } = await ctx.api.wsTicket();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws?ticket=${encodeURIComponent(ticket)}`;
}

let countdownTimer = 0;

export function startSocket() {
  ctx.socket?.stop();
  const socket = new ChatSocket(socketUrl, { onSessionEnded: sessionEnded });
  ctx.socket = socket;
  socket.addEventListener("state", (ev) => renderConnection(ev.detail));
  socket.addEventListener("open", (ev) => {
    state.joined = false;
    // Activity is a signal: after a reconnect the room list is read again for the counts.
    followWorkspace({ reload: ev.detail.reconnect });
    if (state.room) joinCurrentRoom();
    else flushOutbox();
  });
  socket.addEventListener("closed", (ev) => {
    state.joined = false;
    stopTyping({ send: false });
    clearTypers();
    // Never got in: maybe the token is no longer valid. A 401 here signs out (see Api).
    if (!ev.detail.opened) ctx.api.me().catch(() => {});
  });
  socket.addEventListener("broadcast", (ev) => onBroadcast(ev.detail));
  socket.start();
}

/** Reconnect now if waiting to (the "Retry now" button, back online, tab visible again). */
export function retryNow() {
  ctx.socket?.retryNow();
}

function renderConnection({ state: s, retryAt, everOpened }) {
  const pill = $("conn-state");
  const banner = $("conn-banner");
  pill.dataset.state = s;
  clearInterval(countdownTimer);
  if (s === "open") {
    pill.textContent = "Connected";
    banner.hidden = true;
    return;
  }
  if (s === "connecting") {
    pill.textContent = everOpened ? "Reconnecting…" : "Connecting…";
    $("conn-banner-text").textContent = "Reconnecting…";
    $("retry-now-btn").hidden = true;
    banner.hidden = !everOpened;
    return;
  }
  const tick = () => {
    const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    pill.textContent = `Offline, retrying in ${secs}s`;
    $("conn-banner-text").textContent = `Connection lost. Reconnecting in ${secs}s…`;
  };
  tick();
  countdownTimer = setInterval(tick, 1000);
  $("retry-now-btn").hidden = false;
  banner.hidden = false;
}

/** Signals: not stored, no place in the room's order (room_activity carries the room's
 *  seq, but is no event of it). */
const SIGNALS = {
  typing_indicator: onTyping,
  room_activity: onRoomActivity,
  room_read_updated: onReadUpdated,
  room_chat_read: onRoomRead,
  room_presence: onPresence,
};

/** Signals go to their handler; durable room events (they carry a seq) through
 *  events.js, in seq order and once. */
function onBroadcast(frame) {
  const signal = SIGNALS[frame.action];
  if (signal) signal(frame.data || {});
  else onRoomBroadcast(frame);
}
