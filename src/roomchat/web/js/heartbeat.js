// How quickly the page notices a dead connection and comes back. The SDK's defaults
// suit a server-side client (a ping after 25 s of silence, a pause of up to 15 s
// between attempts); a person looking at the page wants sooner:
// - a silent socket is pinged after 2.5 s and given up 4 s after that: a network that
//   died without a close is found within 10 s (a busy socket is never pinged);
// - the browser saying it went offline drops the socket at once, and its coming back
//   online (or the page coming back in front) retries at once, whatever the wait;
// - between attempts the SDK waits at most 3 s (jittered, so the clients cut off by a
//   server restart do not all come back in step), so a restarted server is found
//   within seconds.
// Messages written meanwhile stay in the SDK's outbox and go out once connected again,
// each exactly once (its client_msg_id).

import { chat } from "/js/client.js";

/** Given to every RoomchatClient of the page (session.js). */
export const CONNECTION_OPTIONS = Object.freeze({
  heartbeatIntervalMs: 2500,
  heartbeatTimeoutMs: 4000,
  backoff: Object.freeze({ initialMs: 250, maxMs: 3000 }),
});

let watching = false;

/** Follow the browser's network and visibility (once, at start-up: app.js). */
export function watchNetwork() {
  if (watching) return;
  watching = true;
  window.addEventListener("offline", () => {
    chat()?.reconnect(); // the socket cannot work now: do not wait for the heartbeat
  });
  window.addEventListener("online", () => {
    chat()?.reconnectNow();
  });
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") chat()?.reconnectNow();
  });
}

/** Whether the browser believes it is offline. */
export function browserOffline() {
  return typeof navigator !== "undefined" && navigator.onLine === false;
}
