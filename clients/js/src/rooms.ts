// The rooms a client follows: joined (and joined again after every reconnect, caught up
// from their last seq), their events handed to their handles once each, in order.

import { Backoff, type BackoffOptions, MAX_RETRY_WAIT_MS, sleep } from "./backoff.js";
import { RoomchatError } from "./errors.js";
import type { OutboxEntry } from "./outbox.js";
import { RoomHandle, type RoomHost } from "./room.js";
import { RoomModel } from "./roomstate.js";
import { type EventPage, Sequencer } from "./sequencer.js";
import type { Connection, Frame } from "./socket.js";
import type { JoinCatchUpData, JoinHistoryData, Message, RoomEvent, Signal, User } from "./types.js";

export interface RoomsHost {
  user(): User | null;
  /** The outbox's entries, to show a joined room's pending messages. */
  queued(): OutboxEntry[];
  /** A new message: one of ours may be stored (its reply lost). */
  seen(message: Message): void;
  readPage(roomId: number, afterSeq: number): Promise<EventPage>;
  event(roomId: number, event: RoomEvent): void;
  lost(roomId: number, error: RoomchatError): void;
  warn(message: string, error: unknown): void;
}

export interface RoomsOptions {
  requestTimeoutMs: number;
  maxMessagesPerRoom: number;
  typingTimeoutMs: number;
  backoff: BackoffOptions;
}

interface Followed {
  handle: RoomHandle;
  model: RoomModel;
  passcode: string | undefined;
  /** Settles the first join. */
  joined: { resolve: (room: RoomHandle) => void; reject: (error: RoomchatError) => void } | null;
}

export class Rooms {
  readonly #followed = new Map<number, Followed>();
  readonly #sequencer: Sequencer;
  readonly #host: RoomsHost;
  readonly #roomHost: RoomHost;
  readonly #options: RoomsOptions;

  constructor(host: RoomsHost, roomHost: RoomHost, options: RoomsOptions) {
    this.#host = host;
    this.#roomHost = roomHost;
    this.#options = options;
    this.#sequencer = new Sequencer(
      {
        deliver: (roomId, event) => this.#deliver(roomId, event),
        readPage: (roomId, afterSeq) => host.readPage(roomId, afterSeq),
        lost: (roomId, error) => this.#lost(roomId, error),
        warn: (message, error) => host.warn(message, error),
      },
      () => new Backoff(options.backoff),
    );
  }

  handles(): RoomHandle[] {
    return [...this.#followed.values()].map((room) => room.handle);
  }

  get(roomId: number): RoomHandle | undefined {
    return this.#followed.get(roomId)?.handle;
  }

  /** Follow a room; joined now on `live`, or by the next resume. */
  join(roomId: number, passcode: string | undefined, live: Connection | null): Promise<RoomHandle> {
    const known = this.#followed.get(roomId);
    if (known !== undefined && known.model.status === "joined") return Promise.resolve(known.handle);
    if (known?.joined) {
      const first = known.joined;
      return new Promise((resolve, reject) => {
        known.joined = {
          resolve: (room) => (first.resolve(room), resolve(room)),
          reject: (error) => (first.reject(error), reject(error)),
        };
      });
    }
    const model = new RoomModel(roomId, () => this.#host.user(), {
      maxMessages: this.#options.maxMessagesPerRoom,
      maxReceipts: 1000,
      typingTimeoutMs: this.#options.typingTimeoutMs,
    });
    const followed: Followed = { handle: new RoomHandle(model, this.#roomHost), model, passcode, joined: null };
    this.#followed.set(roomId, followed);
    const joined = new Promise<RoomHandle>((resolve, reject) => {
      followed.joined = { resolve, reject };
    });
    if (live !== null) void this.#join(live, roomId, followed);
    return joined;
  }

  /** Stop following a room here. */
  forget(roomId: number): void {
    const followed = this.#followed.get(roomId);
    this.#followed.delete(roomId);
    this.#sequencer.forget(roomId);
    // A join still on its way settles: left before it was joined.
    followed?.joined?.reject(new RoomchatError("client_closed", "left before it was joined"));
    if (followed) followed.joined = null;
    followed?.handle.setStatus("left");
    followed?.handle.dispose();
  }

  /** Join every followed room on a new connection: with after_seq where it was joined,
   * plainly where the first join never got its reply. False if the connection failed. */
  async resume(connection: Connection): Promise<boolean> {
    const done = new Set<Followed>();
    for (;;) {
      // Rooms joined meanwhile are taken too: the client is live only once all are.
      const next = [...this.#followed].find(([, followed]) => !done.has(followed));
      if (next === undefined || !connection.isOpen) return connection.isOpen;
      const [roomId, followed] = next;
      done.add(followed);
      if (!(await this.#join(connection, roomId, followed))) return false;
    }
  }

  /** A broadcast: a room event (sequenced) or a signal; false for neither of ours. */
  offer(frame: Frame): boolean {
    if (this.#sequencer.offer(frame)) return true;
    const roomId = (frame.data as { room_id?: unknown } | undefined)?.room_id;
    const followed = typeof roomId === "number" ? this.#followed.get(roomId) : undefined;
    if (followed?.model.status === "joined") followed.handle.applySignal(frame as unknown as Signal);
    return false;
  }

  /** Show an outbox entry (pending, failed) in its room. */
  showQueued(entry: OutboxEntry): void {
    const room = this.#followed.get(entry.room_id);
    if (room === undefined || room.model.status !== "joined") return;
    room.model.optimistic(entry);
    room.handle.changedByClient();
  }

  stored(entry: OutboxEntry, message: Message): void {
    const room = this.#followed.get(entry.room_id);
    room?.model.sent(message);
    room?.handle.changedByClient();
  }

  discarded(entry: OutboxEntry): void {
    const room = this.#followed.get(entry.room_id);
    room?.model.discard(entry.client_msg_id);
    room?.handle.changedByClient();
  }

  /** The client closed: what waits for a join learns it; no more repairs. */
  close(error: RoomchatError): void {
    this.#sequencer.close();
    for (const followed of this.#followed.values()) {
      followed.joined?.reject(error);
      followed.joined = null;
      followed.handle.dispose();
    }
  }

  /** One room's join on `connection`; false if the connection failed under it. */
  async #join(connection: Connection, roomId: number, followed: Followed): Promise<boolean> {
    const afterSeq = this.#sequencer.position(roomId);
    const payload: Record<string, unknown> = { room_id: roomId };
    if (afterSeq !== null) payload.after_seq = afterSeq;
    else if (followed.passcode !== undefined) payload.passcode = followed.passcode;
    const pause = new Backoff(this.#options.backoff);
    for (;;) {
      try {
        await connection.request("join_room_chat", payload, {
          timeoutMs: this.#options.requestTimeoutMs,
          onReply: (frame) => this.#joined(roomId, followed, afterSeq, frame),
        });
        followed.joined?.resolve(followed.handle);
        followed.joined = null;
        return true;
      } catch (error) {
        const refused = error instanceof RoomchatError ? error : new RoomchatError("bad_response", String(error));
        if (refused.code === "rate_limited" && (refused.retryAfterMs ?? 0) <= MAX_RETRY_WAIT_MS) {
          await sleep(refused.retryAfterMs ?? pause.next()); // many rooms: joins are paced
          if (!connection.isOpen) return false;
          continue;
        }
        if (refused.code === "connection_lost") return false;
        if (refused.code === "timeout") {
          connection.abort("join_timeout"); // the server stopped answering: a new connection
          return false;
        }
        // Refused (removed while away, a wrong passcode, a deleted room): not ours any more.
        if (this.#followed.get(roomId) === followed) this.#lost(roomId, refused);
        return true;
      }
    }
  }

  /** A join reply, applied in the reader before the room's next broadcast. */
  #joined(roomId: number, followed: Followed, afterSeq: number | null, frame: Frame): void {
    if (frame.status !== "success" || this.#followed.get(roomId) !== followed) return;
    if (afterSeq === null) {
      const data = frame.data as JoinHistoryData;
      this.#sequencer.follow(roomId, data.seq);
      followed.model.reset(data);
      for (const entry of this.#host.queued()) if (entry.room_id === roomId) followed.model.optimistic(entry);
    } else {
      const data = frame.data as JoinCatchUpData;
      followed.model.resumed(data);
      this.#sequencer.caughtUp(roomId, afterSeq, data);
    }
    followed.handle.changedByClient();
  }

  #deliver(roomId: number, event: RoomEvent): void {
    const followed = this.#followed.get(roomId);
    if (event.action === "new_room_chat_message") this.#host.seen(event.data);
    followed?.handle.applyEvent(event);
    this.#host.event(roomId, event);
    const gone =
      event.action === "room_chat_deleted" ||
      (event.action === "room_member_left" && event.data.user_id === this.#host.user()?.id);
    if (gone) {
      // The server sends nothing more of it, and a reconnect must not join it again.
      this.#sequencer.forget(roomId);
      if (this.#followed.get(roomId) === followed) this.#followed.delete(roomId);
      followed?.handle.dispose();
    }
  }

  #lost(roomId: number, error: RoomchatError): void {
    const followed = this.#followed.get(roomId);
    if (followed === undefined) return;
    this.#sequencer.forget(roomId);
    this.#followed.delete(roomId);
    followed.handle.setStatus("lost", error);
    followed.joined?.reject(error);
    followed.joined = null;
    this.#host.lost(roomId, error);
  }
}
