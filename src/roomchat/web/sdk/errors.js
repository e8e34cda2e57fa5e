// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// One error type for everything that fails: a REST reply, a WebSocket reply, and what the
// client itself decides (a timeout, a dropped connection, a closed client).
export class RoomchatError extends Error {
    /** A catalogue code, or one of the client's own; a newer server may send others. */
    code;
    /** The HTTP status of a REST error; null on the WebSocket and for the client's own. */
    status;
    /** Validation errors: `[{field, message}]`. */
    details;
    /** How long to wait before trying again (`rate_limited`, `unavailable`). */
    retryAfterMs;
    constructor(code, message, init = {}) {
        super(message, init.cause === undefined ? undefined : { cause: init.cause });
        this.name = "RoomchatError";
        this.code = code;
        this.status = init.status ?? null;
        this.details = init.details ?? null;
        this.retryAfterMs = init.retryAfterMs ?? null;
    }
    /** The error body of a reply (REST `error`, WebSocket `error`). */
    static fromBody(body, status, retryAfterHeader) {
        const error = isErrorObject(body) ? body : null;
        if (error === null) {
            const what = status === null ? "a reply" : `HTTP ${status}`;
            return new RoomchatError(status === 401 ? "unauthorized" : "bad_response", `${what} without an error body`, {
                status,
                retryAfterMs: headerMs(retryAfterHeader),
            });
        }
        const retryAfterMs = typeof error.retry_after_ms === "number" ? error.retry_after_ms : headerMs(retryAfterHeader);
        return new RoomchatError(error.code, error.message, { status, details: error.details, retryAfterMs });
    }
    /** Nothing was stored and trying again later may work. */
    get isRateLimited() {
        return this.code === "rate_limited";
    }
    /** The outcome of a change is unknown: resend it (with the same client_msg_id). */
    get outcomeUnknown() {
        return (this.code === "timeout" ||
            this.code === "connection_lost" ||
            this.code === "internal_error" ||
            this.code === "unavailable");
    }
}
function isErrorObject(value) {
    if (typeof value !== "object" || value === null)
        return false;
    const candidate = value;
    return typeof candidate.code === "string" && typeof candidate.message === "string";
}
/** `Retry-After` in seconds (the only form the server sends) as milliseconds. */
function headerMs(header) {
    if (header == null || !/^\d+$/.test(header.trim()))
        return null;
    return Number(header.trim()) * 1000;
}
