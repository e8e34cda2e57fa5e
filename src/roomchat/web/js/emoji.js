// The emoji picker: reactions beyond the four quick ones of a message's action bar.
// A fixed list (no download, nothing to look up); the picker floats under the button
// that opened it, placed through the CSSOM (the page's CSP refuses style attributes),
// and closes on a choice, Escape, a click elsewhere, or scrolling the messages.

import { $, el } from "/js/dom.js";

/** What the picker offers, in its order. */
export const EMOJI = Object.freeze([
  "👍", "👎", "❤️", "😂", "🎉", "🙏", "👀", "🔥",
  "✅", "❌", "💯", "🚀", "😀", "😅", "😊", "😍",
  "🤔", "😮", "😢", "😡", "🙌", "👏", "💪", "🤝",
  "👌", "✨", "⭐", "💡", "📌", "⚠️", "☕", "🍕",
  "🎂", "🐛", "🛠️", "📎", "🙈", "🤷", "💬", "⏰",
]);

let picker = null; // {node, anchor, pick}

export function isPickerOpen() {
  return picker !== null;
}

/** Show the picker at `anchor` (a button); `pick(emoji)` runs for the one chosen. */
export function openEmojiPicker(anchor, pick) {
  const again = picker?.anchor === anchor;
  closeEmojiPicker();
  if (again) return; // its button toggles it
  const node = el("div", { class: "emoji-picker", role: "dialog", "aria-label": "Pick a reaction" },
    ...EMOJI.map((emoji) => el("button", {
      type: "button", class: "emoji-choice", dataset: { emoji }, title: emoji, "aria-label": `React with ${emoji}`,
    }, emoji)));
  node.addEventListener("click", (ev) => {
    const btn = ev.target.closest("button[data-emoji]");
    if (!btn) return;
    const chosen = picker?.pick;
    closeEmojiPicker();
    chosen?.(btn.dataset.emoji);
  });
  node.addEventListener("keydown", onPickerKey);
  document.body.append(node);
  picker = { node, anchor, pick };
  place(node, anchor);
  document.addEventListener("pointerdown", onOutside, true);
  document.addEventListener("keydown", onEscape, true);
  $("messages")?.addEventListener("scroll", closeEmojiPicker, { passive: true });
  window.addEventListener("resize", closeEmojiPicker);
  node.querySelector("button")?.focus({ preventScroll: true });
}

export function closeEmojiPicker() {
  if (!picker) return;
  const { node } = picker;
  picker = null;
  node.remove();
  document.removeEventListener("pointerdown", onOutside, true);
  document.removeEventListener("keydown", onEscape, true);
  $("messages")?.removeEventListener("scroll", closeEmojiPicker);
  window.removeEventListener("resize", closeEmojiPicker);
}

/** Below the button (above it near the bottom of the window), inside the window. */
function place(node, anchor) {
  const box = anchor.getBoundingClientRect();
  const width = node.offsetWidth;
  const height = node.offsetHeight;
  const margin = 8;
  const left = Math.min(Math.max(margin, box.left), window.innerWidth - width - margin);
  const below = box.bottom + 4;
  const top = below + height + margin <= window.innerHeight ? below : Math.max(margin, box.top - height - 4);
  node.style.left = `${Math.max(margin, left)}px`;
  node.style.top = `${top}px`;
}

function onOutside(ev) {
  if (picker && !picker.node.contains(ev.target) && !picker.anchor.contains(ev.target)) closeEmojiPicker();
}

function onEscape(ev) {
  if (ev.key !== "Escape" || !picker) return;
  ev.preventDefault();
  ev.stopPropagation();
  const { anchor } = picker;
  closeEmojiPicker();
  if (anchor.isConnected) anchor.focus({ preventScroll: true });
}

/** Arrow keys move between the emoji (8 a row). */
function onPickerKey(ev) {
  const buttons = [...picker.node.querySelectorAll("button")];
  const at = buttons.indexOf(document.activeElement);
  if (at === -1) return;
  const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: 8, ArrowUp: -8 }[ev.key];
  if (!step) return;
  ev.preventDefault();
  buttons[Math.min(buttons.length - 1, Math.max(0, at + step))].focus();
}
