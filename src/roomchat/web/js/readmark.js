// Marking the open room read as its messages come into view: an IntersectionObserver
// notes the highest seq seen, and mark_room_read sends it at most every 500 ms (the
// server allows 5 a second). Only what is seen while the page is visible counts.

import { $ } from "/js/dom.js";
import { chat, isConnected } from "/js/client.js";
import { lastReadSeq } from "/js/rooms_data.js";
import { onReadUpdated } from "/js/unread.js";

const MARK_INTERVAL_MS = 500;

let observer = null;
// paused: the user marked the open room unread; what scrolls into view does not mark
// it read again until the room is opened anew.
const reading = { roomId: null, seen: 0, sent: 0, lastAt: 0, timer: 0, inflight: false, paused: false };

function ensureObserver() {
  if (observer || typeof IntersectionObserver === "undefined") return;
  observer = new IntersectionObserver(onIntersect, { root: $("messages"), threshold: [0, 0.5, 1] });
}

function onIntersect(entries) {
  if (document.visibilityState !== "visible") return;
  for (const entry of entries) {
    if (!entry.isIntersecting) continue;
    // Half of it in view, or (a message taller than the view) half the view is it.
    const rootHeight = entry.rootBounds?.height || 0;
    if (entry.intersectionRatio < 0.5 && entry.intersectionRect.height < rootHeight / 2) continue;
    const seq = Number(entry.target.dataset.seq);
    if (seq > reading.seen) reading.seen = seq;
  }
  schedule();
}

/** A new open room (or none): send what was seen in the last one, start afresh. */
export function resetReading(roomId) {
  flush();
  observer?.disconnect();
  clearTimeout(reading.timer);
  reading.roomId = roomId;
  reading.seen = 0;
  reading.sent = roomId === null ? 0 : (lastReadSeq(roomId) ?? 0);
  reading.timer = 0;
  reading.paused = false;
}

/** Stop marking the open room read (it was just marked unread) until it is opened anew. */
export function pauseReading(roomId) {
  if (reading.roomId !== roomId) return;
  reading.paused = true;
  clearTimeout(reading.timer);
  reading.timer = 0;
}

/** Mark the open room read again as before (marking it unread failed). */
export function resumeReading(roomId) {
  if (reading.roomId !== roomId) return;
  reading.paused = false;
  schedule();
}

/** The timeline changed: watch its items (already watched ones are ignored). */
export function watchTimeline() {
  if (reading.roomId === null) return;
  ensureObserver();
  for (const node of $("message-list").querySelectorAll(":scope > li[data-seq]")) observer?.observe(node);
}

/** The page became visible again, or the room was (re)joined: look at what is in view. */
export function recheckReading() {
  if (!observer || reading.roomId === null) return;
  const nodes = [...$("message-list").querySelectorAll(":scope > li[data-seq]")];
  observer.disconnect(); // observing again reports each item's current visibility
  for (const node of nodes) observer.observe(node);
}

function schedule() {
  if (reading.paused || reading.seen <= reading.sent || reading.timer) return;
  const wait = Math.max(0, reading.lastAt + MARK_INTERVAL_MS - Date.now());
  reading.timer = setTimeout(() => {
    reading.timer = 0;
    send();
  }, wait);
}

/** Send the pending mark now (closing the room), whatever the interval. */
function flush() {
  clearTimeout(reading.timer);
  reading.timer = 0;
  send();
}

async function send() {
  const roomId = reading.roomId;
  const seq = reading.seen;
  // Read state needs membership, not a join: a mark flushed on closing the room counts
  // (through the room's handle while it is followed: its state takes the new position).
  if (roomId === null || reading.paused || seq <= reading.sent || reading.inflight || !isConnected()) return;
  reading.inflight = true;
  reading.lastAt = Date.now();
  try {
    const handle = chat().room(roomId);
    const data = handle
      ? await handle.markRead(seq)
      : await chat().request("mark_room_read", { room_id: roomId, seq });
    if (reading.roomId === roomId) reading.sent = Math.max(reading.sent, seq);
    onReadUpdated(data);
  } catch (err) {
    // Lost with the connection: what is in view is looked at again once rejoined.
    if (err.code !== "connection_lost" && err.code !== "rate_limited") console.warn("roomchat: mark_room_read", err);
  } finally {
    reading.inflight = false;
    schedule(); // more seen meanwhile (in this room or the one open now), or a retry
  }
}
