// Mentions as a message shows them: each `@name` the server resolved (the message's
// `mentions` user ids, `@room` when `mentions_room`) becomes a `.mention` span, the
// user's own (and `@room`) a `.mention-me` one; everything else stays plain text. The
// text goes into the page as text nodes only: no HTML is ever built from it.

import { el } from "/js/dom.js";

// An `@` that starts a name: not inside a word or an address (`a@b.example`).
const AT_NAME = /@([\p{L}\p{N}_.-]+)/gu;
const WORD_BEFORE = /[\p{L}\p{N}_@.+-]/u;

/** A name as the server compares them: NFKC, case aside. (Look-alikes such as `b0b`
 *  still mention, and still highlight the whole message; only the span is missed.) */
export function nameKey(name) {
  return String(name).normalize("NFKC").toLowerCase();
}

/** Whether `msg` (someone else's) mentions the user `meId`. */
export function mentionsMe(msg, meId) {
  if (!msg || msg.deleted_at || msg.user_id === meId) return false;
  return Boolean(msg.mentions_room) || (Array.isArray(msg.mentions) && msg.mentions.includes(meId));
}

/** What a key of the mentions as drawn: redrawn when it changes (a name resolved late). */
export function mentionsKey(msg, userOf) {
  const ids = Array.isArray(msg.mentions) ? msg.mentions : [];
  return `${Boolean(msg.mentions_room)}|${ids.map((id) => `${id}:${userOf?.(id)?.username ?? ""}`).join(",")}`;
}

/** A run of plain text as strings and `.mention` spans (the Markdown renderer's
 *  decorateText, js/format.js: never called inside code or links). userOf(id) gives a
 *  user (for their username) or undefined. */
export function mentionNodes(text, msg, meId, userOf) {
  const ids = Array.isArray(msg.mentions) ? msg.mentions : [];
  if (!text || (ids.length === 0 && !msg.mentions_room)) return [text];
  const named = new Map(); // name key -> user id
  for (const id of ids) {
    const username = userOf?.(id)?.username;
    if (username) named.set(nameKey(username), id);
  }
  const parts = [];
  let at = 0;
  for (const match of text.matchAll(AT_NAME)) {
    const start = match.index;
    if (start > 0 && WORD_BEFORE.test(text[start - 1])) continue;
    const name = match[1].replace(/[._-]+$/u, ""); // a trailing . - _ ends the sentence
    if (!name) continue;
    const key = nameKey(name);
    const room = key === "room" && msg.mentions_room;
    const userId = named.get(key);
    if (!room && userId === undefined) continue;
    const end = start + 1 + name.length;
    if (start > at) parts.push(text.slice(at, start));
    const mine = (room || userId === meId) && msg.user_id !== meId;
    parts.push(el("span", {
      class: mine ? "mention mention-me" : "mention",
      dataset: room ? { mention: "room" } : { userId },
      text: text.slice(start, end),
    }));
    at = end;
  }
  if (at < text.length) parts.push(text.slice(at));
  return parts;
}
