// Sending through the outbox: one message at a time, in the order queued, while a
// connection is live; again (same client_msg_id) after a drop, a timeout or a passing
// refusal; `failed` after a refusal for good or when sendTimeoutMs has passed.

import { Backoff, type BackoffOptions, sleep } from "./backoff.js";
import { RoomchatError } from "./errors.js";
import { Outbox, type OutboxEntry, type OutboxStorage } from "./outbox.js";
import type { SendOptions } from "./room.js";
import type { Connection } from "./socket.js";
import { unref } from "./tokens.js";
import type { Message } from "./types.js";

/** What the sender needs of its client. */
export interface SenderHost {
  /** The connection to send on now, or null. */
  live(): Connection | null;
  userId(): number | null;
  /** Show the entry (pending, failed) in its room, if joined. */
  show(entry: OutboxEntry): void;
  /** The entry is stored as `message`: replace its optimistic copy. */
  stored(entry: OutboxEntry, message: Message): void;
  /** The entry was dropped from the outbox. */
  discarded(entry: OutboxEntry): void;
  /** Tell the application. */
  settled(entry: OutboxEntry, message: Message | null, error: RoomchatError | null): void;
}

export interface SenderOptions {
  storage: OutboxStorage;
  capacity: number;
  requestTimeoutMs: number;
  sendTimeoutMs: number;
  backoff: BackoffOptions;
}

interface Waiter {
  resolve: (message: Message) => void;
  reject: (error: RoomchatError) => void;
}

export class Sender {
  readonly #outbox: Outbox;
  readonly #host: SenderHost;
  readonly #options: SenderOptions;
  readonly #waiters = new Map<string, Waiter>();
  readonly #timers = new Map<string, ReturnType<typeof setTimeout>>();
  #flushing = false;
  #loaded = false;
  #closed = false;

  constructor(host: SenderHost, options: SenderOptions) {
    this.#host = host;
    this.#options = options;
    this.#outbox = new Outbox(options.storage, options.capacity);
  }

  entries(): OutboxEntry[] {
    return this.#outbox.entries();
  }

  /** Once the user is known: what an earlier run left queued, and entries queued before. */
  async load(userId: number): Promise<void> {
    for (const entry of this.#outbox.entries()) {
      if (entry.user_id === 0) this.#outbox.update(entry.client_msg_id, { user_id: userId });
    }
    if (this.#loaded) return;
    this.#loaded = true;
    for (const entry of await this.#outbox.load(userId)) {
      this.#host.show(entry);
      if (entry.status === "pending") this.#arm(entry);
    }
  }

  send(roomId: number, text: string, options: SendOptions = {}): Promise<Message> {
    if (this.#outbox.full) {
      return Promise.reject(new RoomchatError("overloaded", `${this.#options.capacity} messages wait already`));
    }
    const entry: OutboxEntry = {
      client_msg_id: options.clientMsgId ?? randomId(),
      room_id: roomId,
      message_text: text,
      user_id: this.#host.userId() ?? 0, // set once the user is known (load)
      queued_at: Date.now(),
      status: "pending",
      error: null,
    };
    if (options.content !== undefined) entry.message_content = options.content;
    if (options.threadRootId !== undefined) entry.thread_root_id = options.threadRootId;
    if (options.attachmentIds?.length) entry.attachment_ids = [...options.attachmentIds];
    if (this.#outbox.get(entry.client_msg_id) !== undefined) {
      return Promise.reject(new RoomchatError("conflict", "that client_msg_id is already queued"));
    }
    this.#outbox.add(entry);
    return this.#queued(entry);
  }

  retry(clientMsgId: string): Promise<Message> {
    const entry = this.#outbox.update(clientMsgId, { status: "pending", error: null, queued_at: Date.now() });
    if (entry === undefined) return Promise.reject(new RoomchatError("not_found", "no such queued message"));
    return this.#queued(entry);
  }

  discard(clientMsgId: string): void {
    const entry = this.#outbox.remove(clientMsgId);
    if (entry === undefined) return;
    this.#settle(entry, null, new RoomchatError("client_closed", "discarded"));
    this.#host.discarded(entry);
  }

  /** A new_room_chat_message: one of ours is stored (even if its reply was lost). */
  seen(message: Message): void {
    if (message.client_msg_id === null || message.user_id !== this.#host.userId()) return;
    const entry = this.#outbox.get(message.client_msg_id);
    if (entry !== undefined && entry.room_id === message.room_id) this.#stored(entry, message);
  }

  /** Send what waits, in order, one at a time, while connected. */
  async flush(): Promise<void> {
    if (this.#flushing) return;
    this.#flushing = true;
    try {
      const pause = new Backoff(this.#options.backoff);
      for (;;) {
        const connection = this.#host.live();
        const entry = this.#outbox.pending()[0];
        if (connection === null || entry === undefined || this.#closed) return;
        const payload: Record<string, unknown> = {
          room_id: entry.room_id,
          message_text: entry.message_text,
          client_msg_id: entry.client_msg_id,
        };
        if (entry.message_content !== undefined) payload.message_content = entry.message_content;
        if (entry.thread_root_id !== undefined) payload.thread_root_id = entry.thread_root_id;
        if (entry.attachment_ids !== undefined) payload.attachment_ids = entry.attachment_ids;
        try {
          const timeoutMs = this.#options.requestTimeoutMs;
          const message = (await connection.request("send_room_chat_message", payload, { timeoutMs })) as Message;
          this.#stored(entry, message);
          pause.reset();
        } catch (error) {
          const refused = error instanceof RoomchatError ? error : new RoomchatError("bad_response", String(error));
          if (refused.code === "connection_lost") return; // sent again once reconnected
          if (refused.code === "timeout") {
            connection.abort("send_timeout"); // no answer: a new connection, then again
            return;
          }
          if (refused.code === "rate_limited" || refused.code === "internal_error" || refused.code === "unavailable") {
            await sleep(refused.retryAfterMs ?? pause.next()); // nothing stored, or unknown: again
            continue;
          }
          this.#failed(entry, refused); // refused for good: validation, rights, conflict
        }
      }
    } finally {
      this.#flushing = false;
    }
  }

  /** No more sending; what waits rejects with `error` and stays in the storage. */
  async close(error: RoomchatError): Promise<void> {
    this.#closed = true;
    for (const [id, waiter] of [...this.#waiters]) {
      clearTimeout(this.#timers.get(id));
      waiter.reject(error);
    }
    this.#waiters.clear();
    this.#timers.clear();
    await this.#outbox.flushed();
  }

  #queued(entry: OutboxEntry): Promise<Message> {
    const settled = new Promise<Message>((resolve, reject) => {
      this.#waiters.set(entry.client_msg_id, { resolve, reject });
    });
    this.#host.show(entry);
    this.#arm(entry);
    void this.flush();
    return settled;
  }

  #arm(entry: OutboxEntry): void {
    clearTimeout(this.#timers.get(entry.client_msg_id));
    const timer = setTimeout(() => {
      this.#timers.delete(entry.client_msg_id);
      const now = this.#outbox.get(entry.client_msg_id);
      if (now?.status === "pending") {
        this.#failed(now, new RoomchatError("timeout", "not stored in time; retry() sends it again (never twice)"));
      }
    }, Math.max(0, entry.queued_at + this.#options.sendTimeoutMs - Date.now()));
    unref(timer);
    this.#timers.set(entry.client_msg_id, timer);
  }

  #stored(entry: OutboxEntry, message: Message): void {
    if (this.#outbox.remove(entry.client_msg_id) === undefined) return; // settled already
    this.#host.stored(entry, message);
    this.#settle(entry, message, null);
  }

  #failed(entry: OutboxEntry, error: RoomchatError): void {
    const failed = this.#outbox.update(entry.client_msg_id, {
      status: "failed",
      error: { code: error.code, message: error.message },
    });
    if (failed === undefined) return;
    this.#host.show(failed);
    this.#settle(failed, null, error);
  }

  #settle(entry: OutboxEntry, message: Message | null, error: RoomchatError | null): void {
    clearTimeout(this.#timers.get(entry.client_msg_id));
    this.#timers.delete(entry.client_msg_id);
    const waiter = this.#waiters.get(entry.client_msg_id);
    this.#waiters.delete(entry.client_msg_id);
    if (message !== null) waiter?.resolve(message);
    else if (error !== null) waiter?.reject(error);
    this.#host.settled({ ...entry }, message, error);
  }
}

function randomId(): string {
  const crypto = (globalThis as { crypto?: { randomUUID?: () => string } }).crypto;
  if (typeof crypto?.randomUUID === "function") return crypto.randomUUID();
  return `${Date.now().toString(36)}-${Math.random().toString(36).slice(2)}${Math.random().toString(36).slice(2)}`;
}
