// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// The access token: asked of a provider, renewed before it expires, one renewal at a
// time however many callers need it, and never again once the session was revoked.
import { RoomchatError } from "./errors.js";
export class TokenKeeper {
    #provider;
    #margin;
    #now;
    #onToken;
    #onRefreshError;
    #token = null;
    #expiresAt = null;
    #renewAt = null;
    #inflight = null;
    #timer;
    #stopped = null;
    constructor(options) {
        this.#provider = options.provider;
        this.#margin = options.refreshMarginMs ?? 60_000;
        this.#now = options.now ?? Date.now;
        this.#onToken = options.onToken;
        this.#onRefreshError = options.onRefreshError;
        if (options.initial)
            this.#accept(options.initial);
    }
    get current() {
        return this.#token;
    }
    get expiresAt() {
        return this.#expiresAt;
    }
    /** A token good for now: the current one, or a renewed one (shared by every caller). */
    async get() {
        if (this.#stopped)
            throw this.#stopped;
        if (this.#token !== null && (this.#renewAt === null || this.#now() < this.#renewAt))
            return this.#token;
        return this.refresh(this.#token === null ? "initial" : "expiring");
    }
    /** Ask the provider now; callers meanwhile share the one answer. */
    refresh(reason) {
        if (this.#stopped)
            return Promise.reject(this.#stopped);
        if (this.#inflight === null) {
            const asked = (async () => {
                try {
                    const grant = await this.#provider({ reason, current: this.#token });
                    if (this.#stopped)
                        throw this.#stopped;
                    return this.#accept(grant);
                }
                finally {
                    this.#inflight = null;
                }
            })();
            this.#inflight = asked;
        }
        return this.#inflight;
    }
    /** The server refused `token`: a fresh one, or null when the session is over. */
    async rejected(token) {
        if (this.#stopped)
            return null;
        try {
            // Another caller may have renewed it already: take that one.
            if (this.#token !== null && this.#token !== token)
                return this.#token;
            return await this.refresh("rejected");
        }
        catch (error) {
            if (error instanceof RoomchatError && error.code === "unauthorized")
                return null;
            throw error;
        }
    }
    /** No more tokens: the session was revoked, or the client closed. */
    stop(reason) {
        this.#stopped ??= reason;
        clearTimeout(this.#timer);
    }
    #accept(grant) {
        const { token, expiresAt } = normalise(grant, this.#now());
        this.#token = token;
        this.#expiresAt = expiresAt;
        clearTimeout(this.#timer);
        this.#renewAt = null;
        if (expiresAt !== null) {
            const life = Math.max(0, expiresAt - this.#now());
            this.#renewAt = expiresAt - Math.min(this.#margin, life / 4);
            // Renew ahead of time, so that neither a REST call nor a reconnection waits for it.
            const delay = Math.max(0, this.#renewAt - this.#now());
            this.#timer = setTimeout(() => {
                this.refresh("expiring").catch((error) => this.#onRefreshError?.(error));
            }, delay);
            unref(this.#timer);
        }
        this.#onToken?.(token, expiresAt);
        return token;
    }
}
function normalise(grant, now) {
    const token = typeof grant === "string" ? grant : grant.token;
    if (typeof token !== "string" || token === "")
        throw new TypeError("the token provider gave no token");
    // The earliest of what is known: `expiresIn` counts from when the token was issued (it
    // may have waited since), the JWT's `exp` is the server's clock (this one may be behind).
    const candidates = [jwtExpiry(token)];
    if (typeof grant !== "string") {
        if (typeof grant.expiresAt === "number")
            candidates.push(grant.expiresAt);
        if (typeof grant.expiresIn === "number")
            candidates.push(now + grant.expiresIn * 1000);
    }
    const known = candidates.filter((at) => at !== null);
    return { token, expiresAt: known.length ? Math.min(...known) : null };
}
/** The `exp` claim of a JWT (ms), or null for anything else (an opaque token lives on). */
export function jwtExpiry(token) {
    const part = token.split(".")[1];
    if (part === undefined)
        return null;
    try {
        const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
        const exp = JSON.parse(json).exp;
        return typeof exp === "number" ? exp * 1000 : null;
    }
    catch {
        return null;
    }
}
/** A background timer must not keep a Node.js process alive by itself. */
export function unref(timer) {
    timer?.unref?.();
}
