// One WebSocket, no reconnecting: JSON envelopes in and out, replies matched to their
// requests by request_id, a heartbeat that finds a socket dead without a close.

import { RoomchatError } from "./errors.js";

/** The browser's WebSocket interface, of which the client uses this much (`ws` has it). */
export interface WebSocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: ((event: unknown) => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: ((event: { code: number; reason: string }) => void) | null;
  onerror: ((event: unknown) => void) | null;
}

export type WebSocketConstructor = new (url: string) => WebSocketLike;

export type Frame = Record<string, unknown> & { action?: unknown; status?: unknown; request_id?: unknown };

/** Called with the reply frame in the reader, before any later frame is looked at. */
export type ReplyHook = (frame: Frame) => void;

export interface Closed {
  code: number;
  reason: string;
}

/** The close code this client uses when it gives up on a socket itself. */
export const ABANDONED = 4000;

interface Pending {
  resolve: (data: unknown) => void;
  reject: (error: RoomchatError) => void;
  timer: ReturnType<typeof setTimeout>;
  onReply: ReplyHook | undefined;
}

export interface ConnectionOptions {
  /** Longest wait for the socket to open (ms). */
  openTimeoutMs?: number;
  /** At most this many requests wait for their reply. */
  maxPending?: number;
}

export class Connection {
  /** Every frame that is not a reply to a request of ours. */
  onFrame: (frame: Frame) => void = () => {};
  readonly closed: Promise<Closed>;

  readonly #ws: WebSocketLike;
  readonly #pending = new Map<string, Pending>();
  readonly #maxPending: number;
  #nextId = 1;
  #ended: Closed | null = null;
  #ending: (closed: Closed) => void = () => {};
  #lastHeard = Date.now();
  #heartbeat: ReturnType<typeof setInterval> | undefined;

  private constructor(ws: WebSocketLike, options: ConnectionOptions) {
    this.#ws = ws;
    this.#maxPending = options.maxPending ?? 100;
    this.closed = new Promise((resolve) => {
      this.#ending = resolve;
    });
  }

  /** A socket once it is open; rejects with its close if it closes first. */
  static open(WebSocketImpl: WebSocketConstructor, url: string, options: ConnectionOptions = {}): Promise<Connection> {
    return new Promise((resolve, reject) => {
      let ws: WebSocketLike;
      try {
        ws = new WebSocketImpl(url);
      } catch (cause) {
        reject(new RoomchatError("network_error", "the WebSocket could not be created", { cause }));
        return;
      }
      const connection = new Connection(ws, options);
      let opened = false;
      const timer = setTimeout(() => {
        connection.abort("open_timeout");
      }, options.openTimeoutMs ?? 15_000);
      ws.onopen = () => {
        opened = true;
        clearTimeout(timer);
        connection.#lastHeard = Date.now();
        resolve(connection);
      };
      ws.onmessage = (event) => connection.#receive(event.data);
      ws.onerror = () => {}; // onclose follows, with the code
      ws.onclose = (event) => connection.#end({ code: event.code, reason: event.reason ?? "" });
      void connection.closed.then((closed) => {
        clearTimeout(timer);
        if (!opened) reject(closed);
      });
    });
  }

  get isOpen(): boolean {
    return this.#ended === null;
  }

  /** Send an action; the reply's `data`, or a RoomchatError (the reply's, or ours). */
  request(
    action: string,
    payload: Record<string, unknown>,
    options: { timeoutMs?: number; onReply?: ReplyHook } = {},
  ): Promise<unknown> {
    if (this.#ended) return Promise.reject(lost(this.#ended));
    if (this.#pending.size >= this.#maxPending) {
      return Promise.reject(new RoomchatError("overloaded", `more than ${this.#maxPending} requests wait for a reply`));
    }
    const requestId = `r${this.#nextId++}`;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        this.#pending.delete(requestId);
        reject(new RoomchatError("timeout", `no reply to ${action} in time`));
      }, options.timeoutMs ?? 10_000);
      this.#pending.set(requestId, { resolve, reject, timer, onReply: options.onReply });
      try {
        this.#ws.send(JSON.stringify({ action, payload, request_id: requestId }));
      } catch (cause) {
        clearTimeout(timer);
        this.#pending.delete(requestId);
        reject(new RoomchatError("connection_lost", `${action} could not be sent`, { cause }));
      }
    });
  }

  /** Beat every `intervalMs` of silence; give up on the socket after `timeoutMs` more. */
  startHeartbeat(intervalMs: number, timeoutMs: number): void {
    clearInterval(this.#heartbeat);
    let pinged = 0;
    this.#heartbeat = setInterval(() => {
      const silent = Date.now() - this.#lastHeard;
      if (pinged && Date.now() - pinged >= timeoutMs && silent >= timeoutMs) {
        // Nothing heard, not even the pong: the network died without a close.
        this.abort("heartbeat_timeout");
        return;
      }
      if (silent >= intervalMs && !pinged) {
        pinged = Date.now();
        this.request("ping", {}, { timeoutMs: timeoutMs + intervalMs }).then(
          () => (pinged = 0),
          () => {}, // judged above by what was heard
        );
      }
      if (silent < intervalMs) pinged = 0;
    }, Math.max(50, Math.min(intervalMs, timeoutMs) / 2));
  }

  /** Give up on the socket now: `closed` resolves at once, whatever the network does. */
  abort(reason: string): void {
    if (this.#ended) return;
    const ws = this.#ws as WebSocketLike & { terminate?: () => void };
    try {
      // `ws` (Node.js) would wait for the close handshake of a dead peer: cut it instead.
      if (typeof ws.terminate === "function") ws.terminate();
      else ws.close(ABANDONED, reason);
    } catch {
      // already closed
    }
    this.#end({ code: ABANDONED, reason });
  }

  /** Close as a client that is done (code 1000). */
  close(): void {
    if (this.#ended) return;
    try {
      this.#ws.close(1000, "bye");
    } catch {
      // already closed
    }
    this.#end({ code: 1000, reason: "bye" });
  }

  #end(closed: Closed): void {
    if (this.#ended) return;
    this.#ended = closed;
    clearInterval(this.#heartbeat);
    const ws = this.#ws;
    ws.onopen = ws.onmessage = ws.onclose = null;
    for (const [, pending] of this.#pending) {
      clearTimeout(pending.timer);
      pending.reject(lost(closed));
    }
    this.#pending.clear();
    this.#ending(closed);
  }

  #receive(raw: unknown): void {
    if (this.#ended) return;
    this.#lastHeard = Date.now();
    let frame: unknown;
    try {
      frame = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw as ArrayBuffer));
    } catch {
      this.abort("bad_frame"); // not the protocol: a new connection, not a guess
      return;
    }
    if (typeof frame !== "object" || frame === null || Array.isArray(frame)) return;
    const reply = frame as Frame;
    const id = reply.request_id;
    const pending = id == null ? undefined : this.#pending.get(String(id));
    if (pending === undefined) {
      this.onFrame(reply);
      return;
    }
    this.#pending.delete(String(id));
    clearTimeout(pending.timer);
    pending.onReply?.(reply);
    if (reply.status === "success") {
      pending.resolve(reply.data);
    } else {
      pending.reject(RoomchatError.fromBody(reply.error, null));
    }
  }
}

function lost(closed: Closed): RoomchatError {
  return new RoomchatError("connection_lost", `the connection closed (${closed.code} ${closed.reason})`.trim());
}
