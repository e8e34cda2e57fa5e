// A joined room: its state (room.state), its events (room.on), and what can be done in it.

import { Emitter } from "./emitter.js";
import type { RoomchatError } from "./errors.js";
import type { RoomModel, RoomState, RoomStatus } from "./roomstate.js";
import type { Message, MessageContent, ReadReplyData, RoomEvent, Signal, ThreadPositionData } from "./types.js";

export interface RoomEvents {
  /** The state changed: `room.state` is a new object. */
  change: RoomState;
  /** A durable room event, each once, in seq order (live, caught up or fetched). */
  event: RoomEvent;
  /** A new message (also in `event`, as `new_room_chat_message`). */
  message: Message;
  /** A signal about the room: typing, presence, receipts, read state. */
  signal: Signal;
  /** The room was left, deleted, or lost (`state.error` says why). */
  status: RoomStatus;
}

export interface SendOptions {
  /** Rich content: a string or a JSON object (at most 16 KiB). */
  content?: MessageContent;
  /** Your own id for the message (1-64 characters); a UUID otherwise. */
  clientMsgId?: string;
  /** A reply in the thread of this top-level message. */
  threadRootId?: number;
  /** Files to attach: your own uploads to this room not yet in a message, at most 10
   * (`rest.uploadAttachment`); the text may then be empty. Kept with the queued message,
   * so a file message waits out a lost connection like any other. */
  attachmentIds?: number[];
}

/** What a room needs of its client. */
export interface RoomHost {
  request(action: string, payload: Record<string, unknown>): Promise<unknown>;
  send(roomId: number, text: string, options?: SendOptions): Promise<Message>;
  retry(clientMsgId: string): Promise<Message>;
  discard(clientMsgId: string): void;
  leave(roomId: number): Promise<void>;
  olderMessages(roomId: number, beforeSeq: number | null, limit: number): Promise<{ messages: Message[]; has_more: boolean }>;
}

const TYPING_REPEAT_MS = 3000;

export class RoomHandle extends Emitter<RoomEvents> {
  readonly id: number;
  readonly #model: RoomModel;
  readonly #host: RoomHost;
  #typingSentAt = 0;
  #typingNow = false;
  #typingTimer: ReturnType<typeof setTimeout> | undefined;

  /** @internal Made by the client: `client.join(roomId)`. */
  constructor(model: RoomModel, host: RoomHost) {
    super();
    this.id = model.id;
    this.#model = model;
    this.#host = host;
  }

  /** The room as it is now (a new frozen object after every change). */
  get state(): RoomState {
    return this.#model.snapshot();
  }

  /** Send a message. It shows at once in `state.messages` as `pending`, is sent again
   * after any drop until the server has it (stored once), and the promise resolves with
   * the stored message. Refused (validation, rights): `failed`, and the promise rejects. */
  send(text: string, options: SendOptions = {}): Promise<Message> {
    return this.#host.send(this.id, text, options);
  }

  /** Send a failed message again (same client_msg_id: never stored twice). */
  retry(clientMsgId: string): Promise<Message> {
    return this.#host.retry(clientMsgId);
  }

  /** Drop a failed (or pending) message from the outbox and the state. */
  discard(clientMsgId: string): void {
    this.#host.discard(clientMsgId);
  }

  async edit(messageId: number, text: string, options: { content?: MessageContent } = {}): Promise<Message> {
    const payload: Record<string, unknown> = { room_id: this.id, message_id: messageId, message_text: text };
    if (options.content !== undefined) payload.message_content = options.content;
    const data = (await this.#host.request("edit_room_chat_message", payload)) as { message: Message };
    return data.message;
  }

  async delete(messageId: number): Promise<void> {
    await this.#host.request("delete_room_chat_message", { room_id: this.id, message_id: messageId });
  }

  /** Add a reaction; whether anything changed. */
  async react(messageId: number, reaction: string): Promise<boolean> {
    const payload = { room_id: this.id, message_id: messageId, reaction };
    return ((await this.#host.request("add_room_chat_reaction", payload)) as { changed: boolean }).changed;
  }

  /** Remove your reaction; whether anything changed. */
  async unreact(messageId: number, reaction: string): Promise<boolean> {
    const payload = { room_id: this.id, message_id: messageId, reaction };
    return ((await this.#host.request("remove_room_chat_reaction", payload)) as { changed: boolean }).changed;
  }

  /** Say you are typing (repeated at most every 3 s), or stopped. */
  async typing(isTyping = true): Promise<void> {
    const now = Date.now();
    if (isTyping && this.#typingNow && now - this.#typingSentAt < TYPING_REPEAT_MS) return;
    if (!isTyping && !this.#typingNow) return;
    this.#typingNow = isTyping;
    this.#typingSentAt = now;
    await this.#host.request("typing_indicator", { room_id: this.id, is_typing: isTyping });
  }

  /** Read up to `seq` (default: everything applied); the read state after it. */
  async markRead(seq: number = this.#model.seq): Promise<ReadReplyData> {
    return this.#read("mark_room_read", seq);
  }

  /** Unread from the message with `seq` on. */
  async markUnread(seq: number): Promise<ReadReplyData> {
    return this.#read("mark_room_unread", seq);
  }

  /** Load up to `limit` older messages into `state.messages`; those loaded. */
  async loadOlder(limit = 50): Promise<Message[]> {
    const oldest = this.#model.oldestSeq();
    const before = oldest ?? (this.#model.seq > 0 ? this.#model.seq + 1 : null);
    if (before === null || before <= 1) {
      this.#model.prepend([], false);
      this.#changed();
      return [];
    }
    const page = await this.#host.olderMessages(this.id, before, limit);
    this.#model.prepend(page.messages, page.has_more);
    this.#changed();
    return page.messages;
  }

  /** Follow a thread: its unread replies count (`thread_unread`). */
  async followThread(rootId: number): Promise<ThreadPositionData> {
    return (await this.#host.request("follow_thread", { room_id: this.id, thread_root_id: rootId })) as ThreadPositionData;
  }

  async unfollowThread(rootId: number): Promise<ThreadPositionData> {
    return (await this.#host.request("unfollow_thread", { room_id: this.id, thread_root_id: rootId })) as ThreadPositionData;
  }

  /** Read a thread up to `seq`. */
  async markThreadRead(rootId: number, seq: number): Promise<ThreadPositionData> {
    const payload = { room_id: this.id, thread_root_id: rootId, seq };
    return (await this.#host.request("mark_thread_read", payload)) as ThreadPositionData;
  }

  /** Stop following the room on this client (the membership stays). */
  leave(): Promise<void> {
    return this.#host.leave(this.id);
  }

  // -- fed by the client -----------------------------------------------------------

  /** @internal */
  applyEvent(event: RoomEvent): void {
    const before = this.#model.status;
    this.#model.apply(event);
    this.#changed();
    this.emit("event", event);
    if (event.action === "new_room_chat_message") this.emit("message", event.data);
    if (this.#model.status !== before) this.emit("status", this.#model.status);
  }

  /** @internal */
  applySignal(signal: Signal): void {
    this.#model.signal(signal);
    if (signal.action === "typing_indicator") this.#scheduleTypingExpiry();
    this.#changed();
    this.emit("signal", signal);
  }

  /** @internal */
  setStatus(status: RoomStatus, error: RoomchatError | null = null): void {
    if (this.#model.status === status) return;
    this.#model.status = status;
    this.#model.error = error === null ? null : { code: error.code, message: error.message };
    this.#model.changed();
    this.#changed();
    this.emit("status", status);
  }

  /** @internal A change made on the model by the client. */
  changedByClient(): void {
    this.#changed();
  }

  /** @internal */
  dispose(): void {
    clearTimeout(this.#typingTimer);
  }

  async #read(action: string, seq: number): Promise<ReadReplyData> {
    const data = (await this.#host.request(action, { room_id: this.id, seq })) as ReadReplyData;
    this.#model.lastReadSeq = data.last_read_seq;
    this.#model.unreadCount = data.unread_count;
    this.#model.changed();
    this.#changed();
    return data;
  }

  #scheduleTypingExpiry(): void {
    clearTimeout(this.#typingTimer);
    const next = this.#model.nextTypingExpiry();
    if (next === null) return;
    this.#typingTimer = setTimeout(() => {
      if (this.#model.expireTyping()) this.#changed();
      this.#scheduleTypingExpiry();
    }, Math.max(0, next - Date.now()) + 5);
    (this.#typingTimer as { unref?: () => void }).unref?.();
  }

  #changed(): void {
    if (this.listenerCount("change") > 0) this.emit("change", this.#model.snapshot());
  }
}
