// What a client is given (ClientOptions) and what it tells (ClientEvents, its states).

import type { BackoffOptions } from "./backoff.js";
import type { DisconnectReason } from "./closes.js";
import type { RoomchatError } from "./errors.js";
import type { FetchLike } from "./http.js";
import type { OutboxEntry, OutboxStorage } from "./outbox.js";
import type { WebSocketConstructor } from "./socket.js";
import type { TokenGrant, TokenProvider } from "./tokens.js";
import type { Message, RoomEvent, Signal, UnknownBroadcast } from "./types.js";

/**
 * - `connecting`: the first connection is being made;
 * - `connected`: the socket is open and every followed room is caught up;
 * - `recovering`: the connection was lost; reconnecting and catching up now;
 * - `disconnected`: waiting before the next attempt (`retryInMs`); `reconnectNow()`, a
 *   browser's `online` or a tab made visible try at once;
 * - `closed`: for good: `close()`, or a final error (`reason.final`), such as a revoked
 *   session (sign in again) or a refused origin.
 */
export type ConnectionState = "connecting" | "connected" | "recovering" | "disconnected" | "closed";

export interface StateChange {
  state: ConnectionState;
  previous: ConnectionState;
  /** Why the client is not (or was not) connected; null for a start. */
  reason: DisconnectReason | null;
  /** In `disconnected`: when the next attempt starts. */
  retryInMs: number | null;
}

export interface ClientEvents {
  state: StateChange;
  /** Connected (again): rooms are caught up, queued messages are being sent. */
  connected: { reconnected: boolean };
  /** A durable room event of a joined room: each once, in seq order per room. */
  event: { roomId: number; event: RoomEvent };
  /** A signal: typing, presence, receipts, read state, room activity, or one unknown. */
  signal: Signal | UnknownBroadcast;
  /** A joined room could not be resumed or read (removed while away, deleted). */
  roomLost: { roomId: number; error: RoomchatError };
  /** A queued message is stored, or has failed. */
  outbox: { entry: OutboxEntry; message: Message | null; error: RoomchatError | null };
  /** A new access token (renewed before expiry): keep it if you persist the session. */
  token: { token: string; expiresAt: number | null };
  /** Something worth a log line; the client goes on. */
  warning: { message: string; error: unknown };
}

/** Where the browser says "online" and "the tab is visible again". */
export interface Environment {
  addEventListener?: (type: string, listener: () => void) => void;
  removeEventListener?: (type: string, listener: () => void) => void;
  document?: {
    visibilityState?: string;
    addEventListener?: (type: string, listener: () => void) => void;
    removeEventListener?: (type: string, listener: () => void) => void;
  };
}

export interface ClientOptions {
  /** The server, e.g. `https://chat.example.com` (REST under /api/v1). */
  baseUrl: string;
  /** The WebSocket endpoint; default: baseUrl's host, ws(s)://.../ws. */
  wsUrl?: string;
  /** An access token (a login's `access_token`, or `{token, expiresIn}`): renewed by
   * `POST /api/v1/auth/refresh` before it expires, unless `getToken` is given. */
  token?: string | TokenGrant;
  /** Your own token source (your backend, say); see TokenProvider. */
  getToken?: TokenProvider;
  /** The WebSocket class: the browser's by default; Node.js: `import WebSocket from "ws"`. */
  WebSocket?: WebSocketConstructor;
  fetch?: FetchLike;
  /** Where queued messages are kept (default: memory); see webStorageOutbox. */
  outbox?: OutboxStorage;
  backoff?: BackoffOptions;
  /** Ping after this much silence (ms). */
  heartbeatIntervalMs?: number;
  /** Give up on a socket that answers nothing for this long after a ping (ms). */
  heartbeatTimeoutMs?: number;
  /** Longest wait for a reply, and for a connection to send a request on (ms). */
  requestTimeoutMs?: number;
  /** A queued message not stored within this is `failed` (ms). */
  sendTimeoutMs?: number;
  /** Renew the token this long before it expires (ms; at most a quarter of its life). */
  refreshMarginMs?: number;
  /** Messages kept per room (the oldest go first). */
  maxMessagesPerRoom?: number;
  /** Messages that may wait in the outbox. */
  maxQueuedMessages?: number;
  /** Another member's `is_typing: true` counts this long (ms). */
  typingTimeoutMs?: number;
  /** Default: globalThis (a browser's window and document). */
  environment?: Environment | null;
}
