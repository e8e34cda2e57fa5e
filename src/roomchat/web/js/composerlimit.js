// The composer's length limit, said out loud. The server stores at most 4,000
// characters of text (MAX_MESSAGE_TEXT_CHARS, counted as code points). The composer
// does not cut a paste at the limit (no maxlength): the count shows from 90 % of it,
// turns red past it, and a message over it is refused with a word, its text kept.

import { $, el, toast } from "/js/dom.js";

export const MAX_MESSAGE_CHARS = 4000;
const SHOW_FROM = Math.floor(MAX_MESSAGE_CHARS * 0.9);

/** Characters as the server counts them (code points, not UTF-16 units). */
export function messageLength(text) {
  let n = 0;
  for (const _ of text) n += 1;
  return n;
}

function counter() {
  let node = $("composer-count");
  if (!node) {
    node = el("span", { id: "composer-count", class: "composer-count", "aria-live": "polite", hidden: true });
    $("composer").prepend(node);
  }
  return node;
}

/** Show the composer's count near or past the limit (on every input). */
export function showComposerLength() {
  const input = $("composer-input");
  const length = messageLength(input.value.trim());
  const node = counter();
  const over = length > MAX_MESSAGE_CHARS;
  node.hidden = length < SHOW_FROM;
  node.classList.toggle("over", over);
  node.textContent = `${length.toLocaleString("en-US")} / ${MAX_MESSAGE_CHARS.toLocaleString("en-US")}`;
  node.title = over ? `${(length - MAX_MESSAGE_CHARS).toLocaleString("en-US")} characters too many` : "";
  input.classList.toggle("over", over);
  input.setAttribute("aria-invalid", String(over));
}

/** Whether `text` may be sent; if not, say why (the text stays in the composer). */
export function composerTextFits(text) {
  const length = messageLength(text);
  if (length <= MAX_MESSAGE_CHARS) return true;
  showComposerLength();
  toast(`Too long to send: ${length.toLocaleString("en-US")} characters, at most ${MAX_MESSAGE_CHARS.toLocaleString("en-US")}. Shorten it or split it into several messages.`, { error: true, ms: 6000 });
  return false;
}
