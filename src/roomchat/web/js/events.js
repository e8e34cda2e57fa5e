// The open room's durable events, applied exactly once and in seq order, whichever way
// they come: live broadcasts, a catch-up join reply's `events`, or GET .../events pages.
// Every such event's data carries room_id and seq; the room's seqs have no gaps.
//
// The cursor is the seq of the last event applied (for a fresh join, the reply's seq).
// An event at or below it is one already applied and is dropped. While a join is in
// flight, or while missed events are paged by REST, broadcasts are held and applied
// after, in seq order.

import { state, ctx } from "/js/state.js";
import { renderOlder } from "/js/history.js";
import { refreshMembersSoon, memberJoined, memberLeft } from "/js/members.js";
import { dropTyper } from "/js/typing.js";
import { applyRoomUpdated, applyRoomDeleted, roomGone } from "/js/room.js";

const PAGE_LIMIT = 100;

const cursor = {
  roomId: null,
  seq: 0, // the last event applied
  holding: true, // broadcasts wait in `held` (a join or a REST catch-up is under way)
  held: [],
  filling: false, // paging a gap by REST
};

/** What each durable event does to the open room. */
const APPLY = {
  new_room_chat_message(data) {
    if (data.client_msg_id) state.outbox.delete(data.client_msg_id);
    ctx.timeline.add([data]);
    renderOlder();
    dropTyper(data.user_id);
    if (data.user && !state.members.has(data.user_id)) refreshMembersSoon();
  },
  room_chat_message_edited(data) { ctx.timeline.replaceMessage(data.message); },
  room_chat_message_deleted(data) { ctx.timeline.markDeleted(data.message_id); },
  room_chat_reaction_added(data) { ctx.timeline.react(data.message_id, data.reaction, data.user_id, +1); },
  room_chat_reaction_removed(data) { ctx.timeline.react(data.message_id, data.reaction, data.user_id, -1); },
  room_member_joined: memberJoined,
  room_member_left: memberLeft,
  room_chat_updated: applyRoomUpdated,
  room_chat_deleted: applyRoomDeleted,
};

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
  const gen = state.gen;
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
  return gen === state.gen;
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
  const apply = APPLY[event.action];
  if (apply) {
    try {
      apply(data);
    } catch (err) {
      console.error("roomchat: could not apply", event.action, err);
    }
  }
  return isOpen();
}

function isOpen() {
  return cursor.roomId !== null && state.room?.id === cursor.roomId;
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
      page = await ctx.api.roomEvents(roomId, cursor.seq, PAGE_LIMIT);
    } catch (err) {
      if (gen !== state.gen) return false;
      if (err.code === "forbidden" || err.code === "not_found") {
        roomGone(`You no longer have access to #${state.room?.name ?? "this room"}.`);
      } else {
        // Join again on a new connection: its catch-up starts from what was applied.
        ctx.socket?.ws?.close(4000, "catch-up failed");
      }
      return false;
    }
    if (gen !== state.gen) return false;
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
  const gen = state.gen;
  const ok = await pageEvents(gen);
  if (gen !== state.gen) return;
  cursor.filling = false;
  if (ok) release();
}
