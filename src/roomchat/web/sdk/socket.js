// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// One WebSocket, no reconnecting: JSON envelopes in and out, replies matched to their
// requests by request_id, a heartbeat that finds a socket dead without a close.
import { RoomchatError } from "./errors.js";
/** The close code this client uses when it gives up on a socket itself. */
export const ABANDONED = 4000;
export class Connection {
    /** Every frame that is not a reply to a request of ours. */
    onFrame = () => { };
    closed;
    #ws;
    #pending = new Map();
    #maxPending;
    #nextId = 1;
    #ended = null;
    #ending = () => { };
    #lastHeard = Date.now();
    #heartbeat;
    constructor(ws, options) {
        this.#ws = ws;
        this.#maxPending = options.maxPending ?? 100;
        this.closed = new Promise((resolve) => {
            this.#ending = resolve;
        });
    }
    /** A socket once it is open; rejects with its close if it closes first. */
    static open(WebSocketImpl, url, options = {}) {
        return new Promise((resolve, reject) => {
            let ws;
            try {
                ws = new WebSocketImpl(url);
            }
            catch (cause) {
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
            ws.onerror = () => { }; // onclose follows, with the code
            ws.onclose = (event) => connection.#end({ code: event.code, reason: event.reason ?? "" });
            void connection.closed.then((closed) => {
                clearTimeout(timer);
                if (!opened)
                    reject(closed);
            });
        });
    }
    get isOpen() {
        return this.#ended === null;
    }
    /** Send an action; the reply's `data`, or a RoomchatError (the reply's, or ours). */
    request(action, payload, options = {}) {
        if (this.#ended)
            return Promise.reject(lost(this.#ended));
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
            }
            catch (cause) {
                clearTimeout(timer);
                this.#pending.delete(requestId);
                reject(new RoomchatError("connection_lost", `${action} could not be sent`, { cause }));
            }
        });
    }
    /** Beat every `intervalMs` of silence; give up on the socket after `timeoutMs` more. */
    startHeartbeat(intervalMs, timeoutMs) {
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
                this.request("ping", {}, { timeoutMs: timeoutMs + intervalMs }).then(() => (pinged = 0), () => { });
            }
            if (silent < intervalMs)
                pinged = 0;
        }, Math.max(50, Math.min(intervalMs, timeoutMs) / 2));
    }
    /** Give up on the socket now: `closed` resolves at once, whatever the network does. */
    abort(reason) {
        if (this.#ended)
            return;
        const ws = this.#ws;
        try {
            // `ws` (Node.js) would wait for the close handshake of a dead peer: cut it instead.
            if (typeof ws.terminate === "function")
                ws.terminate();
            else
                ws.close(ABANDONED, reason);
        }
        catch {
            // already closed
        }
        this.#end({ code: ABANDONED, reason });
    }
    /** Close as a client that is done (code 1000). */
    close() {
        if (this.#ended)
            return;
        try {
            this.#ws.close(1000, "bye");
        }
        catch {
            // already closed
        }
        this.#end({ code: 1000, reason: "bye" });
    }
    #end(closed) {
        if (this.#ended)
            return;
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
    #receive(raw) {
        if (this.#ended)
            return;
        this.#lastHeard = Date.now();
        let frame;
        try {
            frame = JSON.parse(typeof raw === "string" ? raw : new TextDecoder().decode(raw));
        }
        catch {
            this.abort("bad_frame"); // not the protocol: a new connection, not a guess
            return;
        }
        if (typeof frame !== "object" || frame === null || Array.isArray(frame))
            return;
        const reply = frame;
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
        }
        else {
            pending.reject(RoomchatError.fromBody(reply.error, null));
        }
    }
}
function lost(closed) {
    return new RoomchatError("connection_lost", `the connection closed (${closed.code} ${closed.reason})`.trim());
}
