// The open room's history: whether its recent messages are on screen yet, paging back
// through older ones, and the status line above the messages.

import { $, toast } from "/js/dom.js";
import { api } from "/js/client.js";
import { currentRoom, roomGeneration } from "/js/open_room_data.js";
import { currentTimeline } from "/js/timeline.js";

const historyState = {
  loaded: false, // the open room's initial history is on screen
  hasOlder: false,
  loadingOlder: false,
};

/** A new open room (or none): nothing on screen yet. */
export function resetHistory() {
  historyState.loaded = false;
  historyState.hasOlder = false;
}

/** The open room's recent messages are on screen; hasOlder: the server has more before. */
export function historyShown(hasOlder) {
  historyState.loaded = true;
  historyState.hasOlder = hasOlder;
}

export function isHistoryShown() {
  return historyState.loaded;
}

export function renderOlder() {
  const timeline = currentTimeline();
  const btn = $("older-btn");
  const status = $("older-status");
  const canPage = historyState.loaded && historyState.hasOlder && timeline.firstSeq > 1;
  btn.hidden = !canPage || historyState.loadingOlder;
  if (historyState.loadingOlder) status.textContent = "Loading older messages…";
  else if (!historyState.loaded) status.textContent = "Loading…";
  else if (canPage) status.textContent = "";
  else if (timeline.messageCount === 0 && timeline.pending.size === 0) status.textContent = "No messages yet. Say hello!";
  else status.textContent = "This is the beginning of the room.";
}

export async function loadOlder() {
  const timeline = currentTimeline();
  const room = currentRoom();
  if (!room || !historyState.loaded || historyState.loadingOlder) return;
  if (!historyState.hasOlder || timeline.firstSeq <= 1) return;
  const gen = roomGeneration();
  historyState.loadingOlder = true;
  renderOlder();
  try {
    const data = await api.messagesBefore(room.id, timeline.firstSeq);
    if (gen !== roomGeneration()) return;
    timeline.prependOlder(data.messages || []);
    historyState.hasOlder = Boolean(data.has_more) && (data.messages || []).length > 0;
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
  if (historyState.hasOlder && s.scrollHeight <= s.clientHeight + 40) loadOlder();
}

/** Near the top of the messages: load older ones (the scroll listener). */
export function onMessagesScroll() {
  if ($("messages").scrollTop < 60) loadOlder();
}
