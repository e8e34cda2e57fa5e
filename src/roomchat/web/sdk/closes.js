// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// What a close code means for a client (docs/protocol.md, "Close codes"), and what a
// failed connection attempt means.
import { RoomchatError } from "./errors.js";
const CREDENTIAL = new Set(["token_expired", "token_invalid", "token_missing", "ticket_used"]);
/** How to go on after a socket closed with `code` and `reason`. */
export function classifyClose(code, reason) {
    // A reason may carry details after its name ("too_many_connections: at most 20 per user").
    const name = reason.split(":", 1)[0].trim();
    const make = (kind, why, message = reason || why) => ({
        kind,
        reason: { code: why, closeCode: code, message, final: kind === "final" },
    });
    if (code === 4401) {
        if (name === "token_revoked")
            return make("final", "token_revoked", "the session was revoked (signed out)");
        return make("credential", CREDENTIAL.has(name) ? name : "token_invalid");
    }
    if (code === 4403)
        return make("final", "origin_not_allowed");
    if (code === 4429)
        return make("retry", "too_many_connections");
    if (code === 1013)
        return make("retry", "too_slow");
    if (code === 1009)
        return make("retry", "message_too_big");
    if (code === 1012 || code === 1001)
        return make("retry", "server_restarting");
    if (code === 1011)
        return make("retry", "server_error");
    if (code === 4000)
        return make("retry", name || "network");
    return make("retry", "network", reason || `closed (${code})`);
}
/** What a failed attempt means: a close before the socket opened, a refused credential
 * (final: the user signs in again), or the network (try again). */
export function outcomeOf(error) {
    const closed = error;
    if (typeof closed?.code === "number")
        return classifyClose(closed.code, String(closed.reason ?? ""));
    const make = (kind, code, message) => ({
        kind,
        reason: { code, closeCode: null, message, final: kind === "final" },
    });
    if (!(error instanceof RoomchatError))
        return make("retry", "network", String(error));
    // 401: the token cannot be renewed; 403: this credential may not open a socket (an API key).
    if (error.code === "unauthorized" || error.code === "forbidden")
        return make("final", "unauthorized", error.message);
    if (error.code === "client_closed")
        return make("final", "client_closed", error.message);
    return make("retry", "network", error.message);
}
/** The error what waits on a closed client gets. */
export function closedError(reason) {
    const code = reason.code === "token_revoked" || reason.code === "unauthorized" ? "unauthorized" : "client_closed";
    return new RoomchatError(code, `the client is closed: ${reason.message}`);
}
/** The WebSocket endpoint of a server: ws(s)://host/ws. */
export function wsUrlFor(baseUrl) {
    const url = new URL(baseUrl);
    url.protocol = url.protocol === "https:" ? "wss:" : "ws:";
    url.pathname = `${url.pathname.replace(/\/+$/, "")}/ws`;
    url.search = "";
    return url.toString();
}
