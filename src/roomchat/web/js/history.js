// The open room's history: whether its recent messages are on screen yet, paging back
// through older ones (the SDK's loadOlder: they join the room's state, and the timeline
// shows them above), and the status line above the messages.

import { $, toast } from "/js/dom.js";
import { openHandle, roomGeneration } from "/js/open_room_data.js";
import { currentTimeline } from "/js/timeline.js";

const historyState = {
  loaded: false, // the open room's initial history is on screen
  loadingOlder: false,
};

/** A new open room (or none): nothing on screen yet. */
export function resetHistory() {
  historyState.loaded = false;
  historyState.loadingOlder = false;
}

/** The open room's recent messages are on screen. */
export function historyShown() {
  historyState.loaded = true;
}

export function isHistoryShown() {
  return historyState.loaded;
}

/** The server has messages before the oldest on screen. */
function hasOlder() {
  return Boolean(openHandle()?.state.hasOlder) && currentTimeline().firstSeq > 1;
}

export function renderOlder() {
  const timeline = currentTimeline();
  const btn = $("older-btn");
  const status = $("older-status");
  const canPage = historyState.loaded && hasOlder();
  btn.hidden = !canPage || historyState.loadingOlder;
  if (historyState.loadingOlder) status.textContent = "Loading older messages…";
  else if (!historyState.loaded) status.textContent = "Loading…";
  else if (canPage) status.textContent = "";
  else if (timeline.messageCount === 0 && timeline.pending.size === 0) status.textContent = "No messages yet. Say hello!";
  else status.textContent = "This is the beginning of the room.";
}

export async function loadOlder() {
  const handle = openHandle();
  if (!handle || !historyState.loaded || historyState.loadingOlder || !hasOlder()) return;
  const gen = roomGeneration();
  historyState.loadingOlder = true;
  renderOlder();
  try {
    await handle.loadOlder(50);
  } catch (err) {
    if (gen === roomGeneration()) toast(`Could not load older messages: ${err.message}`, { error: true });
  } finally {
    if (gen === roomGeneration()) {
      historyState.loadingOlder = false;
      renderOlder();
    }
  }
  if (gen === roomGeneration()) fillViewport();
}

/** If the history does not fill the view there is nothing to scroll; page until it does. */
export function fillViewport() {
  const s = $("messages");
  if (hasOlder() && s.scrollHeight <= s.clientHeight + 40) loadOlder();
}

/** Near the top of the messages: load older ones (the scroll listener). */
export function onMessagesScroll() {
  if ($("messages").scrollTop < 60) loadOlder();
}
