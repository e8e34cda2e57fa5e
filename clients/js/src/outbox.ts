// Messages on their way: each with its client_msg_id, kept (and optionally persisted)
// until the server has stored it, sent again after every reconnection meanwhile. The
// server stores a client_msg_id once per user and room, so a retry never doubles it.

import type { MessageContent } from "./types.js";

export type OutboxStatus = "pending" | "failed";

export interface OutboxEntry {
  client_msg_id: string;
  room_id: number;
  message_text: string;
  message_content?: MessageContent;
  /** A reply in this thread. */
  thread_root_id?: number;
  /** The uploads it attaches. */
  attachment_ids?: number[];
  /** The sender (entries of another user found in a shared storage are left alone). */
  user_id: number;
  /** When it was queued (ms since the epoch). */
  queued_at: number;
  status: OutboxStatus;
  /** Why it failed: the error's code and message. */
  error?: { code: string; message: string } | null;
}

/**
 * Where queued messages are kept. `load` once at connect, `save` after every change with
 * the whole (small, bounded) list. Browser: `webStorageOutbox(localStorage, key)`; the
 * default keeps them in memory for the client's life.
 */
export interface OutboxStorage {
  load(): OutboxEntry[] | Promise<OutboxEntry[]>;
  save(entries: OutboxEntry[]): void | Promise<void>;
}

export function memoryOutbox(): OutboxStorage {
  let kept: OutboxEntry[] = [];
  return {
    load: () => kept.map((entry) => ({ ...entry })),
    save: (entries) => {
      kept = entries.map((entry) => ({ ...entry }));
    },
  };
}

/** A Web Storage (localStorage) under `key`: queued messages survive a page reload. */
export function webStorageOutbox(
  storage: Pick<Storage, "getItem" | "setItem" | "removeItem">,
  key = "roomchat.outbox",
): OutboxStorage {
  return {
    load: () => {
      try {
        const parsed: unknown = JSON.parse(storage.getItem(key) ?? "[]");
        return Array.isArray(parsed) ? (parsed.filter(isEntry) as OutboxEntry[]) : [];
      } catch {
        return []; // damaged: nothing to resend
      }
    },
    save: (entries) => {
      if (entries.length === 0) storage.removeItem(key);
      else storage.setItem(key, JSON.stringify(entries));
    },
  };
}

function isEntry(value: unknown): boolean {
  const entry = value as Partial<OutboxEntry> | null;
  return (
    typeof entry === "object" &&
    entry !== null &&
    typeof entry.client_msg_id === "string" &&
    typeof entry.room_id === "number" &&
    typeof entry.message_text === "string" &&
    typeof entry.user_id === "number" &&
    // Files it attaches: dropping a damaged list would send the message without them.
    (entry.attachment_ids === undefined ||
      (Array.isArray(entry.attachment_ids) && entry.attachment_ids.every((id) => Number.isSafeInteger(id))))
  );
}

/** The queued messages of one user, in the order they were queued. */
export class Outbox {
  readonly #entries = new Map<string, OutboxEntry>();
  readonly #storage: OutboxStorage;
  readonly #capacity: number;
  #saving: Promise<void> = Promise.resolve();

  constructor(storage: OutboxStorage, capacity: number) {
    this.#storage = storage;
    this.#capacity = capacity;
  }

  /** Read what an earlier run left (this user's entries only); returns them. */
  async load(userId: number): Promise<OutboxEntry[]> {
    const loaded = await this.#storage.load();
    for (const entry of loaded) {
      if (entry.user_id === userId && !this.#entries.has(entry.client_msg_id)) {
        this.#entries.set(entry.client_msg_id, { ...entry });
      }
    }
    return this.entries();
  }

  get size(): number {
    return this.#entries.size;
  }

  get full(): boolean {
    return this.#entries.size >= this.#capacity;
  }

  entries(): OutboxEntry[] {
    return [...this.#entries.values()];
  }

  /** The next pending entries, oldest first. */
  pending(): OutboxEntry[] {
    return this.entries().filter((entry) => entry.status === "pending");
  }

  get(clientMsgId: string): OutboxEntry | undefined {
    return this.#entries.get(clientMsgId);
  }

  add(entry: OutboxEntry): void {
    this.#entries.set(entry.client_msg_id, entry);
    this.#save();
  }

  update(clientMsgId: string, change: Partial<OutboxEntry>): OutboxEntry | undefined {
    const entry = this.#entries.get(clientMsgId);
    if (entry === undefined) return undefined;
    Object.assign(entry, change);
    this.#save();
    return entry;
  }

  remove(clientMsgId: string): OutboxEntry | undefined {
    const entry = this.#entries.get(clientMsgId);
    if (entry !== undefined) {
      this.#entries.delete(clientMsgId);
      this.#save();
    }
    return entry;
  }

  /** Resolves once every change so far is saved. */
  flushed(): Promise<void> {
    return this.#saving;
  }

  #save(): void {
    const snapshot = this.entries().map((entry) => ({ ...entry }));
    // One save at a time, in order: a slow storage never sees an older list last.
    this.#saving = this.#saving
      .then(() => this.#storage.save(snapshot))
      .catch((error: unknown) => console.error("roomchat: saving the outbox failed", error));
  }
}
