// The client: one WebSocket at a time that survives disconnections, rooms caught up
// exactly once, an outbox of safe sends, and the REST API beside it.

import { Backoff, type BackoffOptions, MAX_RETRY_WAIT_MS, sleep } from "./backoff.js";
import { type DisconnectReason, type Outcome, classifyClose, closedError, outcomeOf, wsUrlFor } from "./closes.js";
import { Emitter } from "./emitter.js";
import { RoomchatError } from "./errors.js";
import { Http } from "./http.js";
import { memoryOutbox, type OutboxEntry } from "./outbox.js";
import { Sender, type SenderHost } from "./sender.js";
import { RestApi } from "./rest.js";
import type { RoomHandle, RoomHost, SendOptions } from "./room.js";
import { Rooms } from "./rooms.js";
import type { EventPage } from "./sequencer.js";
import { type Closed, Connection, type Frame, type ReplyHook, type WebSocketConstructor } from "./socket.js";
import { TokenKeeper, type TokenProvider } from "./tokens.js";
import type { ClientEvents, ClientOptions, ConnectionState, Environment } from "./options.js";
import type { Message, Signal, UnknownBroadcast, User } from "./types.js";

export class RoomchatClient extends Emitter<ClientEvents> implements RoomHost {
  /** Every REST endpoint, with this client's token. */
  readonly rest: RestApi;
  /** The signed-in user, once connected. */
  user: User | null = null;

  readonly #options: Required<
    Pick<
      ClientOptions,
      | "heartbeatIntervalMs"
      | "heartbeatTimeoutMs"
      | "requestTimeoutMs"
      | "sendTimeoutMs"
      | "maxMessagesPerRoom"
      | "maxQueuedMessages"
      | "typingTimeoutMs"
    >
  >;
  readonly #wsUrl: string;
  readonly #WebSocket: WebSocketConstructor;
  readonly #backoffOptions: BackoffOptions;
  readonly #tokens: TokenKeeper;
  readonly #sender: Sender;
  readonly #rooms: Rooms;
  readonly #environment: Environment | null;

  #state: ConnectionState = "disconnected";
  #reason: DisconnectReason | null = null;
  #started: Promise<void> | null = null;
  #everConnected = false;
  #connection: Connection | null = null;
  #live: Connection | null = null;
  #liveWaiters = new Set<{ resolve: (c: Connection) => void; reject: (e: RoomchatError) => void }>();
  #closedFor: DisconnectReason | null = null;
  #wake: (() => void) | null = null;
  #refreshNext = false;
  /** The token the current socket's ticket was taken with. */
  #socketToken: string | null = null;
  #unlisten: (() => void) | null = null;
  #closing: Promise<void> = Promise.resolve();

  constructor(options: ClientOptions) {
    super();
    const WebSocketImpl = options.WebSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
    if (WebSocketImpl === undefined) throw new TypeError("no WebSocket here: pass options.WebSocket (Node.js: the ws package)");
    if (options.token === undefined && options.getToken === undefined) throw new TypeError("give a token or getToken");
    this.#WebSocket = WebSocketImpl;
    this.#options = {
      heartbeatIntervalMs: options.heartbeatIntervalMs ?? 25_000,
      heartbeatTimeoutMs: options.heartbeatTimeoutMs ?? 10_000,
      requestTimeoutMs: options.requestTimeoutMs ?? 10_000,
      sendTimeoutMs: options.sendTimeoutMs ?? 120_000,
      maxMessagesPerRoom: options.maxMessagesPerRoom ?? 1000,
      maxQueuedMessages: options.maxQueuedMessages ?? 500,
      typingTimeoutMs: options.typingTimeoutMs ?? 6000,
    };
    this.#backoffOptions = options.backoff ?? {};
    this.#wsUrl = options.wsUrl ?? wsUrlFor(options.baseUrl);
    const http = new Http({
      baseUrl: options.baseUrl,
      ...(options.fetch ? { fetch: options.fetch } : {}),
      bearer: { get: () => this.#tokens.get(), rejected: (token) => this.#tokens.rejected(token) },
    });
    this.rest = new RestApi(http);
    const provider = options.getToken ?? this.#refreshProvider();
    this.#tokens = new TokenKeeper({
      provider,
      initial: options.token ?? null,
      ...(options.refreshMarginMs === undefined ? {} : { refreshMarginMs: options.refreshMarginMs }),
      onToken: (token, expiresAt) => this.emit("token", { token, expiresAt }),
      onRefreshError: (error) => this.#warn("renewing the token failed (tried again on next use)", error),
    });
    this.#rooms = new Rooms(
      {
        user: () => this.user,
        queued: () => this.#sender.entries(),
        seen: (message) => this.#sender.seen(message),
        readPage: (roomId, afterSeq) => this.#readPage(roomId, afterSeq),
        event: (roomId, event) => this.emit("event", { roomId, event }),
        lost: (roomId, error) => this.emit("roomLost", { roomId, error }),
        warn: (message, error) => this.#warn(message, error),
      },
      this,
      {
        requestTimeoutMs: this.#options.requestTimeoutMs,
        maxMessagesPerRoom: this.#options.maxMessagesPerRoom,
        typingTimeoutMs: this.#options.typingTimeoutMs,
        backoff: this.#backoffOptions,
      },
    );
    this.#sender = new Sender(this.#senderHost(), {
      storage: options.outbox ?? memoryOutbox(),
      capacity: this.#options.maxQueuedMessages,
      requestTimeoutMs: this.#options.requestTimeoutMs,
      sendTimeoutMs: this.#options.sendTimeoutMs,
      backoff: this.#backoffOptions,
    });
    this.#environment =
      options.environment === undefined ? (globalThis as unknown as Environment) : options.environment;
  }

  /** Sign in with a username and password; the client holds the session's token. */
  static async login(options: Omit<ClientOptions, "token" | "getToken"> & { username: string; password: string }): Promise<RoomchatClient> {
    const { username, password, ...rest } = options;
    const anonymous = new RestApi({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
    const session = await anonymous.login({ username, password });
    const client = new RoomchatClient({ ...rest, token: { token: session.access_token, expiresIn: session.expires_in } });
    client.user = session.user as User;
    return client;
  }

  /** Create an account and sign in with it. */
  static async register(
    options: Omit<ClientOptions, "token" | "getToken"> & { username: string; password: string; displayName?: string },
  ): Promise<RoomchatClient> {
    const { username, password, displayName, ...rest } = options;
    const anonymous = new RestApi({ baseUrl: options.baseUrl, ...(options.fetch ? { fetch: options.fetch } : {}) });
    const body = displayName === undefined ? { username, password } : { username, password, display_name: displayName };
    const session = await anonymous.register(body);
    const client = new RoomchatClient({ ...rest, token: { token: session.access_token, expiresIn: session.expires_in } });
    client.user = session.user as User;
    return client;
  }

  get state(): ConnectionState {
    return this.#state;
  }

  /** Why the client is not connected (or was not, last time). */
  get reason(): DisconnectReason | null {
    return this.#reason;
  }

  /** The access token in use (renewed before it expires). */
  get token(): string | null {
    return this.#tokens.current;
  }

  get rooms(): RoomHandle[] {
    return this.#rooms.handles();
  }

  room(roomId: number): RoomHandle | undefined {
    return this.#rooms.get(roomId);
  }

  /** The messages waiting to be stored (or failed), oldest first. */
  get outbox(): OutboxEntry[] {
    return this.#sender.entries();
  }

  /** Connect; resolves once connected the first time. Rejects if the client closes for
   * good first (a revoked token, say); from then on it reconnects by itself. */
  connect(): Promise<void> {
    if (this.#closedFor) return Promise.reject(closedError(this.#closedFor));
    if (this.#started === null) {
      this.#listenToEnvironment();
      void this.#run();
      this.#started = this.#liveConnection(Number.POSITIVE_INFINITY).then(() => undefined);
    }
    return this.#started;
  }

  /** Connect if not yet started; a failure shows in `state` (and in what waits). */
  #start(): void {
    if (this.#started === null && this.#closedFor === null) this.connect().catch(() => {});
  }

  /** Disconnect and stop for good. Queued messages stay in the outbox's storage. */
  async close(): Promise<void> {
    this.#finish({ code: "client_closed", closeCode: null, message: "the client was closed", final: true });
    await this.#closing;
  }

  /** Sign out: the session is revoked on the server (`all`: every session), then close. */
  async logout(options: { all?: boolean } = {}): Promise<void> {
    try {
      await this.rest.logout({ all: options.all ?? false });
    } finally {
      this.#finish({ code: "token_revoked", closeCode: null, message: "signed out", final: true });
    }
  }

  /** Drop the connection now (the network changed, say): reconnect and catch up. */
  reconnect(): void {
    this.#connection?.abort("reconnect");
  }

  /** Waiting in `disconnected`: try at once. */
  reconnectNow(): void {
    this.#wake?.();
  }

  /** Join a room and follow it: its state, its events exactly once, across reconnects. */
  async join(roomId: number, options: { passcode?: string } = {}): Promise<RoomHandle> {
    if (this.#closedFor) throw closedError(this.#closedFor);
    this.#start(); // a final close rejects the join
    const room = await this.#rooms.join(roomId, options.passcode, this.#live);
    // Joined while (re)connecting: the other rooms are being resumed; return once the
    // client is connected, so that sending and requests go out at once.
    if (this.#live === null) await this.#liveConnection(this.#options.requestTimeoutMs).catch(() => {});
    return room;
  }

  /** Stop following a room (the membership stays). */
  async leave(roomId: number): Promise<void> {
    this.#rooms.forget(roomId);
    if (this.#live !== null) await this.request("leave_room_chat", { room_id: roomId }).catch(() => {});
  }

  /** Queue a message: it is sent (again after every drop) until the server stored it. */
  send(roomId: number, text: string, options: SendOptions = {}): Promise<Message> {
    if (this.#closedFor) return Promise.reject(closedError(this.#closedFor));
    this.#start();
    return this.#sender.send(roomId, text, options);
  }

  /** Send a failed message again, with its client_msg_id. */
  retry(clientMsgId: string): Promise<Message> {
    if (this.#closedFor) return Promise.reject(closedError(this.#closedFor));
    return this.#sender.retry(clientMsgId);
  }

  /** Forget a queued message (it may have been stored already if it was in flight). */
  discard(clientMsgId: string): void {
    this.#sender.discard(clientMsgId);
  }

  /** Any action of docs/protocol.md; the reply's `data`. Waits (within requestTimeoutMs)
   * for the connection; a rate limit is waited out and retried; a drop before the reply
   * rejects with `connection_lost` (the outcome is then unknown). */
  async request(action: string, payload: Record<string, unknown>, options: { onReply?: ReplyHook } = {}): Promise<unknown> {
    this.#start();
    for (let waits = 0; ; waits++) {
      const connection = await this.#liveConnection(this.#options.requestTimeoutMs);
      try {
        return await connection.request(action, payload, { timeoutMs: this.#options.requestTimeoutMs, ...options });
      } catch (error) {
        // A short limit is waited out; a long one (a passcode lockout: the window) is the caller's.
        const wait = error instanceof RoomchatError ? (error.retryAfterMs ?? 1000) : Infinity;
        if (error instanceof RoomchatError && error.code === "rate_limited" && waits < 3 && wait <= MAX_RETRY_WAIT_MS) {
          await sleep(wait);
          continue;
        }
        throw error;
      }
    }
  }

  /** @internal RoomHost */
  async olderMessages(roomId: number, beforeSeq: number | null, limit: number): Promise<{ messages: Message[]; has_more: boolean }> {
    const query = beforeSeq === null ? { limit } : { before_seq: beforeSeq, limit };
    return (await this.rest.listMessages(roomId, query)) as { messages: Message[]; has_more: boolean };
  }

  // -- the connection's life -------------------------------------------------------------

  async #run(): Promise<void> {
    const pause = new Backoff(this.#backoffOptions);
    let credentialTries = 0;
    while (this.#closedFor === null) {
      this.#setState(this.#everConnected ? "recovering" : "connecting", this.#reason);
      let outcome: Outcome;
      let served = false;
      try {
        const connection = await this.#open();
        served = true;
        outcome = await this.#serve(connection, pause);
      } catch (error) {
        outcome = outcomeOf(error);
      }
      if (this.#closedFor !== null) return;
      this.#reason = outcome.reason;
      if (outcome.kind === "final") {
        this.#finish(outcome.reason);
        return;
      }
      if (this.#state === "connected") credentialTries = 0;
      if (outcome.kind === "credential" && credentialTries < 2) {
        // A fresh ticket (and token) at once: not a failure of the network. The token is
        // renewed unless it was only the ticket, or the token was renewed meanwhile.
        credentialTries += 1;
        this.#refreshNext = outcome.reason.code !== "ticket_used" && this.#tokens.current === this.#socketToken;
        if (served) continue;
      }
      const delay = pause.next();
      this.#setState("disconnected", outcome.reason, delay);
      await this.#pause(delay);
    }
  }

  /** A ticket (with a token good for now), then the socket. */
  async #open(): Promise<Connection> {
    if (this.#refreshNext) {
      this.#refreshNext = false;
      await this.#tokens.refresh("rejected");
    }
    if (this.user === null) this.user = (await this.rest.me()) as User;
    await this.#sender.load(this.user.id);
    const { ticket } = await this.rest.wsTicket();
    this.#socketToken = this.#tokens.current;
    const separator = this.#wsUrl.includes("?") ? "&" : "?";
    return Connection.open(this.#WebSocket, `${this.#wsUrl}${separator}ticket=${encodeURIComponent(ticket)}`, {
      openTimeoutMs: this.#options.requestTimeoutMs,
    });
  }

  async #serve(connection: Connection, pause: Backoff): Promise<Outcome> {
    this.#connection = connection;
    connection.onFrame = (frame) => this.#dispatch(frame);
    connection.startHeartbeat(this.#options.heartbeatIntervalMs, this.#options.heartbeatTimeoutMs);
    if (this.#closedFor !== null) connection.close();
    try {
      const resumed = await this.#rooms.resume(connection);
      if (resumed && connection.isOpen && this.#closedFor === null) {
        const reconnected = this.#everConnected;
        this.#everConnected = true;
        this.#live = connection;
        pause.reset();
        this.#reason = null;
        this.#setState("connected", null);
        this.emit("connected", { reconnected });
        for (const waiter of [...this.#liveWaiters]) waiter.resolve(connection);
        this.#liveWaiters.clear();
        void this.#sender.flush();
      }
      const closed: Closed = await connection.closed;
      return classifyClose(closed.code, closed.reason);
    } finally {
      this.#live = null;
      this.#connection = null;
    }
  }

  #dispatch(frame: Frame): void {
    // A reply to a request that is no longer waited for (it timed out): never an event,
    // though a send's reply carries a room_id and a seq as new_room_chat_message does.
    if (frame.request_id != null) return;
    if (frame.status === "error") {
      this.#warn(`an error reply to no request of ours (${String(frame.action)})`, frame.error);
      return;
    }
    if (frame.action === "pong") return;
    if (this.#rooms.offer(frame)) return; // a room event: handed over in order
    const signal = { action: String(frame.action), data: frame.data } as Signal | UnknownBroadcast;
    this.emit("signal", signal);
  }

  #readPage(roomId: number, afterSeq: number): Promise<EventPage> {
    return this.rest.roomEvents(roomId, { after_seq: afterSeq, limit: 100 }) as Promise<EventPage>;
  }

  // -- the outbox's rooms ------------------------------------------------------------------

  #senderHost(): SenderHost {
    return {
      live: () => this.#live,
      userId: () => this.user?.id ?? null,
      show: (entry) => this.#rooms.showQueued(entry),
      stored: (entry, message) => this.#rooms.stored(entry, message),
      discarded: (entry) => this.#rooms.discarded(entry),
      settled: (entry, message, error) => this.emit("outbox", { entry, message, error }),
    };
  }

  // -- state -------------------------------------------------------------------------------

  #setState(state: ConnectionState, reason: DisconnectReason | null, retryInMs: number | null = null): void {
    const previous = this.#state;
    if (previous === state && state !== "disconnected") return;
    this.#state = state;
    this.emit("state", { state, previous, reason, retryInMs });
  }

  /** Wait `ms`, or less if woken (online, visible, reconnectNow, close). */
  async #pause(ms: number): Promise<void> {
    const wake = new AbortController();
    this.#wake = () => wake.abort();
    await sleep(ms, wake.signal);
    this.#wake = null;
  }

  /** The live connection, waiting up to `timeoutMs` for it. */
  #liveConnection(timeoutMs: number): Promise<Connection> {
    if (this.#closedFor) return Promise.reject(closedError(this.#closedFor));
    if (this.#live !== null) return Promise.resolve(this.#live);
    return new Promise((resolve, reject) => {
      const waiter = {
        resolve: (connection: Connection) => {
          clearTimeout(timer);
          resolve(connection);
        },
        reject: (error: RoomchatError) => {
          clearTimeout(timer);
          reject(error);
        },
      };
      const timer = Number.isFinite(timeoutMs)
        ? setTimeout(() => {
            this.#liveWaiters.delete(waiter);
            reject(new RoomchatError("timeout", "not connected in time"));
          }, timeoutMs)
        : undefined;
      this.#liveWaiters.add(waiter);
    });
  }

  #finish(reason: DisconnectReason): void {
    if (this.#closedFor !== null) return;
    this.#closedFor = reason;
    this.#reason = reason;
    const error = closedError(reason);
    this.#tokens.stop(error);
    this.#rooms.close(error);
    this.#connection?.close();
    this.#wake?.();
    for (const waiter of [...this.#liveWaiters]) waiter.reject(error);
    this.#liveWaiters.clear();
    this.#closing = this.#sender.close(error); // queued messages stay in the storage
    this.#unlisten?.();
    this.#setState("closed", reason);
  }

  #listenToEnvironment(): void {
    const environment = this.#environment;
    if (environment === null) return;
    const wake = () => this.#wake?.();
    const visible = () => {
      if (environment.document?.visibilityState !== "visible") return;
      this.#wake?.(); // back in front: do not wait out a long backoff
    };
    environment.addEventListener?.("online", wake);
    environment.document?.addEventListener?.("visibilitychange", visible);
    this.#unlisten = () => {
      environment.removeEventListener?.("online", wake);
      environment.document?.removeEventListener?.("visibilitychange", visible);
    };
  }

  #warn(message: string, error: unknown): void {
    this.emit("warning", { message, error });
  }

  #refreshProvider(): TokenProvider {
    // The default: renew the current token with POST /api/v1/auth/refresh.
    return async ({ current }) => {
      if (current === null) throw new RoomchatError("unauthorized", "no token to renew");
      const session = await this.rest.refresh(current);
      return { token: session.access_token, expiresIn: session.expires_in };
    };
  }
}
