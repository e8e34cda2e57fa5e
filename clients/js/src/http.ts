// The REST transport: JSON in and out, the bearer token, the error catalogue as
// RoomchatError, rate limits waited out and retried, a refused token renewed once.

import { sleep } from "./backoff.js";
import { RoomchatError } from "./errors.js";

export type FetchLike = (input: string, init?: RequestInit) => Promise<Response>;

/** Where the bearer comes from: `get` the current token, `rejected` when the server refused it. */
export interface BearerSource {
  get(): Promise<string>;
  /** The server answered 401 to `token`: a fresh one, or null when none can be had. */
  rejected(token: string): Promise<string | null>;
}

export interface HttpOptions {
  baseUrl: string;
  fetch?: FetchLike;
  bearer?: BearerSource | null;
  /** Per request (ms). */
  timeoutMs?: number;
  /** How many times a `rate_limited` reply is waited out and retried. */
  rateLimitRetries?: number;
  /** The longest single wait for a rate limit (ms); a longer one is raised at once. */
  maxRetryWaitMs?: number;
}

export type Query = Record<string, string | number | boolean | null | undefined>;

export interface RequestOptions {
  query?: Query;
  body?: unknown;
  /** Send the bearer (default true). */
  auth?: boolean;
  /** The bearer to send instead of the source's (refresh and logout name their token). */
  token?: string;
  signal?: AbortSignal;
}

export interface HttpReply<T> {
  data: T;
  status: number;
  headers: Headers;
}

export class Http {
  readonly baseUrl: string;
  readonly #fetch: FetchLike;
  readonly #bearer: BearerSource | null;
  readonly #timeoutMs: number;
  readonly #rateLimitRetries: number;
  readonly #maxRetryWaitMs: number;

  constructor(options: HttpOptions) {
    this.baseUrl = options.baseUrl.replace(/\/+$/, "");
    // Bound: a browser refuses window.fetch called as another object's method ("Illegal invocation").
    const fetchImpl = options.fetch ?? (globalThis.fetch ? (globalThis.fetch.bind(globalThis) as FetchLike) : undefined);
    if (fetchImpl === undefined) throw new TypeError("no fetch: pass options.fetch");
    this.#fetch = fetchImpl;
    this.#bearer = options.bearer ?? null;
    this.#timeoutMs = options.timeoutMs ?? 30_000;
    this.#rateLimitRetries = options.rateLimitRetries ?? 3;
    this.#maxRetryWaitMs = options.maxRetryWaitMs ?? 30_000;
  }

  /** The reply's `data`. */
  async call<T>(method: string, path: string, options: RequestOptions = {}): Promise<T> {
    return (await this.request<T>(method, path, options)).data;
  }

  async request<T>(method: string, path: string, options: RequestOptions = {}): Promise<HttpReply<T>> {
    let renewed = false;
    let waits = 0;
    const useBearer = options.auth !== false && this.#bearer !== null;
    let token = options.token ?? (useBearer ? await this.#bearer!.get() : undefined);
    for (;;) {
      try {
        return await this.#once<T>(method, path, options, token);
      } catch (error) {
        if (!(error instanceof RoomchatError)) throw error;
        if (error.code === "rate_limited" && waits < this.#rateLimitRetries) {
          // A request refused by a rate limit changed nothing: wait it out, try again.
          const wait = error.retryAfterMs ?? 1000;
          if (wait > this.#maxRetryWaitMs) throw error;
          waits += 1;
          await sleep(wait, options.signal);
          if (options.signal?.aborted) throw error;
          continue;
        }
        if (error.status === 401 && useBearer && options.token === undefined && !renewed && token) {
          renewed = true; // the token expired meanwhile: once with a fresh one
          const fresh = await this.#bearer!.rejected(token);
          if (fresh === null) throw error;
          token = fresh;
          continue;
        }
        throw error;
      }
    }
  }

  async #once<T>(method: string, path: string, options: RequestOptions, token?: string): Promise<HttpReply<T>> {
    const headers: Record<string, string> = { Accept: "application/json" };
    if (token) headers.Authorization = `Bearer ${token}`;
    let body: string | Blob | FormData | undefined;
    if (options.body instanceof FormData) {
      // A multipart upload (a file in a room): fetch writes its Content-Type and boundary.
      body = options.body;
    } else if (options.body instanceof Blob || options.body instanceof Uint8Array) {
      // An upload (a profile picture): its bytes as they are; the server reads what it is.
      headers["Content-Type"] = "application/octet-stream";
      body = options.body instanceof Blob ? options.body : new Blob([options.body.slice()]);
    } else if (options.body !== undefined) {
      headers["Content-Type"] = "application/json";
      body = JSON.stringify(options.body);
    }
    const timeout = AbortSignal.timeout(this.#timeoutMs);
    const signal = options.signal ? anySignal([options.signal, timeout]) : timeout;
    let response: Response;
    try {
      response = await this.#fetch(this.url(path, options.query), { method, headers, body, signal });
    } catch (cause) {
      if (timeout.aborted) throw new RoomchatError("timeout", `${method} ${path}: no answer in time`, { cause });
      throw new RoomchatError("network_error", `${method} ${path}: the server cannot be reached`, { cause });
    }
    let parsed: unknown = null;
    try {
      parsed = await response.json();
    } catch {
      parsed = null; // not JSON: said below
    }
    const envelope = (typeof parsed === "object" && parsed !== null ? parsed : {}) as Record<string, unknown>;
    if (response.ok) {
      // Every /api/v1 reply is {status: "success", data}; /healthz and /readyz are bare.
      const data = "data" in envelope && envelope.status === "success" ? envelope.data : parsed;
      return { data: data as T, status: response.status, headers: response.headers };
    }
    throw RoomchatError.fromBody(envelope.error, response.status, response.headers.get("retry-after"));
  }

  url(path: string, query?: Query): string {
    let url = this.baseUrl + path;
    if (query) {
      const params = new URLSearchParams();
      for (const [key, value] of Object.entries(query)) {
        if (value !== undefined && value !== null) params.set(key, String(value));
      }
      const text = params.toString();
      if (text) url += `?${text}`;
    }
    return url;
  }
}

/** Aborts when any of `signals` does (AbortSignal.any is Node 20.3+; this is everywhere). */
function anySignal(signals: AbortSignal[]): AbortSignal {
  const controller = new AbortController();
  for (const signal of signals) {
    if (signal.aborted) {
      controller.abort(signal.reason);
      break;
    }
    signal.addEventListener("abort", () => controller.abort(signal.reason), { once: true });
  }
  return controller.signal;
}
