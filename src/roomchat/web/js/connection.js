// The connection's state in the top bar and the banner, as the SDK's state machine
// tells it (connecting, connected, recovering, disconnected, closed) with its reason,
// and "Retry now". Reconnecting, catching up and resending are the SDK's.

import { $ } from "/js/dom.js";
import { chat } from "/js/client.js";
import { browserOffline } from "/js/heartbeat.js";

/** What a reason code (docs/sdk-js.md, "The connection state machine") means to a user. */
const REASONS = {
  network: "the server cannot be reached",
  heartbeat_timeout: "the server stopped answering",
  server_restarting: "the server is restarting",
  server_error: "the server had an error",
  too_slow: "the server asked to try again later",
  too_many_connections: "too many connections are open",
  message_too_big: "a message was too big",
  token_expired: "renewing your session",
  token_invalid: "renewing your session",
  token_missing: "renewing your session",
  ticket_used: "signing the connection in again",
  reconnect: "the network changed",
};

let countdownTimer = 0;
let everConnected = false;

/** A new client (signed in): nothing connected yet. */
export function resetConnection() {
  everConnected = false;
  clearInterval(countdownTimer);
}

/** Reconnect now if waiting to (the "Retry now" button). */
export function retryNow() {
  chat()?.reconnectNow();
}

function reasonText(reason) {
  if (browserOffline()) return "you are offline";
  if (!reason) return "";
  return REASONS[reason.code] || reason.message || reason.code;
}

/** Show a state of the client's ({state, reason, retryInMs} of its "state" event). */
export function renderConnection({ state, reason = null, retryInMs = null }) {
  const pill = $("conn-state");
  const banner = $("conn-banner");
  const text = $("conn-banner-text");
  pill.dataset.state = state;
  pill.dataset.reason = reason?.code ?? "";
  pill.title = reason ? `${reason.code}: ${reason.message}` : "";
  clearInterval(countdownTimer);
  $("retry-now-btn").hidden = state !== "disconnected";
  if (state === "connected") {
    everConnected = true;
    pill.textContent = "Connected";
    banner.hidden = true;
    return;
  }
  const why = reasonText(reason);
  if (state === "connecting" || state === "recovering") {
    pill.textContent = everConnected ? "Reconnecting…" : "Connecting…";
    text.textContent = why ? `Reconnecting (${why})…` : "Reconnecting…";
    banner.hidden = !everConnected;
    return;
  }
  if (state === "closed") {
    pill.textContent = "Disconnected";
    text.textContent = why ? `Disconnected: ${why}.` : "Disconnected.";
    banner.hidden = false;
    return;
  }
  if (retryInMs === null) { // a new client, not started yet
    pill.textContent = "Connecting…";
    banner.hidden = true;
    return;
  }
  const retryAt = Date.now() + retryInMs;
  const tick = () => {
    const secs = Math.max(0, Math.ceil((retryAt - Date.now()) / 1000));
    pill.textContent = `Offline, retrying in ${secs}s`;
    text.textContent = `Connection lost${why ? ` (${why})` : ""}. Reconnecting in ${secs}s…`;
  };
  tick();
  countdownTimer = setInterval(tick, 1000);
  banner.hidden = false;
}
