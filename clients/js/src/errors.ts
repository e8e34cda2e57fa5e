// One error type for everything that fails: a REST reply, a WebSocket reply, and what the
// client itself decides (a timeout, a dropped connection, a closed client).

import type { ErrorCode as CatalogueCode } from "./generated/asyncapi.js";
import type { ErrorObject } from "./types.js";

/** The server's catalogue (docs/protocol.md, "Errors"), from the AsyncAPI document. */
export type ServerErrorCode = CatalogueCode;

/** Errors the client raises itself. */
export type ClientErrorCode =
  /** The server could not be reached (REST). */
  | "network_error"
  /** No reply in time. The outcome of a change is unknown. */
  | "timeout"
  /** The connection went away before the reply. The outcome of a change is unknown. */
  | "connection_lost"
  /** The client was closed (by `close()`, or for good: a revoked session). */
  | "client_closed"
  /** A reply that is not the protocol's. */
  | "bad_response"
  /** A bound of the client was reached (pending requests, queued sends). */
  | "overloaded";

export type ErrorCode = ServerErrorCode | ClientErrorCode;

export interface RoomchatErrorInit {
  status?: number | null;
  details?: unknown;
  retryAfterMs?: number | null;
  cause?: unknown;
}

export class RoomchatError extends Error {
  /** A catalogue code, or one of the client's own; a newer server may send others. */
  readonly code: ErrorCode | (string & {});
  /** The HTTP status of a REST error; null on the WebSocket and for the client's own. */
  readonly status: number | null;
  /** Validation errors: `[{field, message}]`. */
  readonly details: unknown;
  /** How long to wait before trying again (`rate_limited`, `unavailable`). */
  readonly retryAfterMs: number | null;

  constructor(code: ErrorCode | (string & {}), message: string, init: RoomchatErrorInit = {}) {
    super(message, init.cause === undefined ? undefined : { cause: init.cause });
    this.name = "RoomchatError";
    this.code = code;
    this.status = init.status ?? null;
    this.details = init.details ?? null;
    this.retryAfterMs = init.retryAfterMs ?? null;
  }

  /** The error body of a reply (REST `error`, WebSocket `error`). */
  static fromBody(body: unknown, status: number | null, retryAfterHeader?: string | null): RoomchatError {
    const error = isErrorObject(body) ? body : null;
    if (error === null) {
      const what = status === null ? "a reply" : `HTTP ${status}`;
      return new RoomchatError(status === 401 ? "unauthorized" : "bad_response", `${what} without an error body`, {
        status,
        retryAfterMs: headerMs(retryAfterHeader),
      });
    }
    const retryAfterMs =
      typeof error.retry_after_ms === "number" ? error.retry_after_ms : headerMs(retryAfterHeader);
    return new RoomchatError(error.code, error.message, { status, details: error.details, retryAfterMs });
  }

  /** Nothing was stored and trying again later may work. */
  get isRateLimited(): boolean {
    return this.code === "rate_limited";
  }

  /** The outcome of a change is unknown: resend it (with the same client_msg_id). */
  get outcomeUnknown(): boolean {
    return (
      this.code === "timeout" ||
      this.code === "connection_lost" ||
      this.code === "internal_error" ||
      this.code === "unavailable"
    );
  }
}

function isErrorObject(value: unknown): value is ErrorObject {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return typeof candidate.code === "string" && typeof candidate.message === "string";
}

/** `Retry-After` in seconds (the only form the server sends) as milliseconds. */
function headerMs(header: string | null | undefined): number | null {
  if (header == null || !/^\d+$/.test(header.trim())) return null;
  return Number(header.trim()) * 1000;
}
