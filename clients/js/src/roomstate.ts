// A room as a user sees it, kept current by the room's events and signals: messages with
// edits, tombstones and reactions applied, the user's optimistic sends, read state,
// receipts, typing and presence. No I/O: the room handle feeds it.

import type { OutboxEntry } from "./outbox.js";
import type {
  JoinCatchUpData,
  JoinHistoryData,
  Message,
  MessageContent,
  Reaction,
  Room,
  RoomEvent,
  Signal,
  Timestamp,
  User,
} from "./types.js";

export type RoomStatus =
  /** Asked for, no reply yet (or waiting for the connection). */
  | "joining"
  /** Following the room's events. */
  | "joined"
  /** Left, or removed by someone: no more events. */
  | "left"
  /** The room was deleted. */
  | "deleted"
  /** Could not be joined or resumed (`error` says why). */
  | "lost";

/** A message the server has stored. */
export interface SentMessage extends Message {
  status: "sent";
}

/** A message of the user's on its way (`pending`) or refused (`failed`). */
export interface OptimisticMessage {
  status: "pending" | "failed";
  id: null;
  seq: null;
  room_id: number;
  user_id: number;
  user: User | null;
  message_text: string;
  message_content: MessageContent;
  /** A reply's thread (its root's id); null for a top-level message. */
  thread_root_id: number | null;
  /** The uploads it attaches (their objects come with the stored message). */
  attachment_ids: number[];
  client_msg_id: string;
  created_at: Timestamp;
  edited_at: null;
  deleted_at: null;
  reactions: Reaction[];
  /** Why it failed. */
  error: { code: string; message: string } | null;
}

export type TimelineMessage = SentMessage | OptimisticMessage;

export interface RoomState {
  readonly id: number;
  readonly status: RoomStatus;
  /** Why the room was lost, left or deleted, when known. */
  readonly error: { code: string; message: string } | null;
  readonly room: Room | null;
  /** The seq of the last room event applied. */
  readonly seq: number;
  /** Stored messages by seq, then the user's pending and failed ones in sending order. */
  readonly messages: readonly TimelineMessage[];
  /** Older messages exist: `loadOlder()`. */
  readonly hasOlder: boolean;
  readonly lastReadSeq: number | null;
  readonly unreadCount: number | null;
  /** Read receipts of the others: user id -> last read seq. */
  readonly receipts: Readonly<Record<number, number>>;
  /** Who is typing now (never the user). */
  readonly typing: readonly number[];
  /** Who is online in the room; null where the server shows no presence. */
  readonly online: readonly number[] | null;
}

export interface RoomStateLimits {
  maxMessages: number;
  maxReceipts: number;
  typingTimeoutMs: number;
}

export class RoomModel {
  status: RoomStatus = "joining";
  error: { code: string; message: string } | null = null;
  room: Room | null = null;
  seq = 0;
  hasOlder = false;
  lastReadSeq: number | null = null;
  unreadCount: number | null = null;
  online: Set<number> | null = null;

  readonly #bySeq = new Map<number, Message>();
  readonly #seqOfId = new Map<number, number>();
  readonly #pending = new Map<string, OptimisticMessage>();
  readonly #receipts = new Map<number, number>();
  readonly #typing = new Map<number, number>(); // user id -> until (ms)
  #snapshot: RoomState | null = null;

  constructor(
    readonly id: number,
    readonly me: () => User | null,
    readonly limits: RoomStateLimits,
  ) {}

  /** The state now, one object per change (compare by identity to re-render). */
  snapshot(now = Date.now()): RoomState {
    if (this.#snapshot !== null) return this.#snapshot;
    const sent: TimelineMessage[] = [...this.#bySeq.values()]
      .sort((a, b) => a.seq - b.seq)
      .map((message) => ({ ...message, status: "sent" as const }));
    const typing = [...this.#typing].filter(([, until]) => until > now).map(([user]) => user);
    this.#snapshot = Object.freeze({
      id: this.id,
      status: this.status,
      error: this.error,
      room: this.room,
      seq: this.seq,
      messages: Object.freeze([...sent, ...this.#pending.values()]),
      hasOlder: this.hasOlder,
      lastReadSeq: this.lastReadSeq,
      unreadCount: this.unreadCount,
      receipts: Object.freeze(Object.fromEntries(this.#receipts)),
      typing: Object.freeze(typing),
      online: this.online === null ? null : Object.freeze([...this.online].sort((a, b) => a - b)),
    });
    return this.#snapshot;
  }

  changed(): void {
    this.#snapshot = null;
  }

  /** A join reply without after_seq: the room as it is now. */
  reset(data: JoinHistoryData): void {
    this.#bySeq.clear();
    this.#seqOfId.clear();
    this.room = data.room;
    this.seq = data.seq;
    this.hasOlder = data.has_more;
    for (const message of data.messages) this.#put(withDefaults(message));
    this.#trim();
    this.setOnline(data.online_user_ids);
    this.status = "joined";
    this.changed();
  }

  /** A join reply with after_seq: its events are applied one by one after this. */
  resumed(data: JoinCatchUpData): void {
    this.room = data.room;
    this.setOnline(data.online_user_ids);
    this.status = "joined";
    this.changed();
  }

  setOnline(ids: number[] | null | undefined): void {
    this.online = Array.isArray(ids) ? new Set(ids) : null;
    this.changed();
  }

  /** A durable event, the room's next. */
  apply(event: RoomEvent): void {
    this.seq = Math.max(this.seq, event.data.seq);
    switch (event.action) {
      case "new_room_chat_message": {
        const message = withDefaults(event.data);
        this.#put(message);
        this.#typing.delete(message.user_id);
        if (message.client_msg_id !== null && message.user_id === this.me()?.id) {
          this.#pending.delete(message.client_msg_id);
        }
        this.#trim();
        break;
      }
      case "room_chat_message_edited":
        this.#replace(event.data.message);
        break;
      case "room_chat_message_deleted": {
        const { message, message_id: id } = event.data;
        if (message) this.#replace(message);
        else this.#change(id, (old) => ({ ...old, message_text: null, message_content: null, reactions: [], deleted_at: old.deleted_at ?? new Date().toISOString() }));
        break;
      }
      case "room_chat_reaction_added":
      case "room_chat_reaction_removed": {
        const { message, message_id: id, user_id: user, reaction } = event.data;
        if (message) this.#replace(message);
        else this.#change(id, (old) => ({ ...old, reactions: react(old.reactions, reaction, user, event.action === "room_chat_reaction_added") }));
        break;
      }
      case "room_chat_thread_updated":
        this.#replace(event.data.message); // the root, with its thread summary
        break;
      case "room_chat_updated":
        this.room = event.data.room;
        break;
      case "room_member_left":
        this.#receipts.delete(event.data.user_id);
        this.#typing.delete(event.data.user_id);
        if (event.data.user_id === this.me()?.id) this.status = "left";
        break;
      case "room_chat_deleted":
        this.status = "deleted";
        break;
      default:
        break; // room_member_joined, and kinds of a newer server: the seq only
    }
    this.changed();
  }

  /** A signal about this room. */
  signal(signal: Signal, now = Date.now()): void {
    switch (signal.action) {
      case "typing_indicator": {
        const { user_id: user, is_typing: typing } = signal.data;
        if (user === this.me()?.id) return;
        if (typing) this.#typing.set(user, now + this.limits.typingTimeoutMs);
        else this.#typing.delete(user);
        break;
      }
      case "room_presence":
        if (this.online === null) return; // no presence in this room
        if (signal.data.online) this.online.add(signal.data.user_id);
        else this.online.delete(signal.data.user_id);
        break;
      case "room_read_updated":
        this.lastReadSeq = signal.data.last_read_seq;
        this.unreadCount = signal.data.unread_count;
        break;
      case "room_chat_read":
        this.#receipts.delete(signal.data.user_id); // re-inserted: the newest last
        this.#receipts.set(signal.data.user_id, signal.data.last_read_seq);
        if (this.#receipts.size > this.limits.maxReceipts) {
          this.#receipts.delete(this.#receipts.keys().next().value as number);
        }
        break;
      default:
        return;
    }
    this.changed();
  }

  /** The earliest time a typing indicator runs out, or null. */
  nextTypingExpiry(): number | null {
    let next: number | null = null;
    for (const until of this.#typing.values()) next = next === null ? until : Math.min(next, until);
    return next;
  }

  expireTyping(now = Date.now()): boolean {
    let expired = false;
    for (const [user, until] of this.#typing) {
      if (until <= now) {
        this.#typing.delete(user);
        expired = true;
      }
    }
    if (expired) this.changed();
    return expired;
  }

  /** Older messages (a REST page), as they are now. */
  prepend(messages: Message[], hasMore: boolean): void {
    for (const message of messages) {
      if (!this.#seqOfId.has(message.id)) this.#put(withDefaults(message));
    }
    this.hasOlder = hasMore;
    this.changed();
  }

  oldestSeq(): number | null {
    let oldest: number | null = null;
    for (const seq of this.#bySeq.keys()) oldest = oldest === null ? seq : Math.min(oldest, seq);
    return oldest;
  }

  /** A stored message of the user's (the send reply): it replaces its optimistic copy. */
  sent(message: Message): void {
    if (message.client_msg_id !== null) this.#pending.delete(message.client_msg_id);
    // The reply may come before the broadcast, or after a catch-up that carried it.
    if (!this.#seqOfId.has(message.id) && message.seq > (this.oldestSeq() ?? 0)) this.#put(withDefaults(message));
    this.changed();
  }

  /** The user's message on its way, or refused. */
  optimistic(entry: OutboxEntry): void {
    this.#pending.set(entry.client_msg_id, {
      status: entry.status,
      id: null,
      seq: null,
      room_id: entry.room_id,
      user_id: entry.user_id,
      user: this.me(),
      message_text: entry.message_text,
      message_content: entry.message_content ?? null,
      thread_root_id: entry.thread_root_id ?? null,
      attachment_ids: entry.attachment_ids ?? [],
      client_msg_id: entry.client_msg_id,
      created_at: new Date(entry.queued_at).toISOString(),
      edited_at: null,
      deleted_at: null,
      reactions: [],
      error: entry.error ?? null,
    });
    this.changed();
  }

  discard(clientMsgId: string): void {
    if (this.#pending.delete(clientMsgId)) this.changed();
  }

  #put(message: Message): void {
    const old = this.#seqOfId.get(message.id);
    if (old !== undefined && old !== message.seq) this.#bySeq.delete(old);
    this.#bySeq.set(message.seq, message);
    this.#seqOfId.set(message.id, message.seq);
  }

  #replace(message: Message): void {
    // Only a message we hold: one outside the window stays out (loadOlder reads it).
    if (this.#seqOfId.has(message.id)) this.#put(withDefaults(message));
  }

  #change(id: number, change: (old: Message) => Message): void {
    const seq = this.#seqOfId.get(id);
    const old = seq === undefined ? undefined : this.#bySeq.get(seq);
    if (old !== undefined) this.#put(change(old));
  }

  #trim(): void {
    // Bounded: the oldest go first; loadOlder() brings them back.
    if (this.#bySeq.size <= this.limits.maxMessages) return;
    const seqs = [...this.#bySeq.keys()].sort((a, b) => a - b);
    for (const seq of seqs.slice(0, seqs.length - this.limits.maxMessages)) {
      const message = this.#bySeq.get(seq);
      this.#bySeq.delete(seq);
      if (message !== undefined) this.#seqOfId.delete(message.id);
    }
    this.hasOlder = true;
  }
}

/** A message as a newer server sends it: the fields an older one left out, filled in. */
function withDefaults(message: Message): Message {
  return {
    ...message,
    message_content: message.message_content ?? null,
    client_msg_id: message.client_msg_id ?? null,
    edited_at: message.edited_at ?? null,
    deleted_at: message.deleted_at ?? null,
    reactions: message.reactions ?? [],
  };
}

function react(reactions: Reaction[], reaction: string, user: number, add: boolean): Reaction[] {
  const next = reactions.map((entry) => ({ ...entry, user_ids: [...entry.user_ids] }));
  const found = next.find((entry) => entry.reaction === reaction);
  if (add) {
    if (found === undefined) next.push({ reaction, count: 1, user_ids: [user] });
    else if (!found.user_ids.includes(user)) {
      found.count += 1;
      if (found.user_ids.length < 20) found.user_ids.push(user);
    }
    return next;
  }
  if (found === undefined) return next;
  found.count = Math.max(0, found.count - 1);
  found.user_ids = found.user_ids.filter((id) => id !== user);
  return next.filter((entry) => entry.count > 0);
}
