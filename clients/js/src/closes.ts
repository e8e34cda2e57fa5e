// What a close code means for a client (docs/protocol.md, "Close codes"), and what a
// failed connection attempt means.

import { RoomchatError } from "./errors.js";

/** Why the client is not connected: a close reason, or one of the client's own. */
export type DisconnectCode =
  | "token_missing"
  | "token_invalid"
  | "token_expired"
  | "token_revoked"
  | "ticket_used"
  | "origin_not_allowed"
  | "too_many_connections"
  | "too_slow"
  | "message_too_big"
  | "server_restarting"
  | "server_error"
  | "network"
  | "heartbeat_timeout"
  | "unauthorized"
  | "client_closed"
  | (string & {});

export type CloseKind =
  /** Do not reconnect with the same credential: the user signs in again. */
  | "final"
  /** Reconnect once a fresh credential (a token, a ticket) is had. */
  | "credential"
  /** Reconnect after a backoff. */
  | "retry";

export interface DisconnectReason {
  code: DisconnectCode;
  /** The WebSocket close code, when a socket closed. */
  closeCode: number | null;
  message: string;
  /** Final: the client will not reconnect by itself. */
  final: boolean;
}

const CREDENTIAL = new Set(["token_expired", "token_invalid", "token_missing", "ticket_used"]);

/** How to go on after a socket closed with `code` and `reason`. */
export function classifyClose(code: number, reason: string): { kind: CloseKind; reason: DisconnectReason } {
  // A reason may carry details after its name ("too_many_connections: at most 20 per user").
  const name = reason.split(":", 1)[0]!.trim();
  const make = (kind: CloseKind, why: DisconnectCode, message = reason || why) => ({
    kind,
    reason: { code: why, closeCode: code, message, final: kind === "final" },
  });
  if (code === 4401) {
    if (name === "token_revoked") return make("final", "token_revoked", "the session was revoked (signed out)");
    return make("credential", CREDENTIAL.has(name) ? name : "token_invalid");
  }
  if (code === 4403) return make("final", "origin_not_allowed");
  if (code === 4429) return make("retry", "too_many_connections");
  if (code === 1013) return make("retry", "too_slow");
  if (code === 1009) return make("retry", "message_too_big");
  if (code === 1012 || code === 1001) return make("retry", "server_restarting");
  if (code === 1011) return make("retry", "server_error");
  if (code === 4000) return make("retry", name || "network");
  return make("retry", "network", reason || `closed (${code})`);
}

export interface Outcome {
  kind: CloseKind;
  reason: DisconnectReason;
}

/** What a failed attempt means: a close before the socket opened, a refused credential
 * (final: the user signs in again), or the network (try again). */
export function outcomeOf(error: unknown): Outcome {
  const closed = error as { code?: unknown; reason?: unknown } | null;
  if (typeof closed?.code === "number") return classifyClose(closed.code, String(closed.reason ?? ""));
  const make = (kind: CloseKind, code: DisconnectCode, message: string): Outcome => ({
    kind,
    reason: { code, closeCode: null, message, final: kind === "final" },
  });
  if (!(error instanceof RoomchatError)) return make("retry", "network", String(error));
  // 401: the token cannot be renewed; 403: this credential may not open a socket (an API key).
  if (error.code === "unauthorized" || error.code === "forbidden") return make("final", "unauthorized", error.message);
  if (error.code === "client_closed") return make("final", "client_closed", error.message);
  return make("retry", "network", error.message);
}

/** The error what waits on a closed client gets. */
export function closedError(reason: DisconnectReason): RoomchatError {
  const code = reason.code === "token_revoked" || reason.code === "unauthorized" ? "unauthorized" : "client_closed";
  return new RoomchatError(code, `the client is closed: ${reason.message}`);
}

/** The WebSocket endpoint of a server: ws(s)://host/ws. */
export function wsUrlFor(baseUrl: string): string {
  const url = new URL(baseUrl);
  url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
  url.pathname = `${url.pathname.replace(/\/+$/, "")}/ws`;
  url.search = "";
  return url.toString();
}
