// Each followed room's durable events handed over exactly once, in seq order, whatever
// the mix of live broadcasts, catch-up replies and event-log pages they came by.

import { Backoff, sleep } from "./backoff.js";
import { RoomchatError } from "./errors.js";
import { ROOM_EVENT_ACTIONS } from "./generated/actions.js";
import type { RoomEvent } from "./types.js";

export interface EventPage {
  events: RoomEvent[];
  has_more: boolean;
}

export interface SequencerHooks {
  /** One room event, the next of its room. Called synchronously, in order. */
  deliver(roomId: number, event: RoomEvent): void;
  /** A page of the room's event log after `afterSeq` (GET .../events). */
  readPage(roomId: number, afterSeq: number): Promise<EventPage>;
  /** The log cannot be read any more (forbidden, not_found): the room is lost. */
  lost(roomId: number, error: RoomchatError): void;
  /** The room was repaired from the log: `count` events fetched. */
  repaired?(roomId: number, fromSeq: number, count: number): void;
  /** A failure worth telling (the repair goes on). */
  warn?(message: string, error: unknown): void;
}

/** The room's seq and durable-event nature of a broadcast, or null for a signal. Only
 * the document's room events are sequenced: several signals carry the room's seq too, and
 * a kind this SDK does not know (a newer server's) is passed on as a signal; were it a
 * room event, the gap it leaves is read from the event log, where it is in its place. */
export function roomPosition(frame: { action?: unknown; data?: unknown }): { roomId: number; seq: number } | null {
  if (typeof frame.action !== "string" || !ROOM_EVENT_ACTIONS.has(frame.action)) return null;
  return logPosition(frame);
}

/** The room and seq of an item of the event log (a catch-up's, or a page's): every one is
 * a room event, whatever its action, so one this SDK does not know takes its place too. */
function logPosition(frame: { data?: unknown }): { roomId: number; seq: number } | null {
  const data = frame.data as { room_id?: unknown; seq?: unknown } | null | undefined;
  if (typeof data !== "object" || data === null) return null;
  if (!Number.isSafeInteger(data.room_id) || !Number.isSafeInteger(data.seq)) return null;
  return { roomId: data.room_id as number, seq: data.seq as number };
}

class Cursor {
  /** The last seq handed over: what a reconnect joins with (after_seq). */
  applied: number;
  /** The highest seq known to exist (broadcasts, join replies). */
  newestSeen: number;
  /** A catch-up reply said has_more: read the log to its end. */
  mustPage = false;
  /** A repair reads the log; it alone hands events over meanwhile. */
  repairing = false;

  constructor(readonly roomId: number, applied: number) {
    this.applied = applied;
    this.newestSeen = applied;
  }

  get behind(): boolean {
    return this.mustPage || this.applied < this.newestSeen;
  }
}

/**
 * An event is handed over when it is the next one (`applied + 1`). Anything else (a
 * gap while connected, a catch-up with `has_more`) makes the room *behind*: a repair then
 * reads the room's event log from `applied` until it has everything seen, while the
 * room's broadcasts are only noted (the log has them). Nothing is held in memory but
 * one page: a gap costs a request, never an unbounded buffer.
 */
export class Sequencer {
  readonly #rooms = new Map<number, Cursor>();
  readonly #hooks: SequencerHooks;
  readonly #backoff: () => Backoff;
  #closed = new AbortController();

  constructor(hooks: SequencerHooks, backoff: () => Backoff = () => new Backoff()) {
    this.#hooks = hooks;
    this.#backoff = backoff;
  }

  followed(): number[] {
    return [...this.#rooms.keys()];
  }

  /** The last seq handed over, or null for a room not followed. */
  position(roomId: number): number | null {
    return this.#rooms.get(roomId)?.applied ?? null;
  }

  /** Follow a room from `seq` (a join reply without after_seq: its history is shown). */
  follow(roomId: number, seq: number): void {
    const cursor = this.#rooms.get(roomId);
    if (cursor === undefined) this.#rooms.set(roomId, new Cursor(roomId, seq));
    else this.#saw(cursor, seq); // joined again while followed: only what is past it is new
  }

  forget(roomId: number): void {
    this.#rooms.delete(roomId);
  }

  /** A broadcast; false when it is not a room event (a signal). */
  offer(frame: { action?: unknown; data?: unknown }): boolean {
    const position = roomPosition(frame);
    if (position === null) return false;
    this.#offer(position.roomId, position.seq, frame as RoomEvent);
    return true;
  }

  /** A join reply with after_seq: its events, then (has_more) the log. */
  caughtUp(roomId: number, afterSeq: number, data: { events?: unknown; has_more?: unknown; seq?: unknown }): void {
    let cursor = this.#rooms.get(roomId);
    if (cursor === undefined) {
      cursor = new Cursor(roomId, afterSeq);
      this.#rooms.set(roomId, cursor);
    }
    for (const event of Array.isArray(data.events) ? data.events : []) {
      const position = logPosition(event as RoomEvent);
      if (position !== null && position.roomId === roomId) this.#offer(roomId, position.seq, event as RoomEvent);
    }
    if (data.has_more === true) {
      cursor.mustPage = true;
      this.#repair(cursor);
    } else if (typeof data.seq === "number") {
      // Nothing past the reply's seq that it does not hold: that is where the room is.
      this.#saw(cursor, data.seq);
    }
  }

  close(): void {
    this.#closed.abort();
    this.#closed = new AbortController();
    this.#rooms.clear();
  }

  #offer(roomId: number, seq: number, event: RoomEvent): void {
    const cursor = this.#rooms.get(roomId);
    if (cursor === undefined || seq <= cursor.applied) return; // not followed, or had
    cursor.newestSeen = Math.max(cursor.newestSeen, seq);
    if (cursor.repairing) return; // the repair reads it from the log, in order
    if (seq !== cursor.applied + 1) {
      this.#repair(cursor); // a gap: the missing events are in the log
      return;
    }
    this.#handOver(cursor, seq, event);
  }

  #handOver(cursor: Cursor, seq: number, event: RoomEvent): void {
    cursor.applied = seq;
    this.#hooks.deliver(cursor.roomId, event);
    // The server sends nothing more of a room that is gone or that we left.
    if (event.action === "room_chat_deleted") this.forget(cursor.roomId);
  }

  #saw(cursor: Cursor, seq: number): void {
    cursor.newestSeen = Math.max(cursor.newestSeen, seq);
    if (cursor.behind) this.#repair(cursor);
  }

  #repair(cursor: Cursor): void {
    if (cursor.repairing) return;
    cursor.repairing = true;
    void this.#readLog(cursor, this.#closed.signal);
  }

  async #readLog(cursor: Cursor, closed: AbortSignal): Promise<void> {
    const pause = this.#backoff();
    const from = cursor.applied;
    let fetched = 0;
    try {
      while (cursor.behind && this.#rooms.get(cursor.roomId) === cursor && !closed.aborted) {
        let page: EventPage;
        try {
          page = await this.#hooks.readPage(cursor.roomId, cursor.applied);
        } catch (error) {
          if (closed.aborted || this.#rooms.get(cursor.roomId) !== cursor) return;
          if (error instanceof RoomchatError && (error.code === "forbidden" || error.code === "not_found")) {
            this.forget(cursor.roomId);
            this.#hooks.lost(cursor.roomId, error);
            return;
          }
          this.#hooks.warn?.(`room ${cursor.roomId}: reading the event log`, error);
          await sleep(pause.next(), closed);
          continue;
        }
        if (closed.aborted || this.#rooms.get(cursor.roomId) !== cursor) return;
        let progress = false;
        for (const event of page.events) {
          const position = logPosition(event);
          if (position === null || position.seq <= cursor.applied) continue;
          if (position.seq !== cursor.applied + 1) break; // the log has no gaps: a bug, retried
          cursor.newestSeen = Math.max(cursor.newestSeen, position.seq);
          this.#handOver(cursor, position.seq, event);
          fetched += 1;
          progress = true;
          if (this.#rooms.get(cursor.roomId) !== cursor) return;
        }
        if (!page.has_more) cursor.mustPage = false;
        if (progress) pause.reset();
        else if (cursor.behind) await sleep(pause.next(), closed); // seen, not in the log yet
      }
    } finally {
      cursor.repairing = false;
      if (fetched > 0) this.#hooks.repaired?.(cursor.roomId, from, fetched);
    }
  }
}
