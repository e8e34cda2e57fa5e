// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// How long to wait before the next attempt: capped exponential backoff, full jitter.
/**
 * The delay before attempt n is uniform in [0, min(max, initial * 2**n)]: the jitter keeps
 * the clients cut off by one restart from coming back in step, the cap keeps a client
 * that was away long from waiting long once the server is back.
 */
export class Backoff {
    initialMs;
    maxMs;
    #attempt = 0;
    #random;
    constructor(options = {}) {
        this.initialMs = options.initialMs ?? 250;
        this.maxMs = options.maxMs ?? 15_000;
        this.#random = options.random ?? Math.random;
        if (!(this.initialMs > 0) || this.maxMs < this.initialMs) {
            throw new RangeError("backoff needs 0 < initialMs <= maxMs");
        }
    }
    get attempt() {
        return this.#attempt;
    }
    /** The delay before the next attempt; each call counts one more attempt. */
    next() {
        const ceiling = this.#attempt > 30 ? this.maxMs : Math.min(this.maxMs, this.initialMs * 2 ** this.#attempt);
        this.#attempt += 1;
        return Math.round(this.#random() * ceiling);
    }
    /** A success: the next failure starts from the first ceiling again. */
    reset() {
        this.#attempt = 0;
    }
}
/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms, signal) {
    return new Promise((resolve) => {
        if (signal?.aborted)
            return resolve();
        const timer = setTimeout(done, ms);
        signal?.addEventListener("abort", done, { once: true });
        function done() {
            clearTimeout(timer);
            signal?.removeEventListener("abort", done);
            resolve();
        }
    });
}
/** The longest rate-limit wait the client sits out by itself (as `Http`'s default
 * `maxRetryWaitMs`); a longer one (a passcode lockout asks for its whole window) is
 * handed to the caller as the error. */
export const MAX_RETRY_WAIT_MS = 30_000;
