// The access token: asked of a provider, renewed before it expires, one renewal at a
// time however many callers need it, and never again once the session was revoked.

import { RoomchatError } from "./errors.js";

export interface TokenGrant {
  token: string;
  /** Seconds to live, as `expires_in` of login/refresh. */
  expiresIn?: number | null;
  /** Or when it expires (ms since the epoch). The JWT's `exp`, if earlier, wins. */
  expiresAt?: number | null;
}

/** Why the client asks for a token. */
export type TokenRequestReason =
  /** The first one. */
  | "initial"
  /** The current one expires soon. */
  | "expiring"
  /** The server refused the current one (expired, invalid). */
  | "rejected";

export interface TokenRequest {
  reason: TokenRequestReason;
  /** The token in use, if any (a refresh sends it). */
  current: string | null;
}

/**
 * Gives the client an access token. Throw a RoomchatError with code `unauthorized` when
 * the user must sign in again (the client then closes for good); any other error is
 * taken as passing (the client tries again later).
 */
export type TokenProvider = (request: TokenRequest) => Promise<string | TokenGrant> | string | TokenGrant;

export interface TokenKeeperOptions {
  provider: TokenProvider;
  initial?: string | TokenGrant | null;
  /** Renew this long before expiry (ms); at most a quarter of the token's life. */
  refreshMarginMs?: number;
  now?: () => number;
  /** Told of each new token. */
  onToken?: (token: string, expiresAt: number | null) => void;
  /** Told when a background renewal failed (the next use tries again). */
  onRefreshError?: (error: unknown) => void;
}

export class TokenKeeper {
  readonly #provider: TokenProvider;
  readonly #margin: number;
  readonly #now: () => number;
  readonly #onToken: TokenKeeperOptions["onToken"];
  readonly #onRefreshError: TokenKeeperOptions["onRefreshError"];
  #token: string | null = null;
  #expiresAt: number | null = null;
  #renewAt: number | null = null;
  #inflight: Promise<string> | null = null;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #stopped: RoomchatError | null = null;

  constructor(options: TokenKeeperOptions) {
    this.#provider = options.provider;
    this.#margin = options.refreshMarginMs ?? 60_000;
    this.#now = options.now ?? Date.now;
    this.#onToken = options.onToken;
    this.#onRefreshError = options.onRefreshError;
    if (options.initial) this.#accept(options.initial);
  }

  get current(): string | null {
    return this.#token;
  }

  get expiresAt(): number | null {
    return this.#expiresAt;
  }

  /** A token good for now: the current one, or a renewed one (shared by every caller). */
  async get(): Promise<string> {
    if (this.#stopped) throw this.#stopped;
    if (this.#token !== null && (this.#renewAt === null || this.#now() < this.#renewAt)) return this.#token;
    return this.refresh(this.#token === null ? "initial" : "expiring");
  }

  /** Ask the provider now; callers meanwhile share the one answer. */
  refresh(reason: TokenRequestReason): Promise<string> {
    if (this.#stopped) return Promise.reject(this.#stopped);
    if (this.#inflight === null) {
      const asked = (async () => {
        try {
          const grant = await this.#provider({ reason, current: this.#token });
          if (this.#stopped) throw this.#stopped;
          return this.#accept(grant);
        } finally {
          this.#inflight = null;
        }
      })();
      this.#inflight = asked;
    }
    return this.#inflight;
  }

  /** The server refused `token`: a fresh one, or null when the session is over. */
  async rejected(token: string): Promise<string | null> {
    if (this.#stopped) return null;
    try {
      // Another caller may have renewed it already: take that one.
      if (this.#token !== null && this.#token !== token) return this.#token;
      return await this.refresh("rejected");
    } catch (error) {
      if (error instanceof RoomchatError && error.code === "unauthorized") return null;
      throw error;
    }
  }

  /** No more tokens: the session was revoked, or the client closed. */
  stop(reason: RoomchatError): void {
    this.#stopped ??= reason;
    clearTimeout(this.#timer);
  }

  #accept(grant: string | TokenGrant): string {
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
        this.refresh("expiring").catch((error: unknown) => this.#onRefreshError?.(error));
      }, delay);
      unref(this.#timer);
    }
    this.#onToken?.(token, expiresAt);
    return token;
  }
}

function normalise(grant: string | TokenGrant, now: number): { token: string; expiresAt: number | null } {
  const token = typeof grant === "string" ? grant : grant.token;
  if (typeof token !== "string" || token === "") throw new TypeError("the token provider gave no token");
  // The earliest of what is known: `expiresIn` counts from when the token was issued (it
  // may have waited since), the JWT's `exp` is the server's clock (this one may be behind).
  const candidates = [jwtExpiry(token)];
  if (typeof grant !== "string") {
    if (typeof grant.expiresAt === "number") candidates.push(grant.expiresAt);
    if (typeof grant.expiresIn === "number") candidates.push(now + grant.expiresIn * 1000);
  }
  const known = candidates.filter((at): at is number => at !== null);
  return { token, expiresAt: known.length ? Math.min(...known) : null };
}

/** The `exp` claim of a JWT (ms), or null for anything else (an opaque token lives on). */
export function jwtExpiry(token: string): number | null {
  const part = token.split(".")[1];
  if (part === undefined) return null;
  try {
    const json = atob(part.replace(/-/g, "+").replace(/_/g, "/"));
    const exp = (JSON.parse(json) as { exp?: unknown }).exp;
    return typeof exp === "number" ? exp * 1000 : null;
  } catch {
    return null;
  }
}

/** A background timer must not keep a Node.js process alive by itself. */
export function unref(timer: unknown): void {
  (timer as { unref?: () => void } | undefined)?.unref?.();
}
