// The `@` autocomplete of a composer (the room's and a thread's): typing `@` and the
// start of a name lists the room's members who match (and `@room`); arrows move,
// Enter or Tab (or a click) puts `@username ` in place, Escape closes it. Names are
// drawn as text only.

import { el, displayName } from "/js/dom.js";
import { nameKey } from "/js/mentions.js";
import { avatar } from "/js/avatars.js";

const MAX_SHOWN = 8;
// The name being typed right before the caret, after an `@` that starts a name.
const TYPING_NAME = /(?:^|[^\p{L}\p{N}_@.+-])@([\p{L}\p{N}_.-]{0,64})$/u;

/** The whole room, as a candidate. */
const ROOM = { id: "room", username: "room", display_name: "Everyone in the room" };

function matches(user, key) {
  if (!key) return true;
  const username = nameKey(user.username || "");
  const name = nameKey(displayName(user));
  return username.startsWith(key) || name.startsWith(key) || name.split(/\s+/u).some((w) => w.startsWith(key));
}

/** Give `input` (a textarea in a form) an `@` autocomplete. candidates() lists the
 *  users it may offer ({id, username, display_name}). Attach it before the input's own
 *  keydown listener: a key it uses (Enter, Tab) is the picker's while it is open. */
export function attachMentionPicker(input, { candidates }) {
  const menu = el("ul", { class: "mention-menu", role: "listbox", id: `${input.id}-mentions`, "aria-label": "Mention someone" });
  menu.hidden = true;
  input.form.append(menu);
  input.setAttribute("aria-autocomplete", "list");
  input.setAttribute("aria-controls", menu.id);
  input.setAttribute("aria-expanded", "false");
  let shown = { items: [], active: 0, start: 0, end: 0 };

  const isOpen = () => !menu.hidden;

  function close() {
    if (!isOpen()) return;
    menu.hidden = true;
    menu.replaceChildren();
    input.setAttribute("aria-expanded", "false");
    input.removeAttribute("aria-activedescendant");
  }

  function typedName() {
    const caret = input.selectionStart;
    if (caret === null || caret !== input.selectionEnd) return null;
    const match = input.value.slice(0, caret).match(TYPING_NAME);
    if (!match) return null;
    return { key: nameKey(match[1]), start: caret - match[1].length - 1, end: caret };
  }

  function update() {
    const typed = typedName();
    if (!typed) {
      close();
      return;
    }
    const users = [...candidates().filter((u) => u.username), ROOM];
    const items = users.filter((u) => matches(u, typed.key)).slice(0, MAX_SHOWN);
    if (items.length === 0) {
      close();
      return;
    }
    const same = isOpen() && shown.items.length === items.length && shown.items.every((u, i) => u.id === items[i].id);
    shown = { items, active: same ? Math.min(shown.active, items.length - 1) : 0, start: typed.start, end: typed.end };
    render();
  }

  function render() {
    menu.replaceChildren(...shown.items.map((user, index) => el("li", {
      role: "option",
      id: `${menu.id}-${index}`,
      class: index === shown.active ? "active" : null,
      "aria-selected": String(index === shown.active),
      dataset: { username: user.username },
      onmousedown: (ev) => {
        ev.preventDefault(); // the input keeps the focus
        pick(index);
      },
    },
    user === ROOM
      ? el("span", { class: "avatar sm room-avatar", "aria-hidden": "true", dataset: { initial: "@" } })
      : avatar(user, { size: "sm" }),
    el("span", { class: "mention-name", text: displayName(user) }),
    el("span", { class: "muted small", text: `@${user.username}` }))));
    menu.hidden = false;
    input.setAttribute("aria-expanded", "true");
    input.setAttribute("aria-activedescendant", `${menu.id}-${shown.active}`);
  }

  function pick(index) {
    const user = shown.items[index];
    if (!user) return;
    input.setRangeText(`@${user.username} `, shown.start, shown.end, "end");
    close();
    input.focus();
    input.dispatchEvent(new Event("input", { bubbles: true })); // typing, the box's size
  }

  input.addEventListener("keydown", (ev) => {
    if (!isOpen() || ev.isComposing) return;
    const n = shown.items.length;
    if (ev.key === "ArrowDown" || ev.key === "ArrowUp") {
      ev.preventDefault();
      shown.active = (shown.active + (ev.key === "ArrowDown" ? 1 : n - 1)) % n;
      render();
    } else if (ev.key === "Enter" || ev.key === "Tab") {
      ev.preventDefault();
      ev.stopImmediatePropagation();
      pick(shown.active);
    } else if (ev.key === "Escape") {
      ev.preventDefault();
      ev.stopPropagation();
      close();
    }
  });
  input.addEventListener("input", update);
  input.addEventListener("click", update);
  input.addEventListener("keyup", (ev) => {
    if (["ArrowLeft", "ArrowRight", "Home", "End"].includes(ev.key)) update();
  });
  input.addEventListener("blur", close);
  return { close };
}
