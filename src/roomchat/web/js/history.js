// Paging back through the open room's history, and the status line above the messages.

import { $, toast } from "/js/dom.js";
import { state, ctx } from "/js/state.js";

export function renderOlder() {
  const timeline = ctx.timeline;
  const btn = $("older-btn");
  const status = $("older-status");
  const canPage = state.historyLoaded && state.hasOlder && timeline.firstSeq > 1;
  btn.hidden = !canPage || state.loadingOlder;
  if (state.loadingOlder) status.textContent = "Loading older messages…";
  else if (!state.historyLoaded) status.textContent = "Loading…";
  else if (canPage) status.textContent = "";
  else if (timeline.messageCount === 0 && timeline.pending.size === 0) status.textContent = "No messages yet. Say hello!";
  else status.textContent = "This is the beginning of the room.";
}

export async function loadOlder() {
  const timeline = ctx.timeline;
  if (!state.room || !state.historyLoaded || state.loadingOlder) return;
  if (!state.hasOlder || timeline.firstSeq <= 1) return;
  const gen = state.gen;
  state.loadingOlder = true;
  renderOlder();
  try {
    const data = await ctx.api.messagesBefore(state.room.id, timeline.firstSeq);
    if (gen !== state.gen) return;
    timeline.prependOlder(data.messages || []);
    state.hasOlder = Boolean(data.has_more) && (data.messages || []).length > 0;
  } catch (err) {
    if (gen === state.gen) toast(`Could not load older messages: ${err.message}`, { error: true });
  } finally {
    if (gen === state.gen) {
      state.loadingOlder = false;
      renderOlder();
    }
  }
  if (gen === state.gen) fillViewport();
}

/** If the history does not fill the view there is nothing to scroll; page until it does. */
export function fillViewport() {
  const s = $("messages");
  if (state.hasOlder && s.scrollHeight <= s.clientHeight + 40) loadOlder();
}

/** Near the top of the messages: load older ones (the scroll listener). */
export function onMessagesScroll() {
  if ($("messages").scrollTop < 60) loadOlder();
}
