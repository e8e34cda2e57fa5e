// The WebSocket of the signed-in user, and its state in the top bar and the banner.
// What its opening, closing and frames do is registered once at start-up (frames.js):
// those handlers reach the room, which is above this module.

import { $ } from "/js/dom.js";
import { ChatSocket } from "/js/ws.js";
import { api } from "/js/client.js";

// A fresh single-use ticket per connection attempt: the access token never appears in
// a URL (URLs end up in logs and browser history).
async function socketUrl() {
  const { ticket } = await api.wsTicket();
  const scheme = location.protocol === "https:" ? "wss" : "ws";
  return `${scheme}://${location.host}/ws?ticket=${encodeURIComponent(ticket)}`;
}

let socket = null; // the ChatSocket while signed in
let countdownTimer = 0;
const handlers = {
  open: () => {}, // ({reconnect})
  closed: () => {}, // ({code, reason, opened})
  frame: () => {}, // a frame the server pushed
  sessionEnded: async () => false, // (reason) => reconnect?
};

/** Register what the socket's events do: {open, closed, frame, sessionEnded}. */
export function handleSocket(registered) {
  Object.assign(handlers, registered);
}

/** The current ChatSocket (null when signed out). */
export function currentSocket() {
  return socket;
}

export function startSocket() {
  socket?.stop();
  const fresh = new ChatSocket(socketUrl, { onSessionEnded: (reason) => handlers.sessionEnded(reason) });
  socket = fresh;
  fresh.addEventListener("state", (ev) => renderConnection(ev.detail));
  fresh.addEventListener("open", (ev) => handlers.open(ev.detail));
  fresh.addEventListener("closed", (ev) => {
    handlers.closed(ev.detail);
    // Never got in: maybe the token is no longer valid. A 401 here signs out (see Api).
    if (!ev.detail.opened) api.me().catch(() => {});
  });
  fresh.addEventListener("broadcast", (ev) => handlers.frame(ev.detail));
  fresh.start();
}

export function stopSocket() {
  socket?.stop();
  socket = null;
}

/** Close the connection so that it reconnects (and the open room is joined again). */
export function dropConnection(reason) {
  socket?.ws?.close(4000, reason);
}

/** Reconnect now if waiting to (the "Retry now" button, back online, tab visible again). */
export function retryNow() {
  socket?.retryNow();
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
