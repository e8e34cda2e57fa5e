// The open room's durable events, applied exactly once and in seq order, whichever way
// they come: live broadcasts, a catch-up join reply's `events`, or GET .../events pages.
// Every such event's data carries room_id and seq; the room's seqs have no gaps.
//
// The cursor is the seq of the last event applied (for a fresh join, the reply's seq).
// An event at or below it is one already applied and is dropped. While a join is in
// flight, or while missed events are paged by REST, broadcasts are held and applied
// after, in seq order.
//
// What each event does to the open room is registered once at start-up (frames.js):
// it reaches the room, which is above this module.

import { api } from "/js/client.js";
import { dropConnection } from "/js/connection.js";
import { currentRoom, roomGeneration } from "/js/open_room_data.js";

const PAGE_LIMIT = 100;

const cursor = {
  roomId: null,
  seq: 0, // the last event applied
  holding: true, // broadcasts wait in `held` (a join or a REST catch-up is under way)
  held: [],
  filling: false, // paging a gap by REST
};

const handlers = {
  apply: () => {}, // (action, data): what one event does to the open room
  roomGone: () => {}, // (text): the open room is no longer ours to see
};

/** Register {apply(action, data), roomGone(text)}. */
export function handleRoomEvents(registered) {
  Object.assign(handlers, registered);
}

/** A new open room (or none): nothing applied yet, broadcasts held until it is joined. */
export function resetRoomEvents(roomId) {
  cursor.roomId = roomId;
  cursor.seq = 0;
  cursor.holding = true;
  cursor.held = [];
  cursor.filling = false;
}

/** The seq to catch up from (join_room_chat after_seq). */
export function lastAppliedSeq() {
  return cursor.seq;
}

/** A (re)join is starting: hold the room's broadcasts until its reply is applied. */
export function holdRoomEvents() {
  cursor.holding = true;
}

/** The reply of a join without after_seq is on screen: its seq is where the room is. */
export function startRoomEvents(seq) {
  if (typeof seq === "number") cursor.seq = Math.max(cursor.seq, seq);
  if (!cursor.filling) release(); // else the gap fill under way releases when done
}

/** Apply a join-with-after_seq reply: its events, then (has_more) the rest, paged by REST,
 *  then the broadcasts held meanwhile. Resolves to false if the room closed meanwhile
 *  or the catch-up failed (the socket is then closed: the next connection catches up). */
export async function catchUp(reply) {
  const gen = roomGeneration();
  // A reply without `events` comes from a server before the event log: page them all.
  const events = Array.isArray(reply.events) ? reply.events : null;
  for (const event of events || []) {
    if (!applyEvent(event)) return false;
  }
  const more = events === null || Boolean(reply.has_more);
  if (!more) {
    // Nothing after the reply's seq that it does not hold: that is where the room is.
    if (typeof reply.seq === "number") cursor.seq = Math.max(cursor.seq, reply.seq);
  } else if (!(await pageEvents(gen))) {
    return false;
  }
  if (!cursor.filling) release();
  return gen === roomGeneration();
}

/** A broadcast frame of the open room. Returns false when it is not a durable event. */
export function onRoomBroadcast(frame) {
  const data = frame.data || {};
  if (typeof data.seq !== "number") return false;
  if (cursor.roomId === null || data.room_id !== cursor.roomId) return true;
  if (cursor.holding) {
    cursor.held.push(frame);
  } else if (data.seq > cursor.seq + 1) {
    // Seqs have no gaps: something was missed (it should not be, while connected).
    cursor.held.push(frame);
    fillGap();
  } else {
    applyEvent(frame);
  }
  return true;
}

/** Apply one event ({action, data}) unless it is already applied. Returns false when the
 *  room is no longer open (the event closed it, or it had already been closed). */
function applyEvent(event) {
  const data = event?.data;
  if (!data || data.room_id !== cursor.roomId || typeof data.seq !== "number") return isOpen();
  if (data.seq <= cursor.seq) return isOpen();
  cursor.seq = data.seq; // first: an event that closes the room resets the cursor
  try {
    handlers.apply(event.action, data);
  } catch (err) {
    console.error("roomchat: could not apply", event.action, err);
  }
  return isOpen();
}

function isOpen() {
  return cursor.roomId !== null && currentRoom()?.id === cursor.roomId;
}

/** Stop holding: apply what was held, in seq order (already applied ones are dropped). */
function release() {
  cursor.holding = false;
  const held = cursor.held.sort((a, b) => a.data.seq - b.data.seq);
  cursor.held = [];
  for (const frame of held) {
    if (!applyEvent(frame)) return;
  }
}

/** GET .../events from the cursor until has_more is false, applying each event.
 *  Resolves to false when it stopped: the room closed, or the request failed. */
async function pageEvents(gen) {
  const roomId = cursor.roomId;
  for (;;) {
    let page;
    try {
      page = await api.roomEvents(roomId, cursor.seq, PAGE_LIMIT);
    } catch (err) {
      if (gen !== roomGeneration()) return false;
      if (err.code === "forbidden" || err.code === "not_found") {
        handlers.roomGone(`You no longer have access to #${currentRoom()?.name ?? "this room"}.`);
      } else {
        // Join again on a new connection: its catch-up starts from what was applied.
        dropConnection("catch-up failed");
      }
      return false;
    }
    if (gen !== roomGeneration()) return false;
    const events = page.events || [];
    for (const event of events) {
      if (!applyEvent(event)) return false;
    }
    if (!page.has_more || events.length === 0) return true;
  }
}

/** A broadcast skipped ahead: fetch what is between, then apply the held broadcasts. */
async function fillGap() {
  if (cursor.filling) return;
  cursor.filling = true;
  cursor.holding = true;
  const gen = roomGeneration();
  const ok = await pageEvents(gen);
  if (gen !== roomGeneration()) return;
  cursor.filling = false;
  if (ok) release();
}
