// A WebSocket that reconnects by itself (exponential backoff with jitter), correlates
// replies to requests by request_id, and reports its state.
//
// Events (CustomEvent.detail):
//   "state"     {state: "connecting"|"open"|"closed", retryAt?: ms epoch, attempt, everOpened}
//   "open"      {reconnect: bool}   — fired after every successful (re)connection
//   "closed"    {code, reason, opened}
//
// urlFactory may return a Promise (the URL carries a single-use ticket fetched first).
// A close with 4401 (the token expired or was revoked) is reported through onSessionEnded,
// which renews the session; the socket then reconnects at once, without backoff.
//   "broadcast" frame               — server-pushed frames (new_room_chat_message, the room's
//                                     other events, and signals: typing_indicator,
//                                     room_activity, room_read_updated, room_chat_read,
//                                     room_presence)

export class SocketError extends Error {
  constructor(code, message) {
    super(message || code);
    this.code = code;
  }
}

const BASE_DELAY_MS = 500;
const MAX_DELAY_MS = 15000;
const REQUEST_TIMEOUT_MS = 10000;
const HEARTBEAT_MS = 20000;
const HEARTBEAT_GRACE_MS = 10000;

export class ChatSocket extends EventTarget {
  constructor(urlFactory, { onSessionEnded = null } = {}) {
    super();
    this.urlFactory = urlFactory;
    this.onSessionEnded = onSessionEnded;
    this.ws = null;
    this.state = "closed";
    this.attempt = 0;
    this.everOpened = false;
    this.stopped = true;
    this.nextId = 1;
    this.pending = new Map(); // request_id -> {action, resolve, reject, timer}
    this.retryTimer = 0;
    this.heartbeatTimer = 0;
    this.lastFrameAt = 0;
    this.retryAt = 0;
  }

  start() {
    this.stopped = false;
    this.attempt = 0;
    this.connect();
  }

  stop() {
    this.stopped = true;
    clearTimeout(this.retryTimer);
    clearInterval(this.heartbeatTimer);
    if (this.ws) {
      const ws = this.ws;
      this.ws = null;
      ws.onclose = ws.onmessage = ws.onerror = ws.onopen = null;
      try { ws.close(1000, "bye"); } catch { /* already closed */ }
    }
    this.failPending("disconnected");
    this.setState("closed");
  }

  get isOpen() { return this.state === "open"; }

  /** Reconnect immediately (e.g. "Retry now", or the browser came back online). */
  retryNow() {
    if (this.stopped || this.state !== "closed") return;
    clearTimeout(this.retryTimer);
    this.connect();
  }

  async connect() {
    clearTimeout(this.retryTimer);
    this.setState("connecting");
    let ws;
    try {
      const url = await this.urlFactory();
      if (this.stopped || this.ws) return; // stopped, or another connect won meanwhile
      ws = new WebSocket(url);
    } catch {
      if (!this.stopped) this.scheduleReconnect();
      return;
    }
    this.ws = ws;
    let opened = false;
    ws.onopen = () => {
      opened = true;
      const reconnect = this.everOpened;
      this.everOpened = true;
      this.attempt = 0;
      this.lastFrameAt = Date.now();
      this.setState("open");
      this.startHeartbeat();
      this.dispatchEvent(new CustomEvent("open", { detail: { reconnect } }));
    };
    ws.onmessage = (ev) => this.onFrame(ev.data);
    ws.onerror = () => { /* onclose follows */ };
    ws.onclose = (ev) => {
      if (this.ws !== ws) return;
      this.ws = null;
      clearInterval(this.heartbeatTimer);
      this.failPending("disconnected");
      this.dispatchEvent(new CustomEvent("closed", { detail: { code: ev.code, reason: ev.reason, opened } }));
      if (this.stopped) return;
      if (ev.code === 4401 && this.onSessionEnded) {
        // The token expired or was revoked: renew it (or sign out), then reconnect now.
        this.setState("connecting");
        Promise.resolve(this.onSessionEnded(ev.reason || ""))
          .then((renewed) => { if (renewed && !this.stopped) this.connect(); else if (!this.stopped) this.scheduleReconnect(); })
          .catch(() => { if (!this.stopped) this.scheduleReconnect(); });
        return;
      }
      this.scheduleReconnect();
    };
  }

  scheduleReconnect() {
    const exp = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** this.attempt);
    const delay = Math.round(exp / 2 + Math.random() * (exp / 2));
    this.attempt += 1;
    this.retryAt = Date.now() + delay;
    this.setState("closed");
    this.retryTimer = setTimeout(() => this.connect(), delay);
  }

  startHeartbeat() {
    clearInterval(this.heartbeatTimer);
    this.heartbeatTimer = setInterval(() => {
      if (!this.ws || this.state !== "open") return;
      if (Date.now() - this.lastFrameAt > HEARTBEAT_MS + HEARTBEAT_GRACE_MS) {
        // Nothing heard, not even a pong: the connection is dead without having closed.
        this.ws.close(4000, "heartbeat timeout");
        this.ws.onclose?.({ code: 4000 });
        return;
      }
      this.send("ping", {});
    }, HEARTBEAT_MS);
  }

  setState(state) {
    this.state = state;
    this.dispatchEvent(new CustomEvent("state", {
      detail: { state, retryAt: this.retryAt, attempt: this.attempt, everOpened: this.everOpened },
    }));
  }

  failPending(code) {
    for (const [, p] of this.pending) {
      clearTimeout(p.timer);
      p.reject(new SocketError(code, code === "disconnected" ? "Connection lost" : code));
    }
    this.pending.clear();
  }

  /** Fire and forget. Returns false when not connected. */
  send(action, payload) {
    if (!this.ws || this.state !== "open") return false;
    this.ws.send(JSON.stringify({ action, payload }));
    return true;
  }

  /** Send an action and resolve with the reply's data (or reject with SocketError{code}). */
  request(action, payload, { timeout = REQUEST_TIMEOUT_MS } = {}) {
    if (!this.ws || this.state !== "open") {
      return Promise.reject(new SocketError("disconnected", "Not connected"));
    }
    const request_id = `r${this.nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.pending.delete(request_id);
        reject(new SocketError("timeout", `No reply to ${action}`));
      }, timeout);
      this.pending.set(request_id, { action, resolve, reject, timer });
      this.ws.send(JSON.stringify({ action, payload, request_id }));
    });
  }

  onFrame(raw) {
    this.lastFrameAt = Date.now();
    let frame;
    try { frame = JSON.parse(raw); } catch { return; }
    if (!frame || typeof frame !== "object") return;
    let entry = null;
    let id = frame.request_id;
    if (id != null && this.pending.has(String(id))) {
      id = String(id);
      entry = this.pending.get(id);
    } else if (id == null && frame.action !== "new_room_chat_message"
               && !(frame.action === "typing_indicator" && frame.status === "success")) {
      // A reply without request_id: match the oldest pending request of the same action.
      for (const [key, p] of this.pending) {
        if (p.action === frame.action) { id = key; entry = p; break; }
      }
    }
    if (entry) {
      this.pending.delete(id);
      clearTimeout(entry.timer);
      if (frame.status === "success") entry.resolve(frame.data);
      else entry.reject(new SocketError(frame.error?.code || "error", frame.error?.message));
      return;
    }
    if (frame.action === "pong") return;
    if (frame.status === "error") {
      console.warn("roomchat: server error", frame.action, frame.error);
      return;
    }
    this.dispatchEvent(new CustomEvent("broadcast", { detail: frame }));
  }
}
