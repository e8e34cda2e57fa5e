// How long to wait before the next attempt: capped exponential backoff, full jitter.

export interface BackoffOptions {
  /** The first ceiling (ms). */
  initialMs?: number;
  /** The largest ceiling (ms). */
  maxMs?: number;
  /** A number in [0, 1): injectable for tests. */
  random?: () => number;
}

/**
 * The delay before attempt n is uniform in [0, min(max, initial * 2**n)]: the jitter keeps
 * the clients cut off by one restart from coming back in step, the cap keeps a client
 * that was away long from waiting long once the server is back.
 */
export class Backoff {
  readonly initialMs: number;
  readonly maxMs: number;
  #attempt = 0;
  readonly #random: () => number;

  constructor(options: BackoffOptions = {}) {
    this.initialMs = options.initialMs ?? 250;
    this.maxMs = options.maxMs ?? 15_000;
    this.#random = options.random ?? Math.random;
    if (!(this.initialMs > 0) || this.maxMs < this.initialMs) {
      throw new RangeError("backoff needs 0 < initialMs <= maxMs");
    }
  }

  get attempt(): number {
    return this.#attempt;
  }

  /** The delay before the next attempt; each call counts one more attempt. */
  next(): number {
    const ceiling = this.#attempt > 30 ? this.maxMs : Math.min(this.maxMs, this.initialMs * 2 ** this.#attempt);
    this.#attempt += 1;
    return Math.round(this.#random() * ceiling);
  }

  /** A success: the next failure starts from the first ceiling again. */
  reset(): void {
    this.#attempt = 0;
  }
}

/** Resolves after `ms`, or at once when `signal` aborts. */
export function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    if (signal?.aborted) return resolve();
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done(): void {
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
