// The thread side panel: a thread of the open room (its root, then its replies, each
// with the actions of any message), kept live from the room's events (a reply is a
// new_room_chat_message with thread_root_id; edits, deletes and reactions change it in
// place; room_chat_thread_updated its root's summary), a composer that replies in it
// (the SDK's outbox: pending, then stored once), following it or not, and marking it
// read while it is in view. The panel also holds the "Threads" list (threadlist.js):
// showPanel() says which of the two shows.

import { $, toast } from "/js/dom.js";
import { chat, rest, isConnected } from "/js/client.js";
import { currentUser } from "/js/session_data.js";
import { currentRoom, currentRoomId, canModerate } from "/js/open_room_data.js";
import { person, roomTitle } from "/js/people_data.js";
import { Timeline } from "/js/timeline.js";
import { nameOf, member } from "/js/members.js";
import { refreshUnread } from "/js/unread.js";

const PAGE = 100;
const MAX_PAGES = 20; // a thread of up to 2,000 messages is read whole
const MARK_INTERVAL_MS = 500;

let timeline = null;
let view = blank();

function blank() {
  return {
    roomId: null,
    rootId: null,
    messages: new Map(), // id -> the stored message (the root, its replies)
    pending: [], // the user's replies on their way or refused (the SDK's room state)
    loaded: false,
    following: null,
    mark: { sent: 0, lastAt: 0, timer: 0, inflight: false },
  };
}

/** The timeline of the thread panel (made once, on its own elements). */
export function threadTimeline() {
  if (!timeline && currentUser()) {
    timeline = new Timeline({
      meId: currentUser().id,
      nameOf,
      userOf: (id) => member(id) || person(id),
      thread: 0,
      onChange: () => markReadSoon(),
      elements: { list: "thread-list", pendingList: "thread-pending-list", scroller: "thread-messages", jumpBtn: "thread-jump-btn" },
    });
  }
  if (timeline) timeline.meId = currentUser()?.id ?? timeline.meId;
  return timeline;
}

/** Which view the side panel shows: "thread", "list" (the followed threads) or null. */
export function showPanel(mode) {
  const panel = $("thread-panel");
  panel.hidden = mode === null;
  $("thread-view").hidden = mode !== "thread";
  $("threads-view").hidden = mode !== "list";
  $("thread-follow-btn").hidden = mode !== "thread";
  $("threads-btn").setAttribute("aria-expanded", String(mode === "list"));
  if (mode === "list") {
    $("thread-title").textContent = "Threads";
    $("thread-room").textContent = "Threads you follow";
  }
}

export function panelMode() {
  if ($("thread-panel").hidden) return null;
  return $("thread-view").hidden ? "list" : "thread";
}

export function openThreadKey() {
  return view.rootId === null ? null : `${view.roomId}:${view.rootId}`;
}

/** Open the thread of `rootId` (a message of the open room) in the panel. */
export async function openThread(roomId, rootId) {
  if (currentRoomId() !== roomId) return;
  if (view.roomId === roomId && view.rootId === rootId && panelMode() === "thread") {
    $("thread-input").focus({ preventScroll: true });
    return;
  }
  resetView();
  view.roomId = roomId;
  view.rootId = rootId;
  const own = view;
  const tl = threadTimeline();
  tl.thread = rootId;
  tl.reset(roomId);
  tl.setModerator(canModerate());
  tl.setConnected(isConnected());
  showPanel("thread");
  $("thread-title").textContent = "Thread";
  $("thread-room").textContent = currentRoom()?.kind === "direct" ? roomTitle(currentRoom()) : `#${roomTitle(currentRoom())}`;
  renderFollow();
  $("thread-status").textContent = "Loading…";
  threadStateChanged(chat()?.room(roomId)?.state ?? null); // what the room's state has already
  try {
    let after = 0;
    for (let page = 0; page < MAX_PAGES; page++) {
      const data = await rest().threadMessages(roomId, rootId, { after_seq: after, limit: PAGE });
      if (view !== own) return;
      // A message an event brought meanwhile is as new as this page, or newer.
      for (const msg of data.messages) if (!view.messages.has(msg.id)) view.messages.set(msg.id, msg);
      after = Math.max(after, ...data.messages.map((m) => m.seq));
      if (!data.has_more || data.messages.length === 0) break;
    }
  } catch (err) {
    if (view !== own) return;
    toast(err.code === "not_found" ? "That thread is gone." : `Could not load the thread: ${err.message}`, { error: true });
    closeThread();
    return;
  }
  view.loaded = true;
  $("thread-status").textContent = "";
  render({ scroll: "bottom" });
  markReadSoon({ now: true });
  $("thread-input").focus({ preventScroll: true });
}

/** Close the panel's thread (the room closed, or the user closed it). */
export function closeThread() {
  resetView();
  if (panelMode() === "thread") showPanel(null);
}

/** Close the side panel, whatever it shows. */
export function closePanel() {
  resetView();
  showPanel(null);
}

function resetView() {
  clearTimeout(view.mark.timer);
  view = blank();
  timeline?.reset(null);
  $("thread-input").value = "";
  $("thread-status").textContent = "";
}

function render(options = {}) {
  if (view.rootId === null || !timeline) return;
  const sent = [...view.messages.values()].sort((a, b) => a.seq - b.seq).map((m) => ({ ...m, status: "sent" }));
  timeline.sync({ messages: [...sent, ...view.pending] }, options);
}

function belongs(msg) {
  return Boolean(msg) && (msg.id === view.rootId || msg.thread_root_id === view.rootId);
}

/** The open room's state changed (room.js): the user's replies on their way, and a
 *  reply stored before its event came. */
export function threadStateChanged(state) {
  if (view.rootId === null || !state) return;
  let changed = false;
  for (const msg of state.messages) {
    if (msg.status === "sent" && belongs(msg) && !view.messages.has(msg.id)) {
      view.messages.set(msg.id, msg);
      changed = true;
    }
  }
  const pending = state.messages.filter((m) => m.status !== "sent" && m.thread_root_id === view.rootId);
  if (changed || pending.length !== view.pending.length || pending.some((m, i) => m !== view.pending[i])) {
    view.pending = pending;
    changed = true;
  }
  if (changed) render();
}

/** A durable event of the open room (live.js), each once, in order. */
export function threadEvent(event) {
  if (view.rootId === null || event.data?.room_id !== view.roomId) return;
  const data = event.data;
  switch (event.action) {
    case "new_room_chat_message":
      if (!belongs(data)) return;
      view.messages.set(data.id, data);
      if (data.user_id === currentUser()?.id && view.following === false) {
        view.following = true; // replying follows the thread again
        renderFollow();
      }
      break;
    case "room_chat_message_edited":
    case "room_chat_message_deleted":
    case "room_chat_reaction_added":
    case "room_chat_reaction_removed":
    case "room_chat_thread_updated": {
      const msg = data.message;
      if (msg && belongs(msg)) view.messages.set(msg.id, msg);
      else if (!msg && event.action === "room_chat_message_deleted" && view.messages.has(data.message_id)) {
        const old = view.messages.get(data.message_id);
        view.messages.set(old.id, { ...old, message_text: null, message_content: null, reactions: [], deleted_at: new Date().toISOString() });
      } else {
        return;
      }
      break;
    }
    default:
      return;
  }
  render();
}

/** The connection came and went: the pending replies say so. */
export function threadConnected(connected) {
  timeline?.setConnected(connected);
  if (connected) markReadSoon();
}

// ---- following, and reading

function renderFollow() {
  const btn = $("thread-follow-btn");
  btn.disabled = view.following === null;
  btn.textContent = view.following ? "Following" : "Follow";
  btn.setAttribute("aria-pressed", String(Boolean(view.following)));
  btn.title = view.following
    ? "You follow this thread: its new replies count as unread. Click to stop."
    : "Follow this thread: its new replies count as unread";
}

async function onFollowClick() {
  const { roomId, rootId } = view;
  if (rootId === null || view.following === null) return;
  const follow = !view.following;
  try {
    const reply = await chat().request(follow ? "follow_thread" : "unfollow_thread", { room_id: roomId, thread_root_id: rootId });
    if (view.rootId !== rootId) return;
    view.following = reply.following;
    renderFollow();
    toast(reply.following ? "You follow this thread" : "You no longer follow this thread");
    refreshUnread();
  } catch (err) {
    toast(`Could not ${follow ? "follow" : "unfollow"} the thread: ${err.message}`, { error: true });
  }
}

function newestSeq() {
  let seq = 0;
  for (const msg of view.messages.values()) seq = Math.max(seq, msg.seq);
  return seq;
}

/** Mark the thread read up to its newest message while the panel shows it (at most every
 *  500 ms: the thread actions share the read rate limit). Its reply says whether the
 *  user follows it. */
function markReadSoon({ now = false } = {}) {
  const mark = view.mark;
  if (!view.loaded || mark.timer || panelMode() !== "thread") return;
  if (document.visibilityState !== "visible") return;
  if (newestSeq() <= mark.sent && view.following !== null) return;
  const wait = now ? 0 : Math.max(0, mark.lastAt + MARK_INTERVAL_MS - Date.now());
  mark.timer = setTimeout(() => {
    mark.timer = 0;
    sendMark();
  }, wait);
}

async function sendMark() {
  const own = view;
  const mark = view.mark;
  const seq = newestSeq();
  if (mark.inflight || !isConnected() || seq === 0) return;
  mark.inflight = true;
  mark.lastAt = Date.now();
  try {
    const reply = await chat().request("mark_thread_read", { room_id: own.roomId, thread_root_id: own.rootId, seq });
    mark.sent = Math.max(mark.sent, seq);
    if (view === own) {
      view.following = reply.following;
      renderFollow();
    }
    refreshUnread(); // the room's thread_unread and mentions: no signal tells them
  } catch (err) {
    if (err.code !== "connection_lost" && err.code !== "rate_limited") console.warn("roomchat: mark_thread_read", err);
  } finally {
    mark.inflight = false;
    if (view === own) markReadSoon();
  }
}

// ---- replying

function onThreadSubmit(ev) {
  ev.preventDefault();
  const input = $("thread-input");
  const text = input.value.trim();
  const client = chat();
  if (!text || view.rootId === null || !client) return;
  input.value = "";
  autosize();
  // Settled in the room's state (sent, or failed with a reason): threadStateChanged.
  client.send(view.roomId, text, { threadRootId: view.rootId }).catch(() => {});
}

function onThreadKeydown(ev) {
  if (ev.defaultPrevented) return; // the mention picker's key
  if (ev.key === "Enter" && !ev.shiftKey && !ev.isComposing) {
    ev.preventDefault();
    $("thread-composer").requestSubmit();
  } else if (ev.key === "Escape" && !$("thread-input").value) {
    closeThread();
  }
}

function autosize() {
  const input = $("thread-input");
  input.style.height = "auto";
  input.style.height = `${Math.min(input.scrollHeight + 2, 160)}px`;
}

/** The panel's own controls (its message list's clicks are app.js's: messageactions). */
export function wireThreadPanel() {
  $("thread-close").addEventListener("click", closePanel);
  $("thread-follow-btn").addEventListener("click", onFollowClick);
  $("thread-composer").addEventListener("submit", onThreadSubmit);
  $("thread-input").addEventListener("keydown", onThreadKeydown);
  $("thread-input").addEventListener("input", autosize);
  document.addEventListener("visibilitychange", () => {
    if (document.visibilityState === "visible") markReadSoon();
  });
}
