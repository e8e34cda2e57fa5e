// The timeline of the open room: its messages ordered by seq, deduplicated by seq, with
// the user's own not-yet-confirmed messages (keyed by client_msg_id) kept below them.
// Quiet notices (joins, leaves, room changes) sit between the messages at their event's
// seq. A message changes in place: edited text, a tombstone once deleted, its reactions.
// Buttons carry data-act; what they do is messageactions.js (one listener on the list).

import { $, el, displayName, formatTime } from "/js/dom.js";

/** The reactions offered on every message. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉"];

const NEAR_BOTTOM_PX = 80;
const CONTINUATION_MS = 5 * 60 * 1000;

/** A message as the timeline keeps it: the fields a new message leaves out filled in. */
function normalise(msg) {
  return {
    ...msg,
    edited_at: msg.edited_at ?? null,
    deleted_at: msg.deleted_at ?? null,
    reactions: Array.isArray(msg.reactions) ? msg.reactions.map((r) => ({ ...r, user_ids: [...(r.user_ids || [])] })) : [],
  };
}

export class Timeline {
  /** nameOf(userId) names a user for the reactions' tooltips; onChange() runs after
   *  messages or notices were added, deleted, or the timeline was reset. */
  constructor({ meId, nameOf = null, onChange = null }) {
    this.meId = meId;
    this.nameOf = nameOf;
    this.onChange = onChange;
    this.divider = el("div", { class: "unread-divider", role: "separator", text: "New messages" });
    this.moderator = false;
    this.list = $("message-list");
    this.pendingList = $("pending-list");
    this.scroller = $("messages");
    this.jumpBtn = $("jump-btn");
    this.reset(null);
    this.jumpBtn.onclick = () => this.scrollToBottom();
    this.scroller.addEventListener("scroll", () => {
      if (this.isNearBottom()) this.jumpBtn.hidden = true;
    });
  }

  reset(roomId) {
    this.roomId = roomId;
    this.items = new Map(); // seq -> entry: {kind: "msg", msg, node, parts, mine, editor} | {kind: "notice", node}
    this.seqs = []; // sorted
    this.byId = new Map(); // message id -> seq
    this.messageCount = 0;
    this.pending = new Map(); // client_msg_id -> {item, node}
    this.unread = null; // {after, upto}: where the "new messages" line goes
    this.divider.remove();
    this.list.replaceChildren();
    this.pendingList.replaceChildren();
    this.jumpBtn.hidden = true;
    this.onChange?.();
  }

  get firstSeq() { return this.seqs.length ? this.seqs[0] : 0; }
  get lastSeq() { return this.seqs.length ? this.seqs[this.seqs.length - 1] : 0; }

  isNearBottom() {
    const s = this.scroller;
    return s.scrollHeight - s.scrollTop - s.clientHeight < NEAR_BOTTOM_PX;
  }

  scrollToBottom() {
    this.scroller.scrollTop = this.scroller.scrollHeight;
    this.jumpBtn.hidden = true;
  }

  /** Run a change that may grow the list, staying at the bottom if the view was there. */
  keepingBottom(change) {
    const wasNearBottom = this.isNearBottom();
    change();
    if (wasNearBottom) this.scrollToBottom();
  }

  /** Add confirmed messages (any order, duplicates ignored). Returns how many were new. */
  add(messages, { scroll = "auto" } = {}) {
    const wasNearBottom = this.isNearBottom();
    let added = 0;
    let mineAdded = false;
    for (const raw of messages) {
      if (!raw || raw.room_id !== this.roomId || typeof raw.seq !== "number") continue;
      if (raw.client_msg_id && this.pending.has(raw.client_msg_id)) {
        this.pending.get(raw.client_msg_id).node.remove();
        this.pending.delete(raw.client_msg_id);
      }
      if (this.items.has(raw.seq)) continue;
      const msg = normalise(raw);
      const entry = { kind: "msg", msg, node: null, parts: null, mine: this.mineFrom(msg), editor: null, actionsKey: "" };
      this.build(entry);
      this.insert(msg.seq, entry);
      this.byId.set(msg.id, msg.seq);
      this.messageCount += 1;
      added += 1;
      if (msg.user_id === this.meId) mineAdded = true;
    }
    if (added) {
      if (this.unread) this.placeDivider();
      if (scroll === "bottom" || (scroll === "auto" && (wasNearBottom || mineAdded))) this.scrollToBottom();
      else if (scroll === "auto") this.jumpBtn.hidden = false;
      this.onChange?.();
    }
    return added;
  }

  /** The "new messages" line: before the first message after `lastReadSeq` written by
   *  someone else, among those up to `uptoSeq` (what was there when the room opened).
   *  A null lastReadSeq takes it away. */
  markUnread(lastReadSeq, uptoSeq) {
    this.unread = typeof lastReadSeq === "number" ? { after: lastReadSeq, upto: uptoSeq ?? Infinity } : null;
    this.placeDivider();
  }

  placeDivider() {
    const first = this.unread && this.seqs.find((seq) => {
      const entry = this.items.get(seq);
      return seq > this.unread.after && seq <= this.unread.upto && entry.kind === "msg"
        && entry.msg.user_id !== this.meId && !entry.msg.deleted_at;
    });
    const entry = first ? this.items.get(first) : null;
    if (!entry) this.divider.remove();
    else if (this.divider.parentNode !== entry.node) entry.node.prepend(this.divider);
    for (const e of this.items.values()) if (e.kind === "msg") e.node.classList.toggle("first-unread", e === entry);
  }

  /** Bring the "new messages" line into view if it is above the top of the view. */
  revealDivider() {
    if (!this.divider.isConnected) return;
    const top = this.divider.getBoundingClientRect().top - this.scroller.getBoundingClientRect().top;
    if (top < 0) this.scroller.scrollTop += top - 8;
  }

  /** A quiet line at an event's place in the room (someone joined, the room was renamed). */
  addNotice(seq, text) {
    if (typeof seq !== "number" || this.items.has(seq)) return;
    const node = el("li", { class: "notice", dataset: { seq } }, text);
    this.keepingBottom(() => this.insert(seq, { kind: "notice", node }));
    this.onChange?.();
  }

  /** Prepend older messages while keeping the visible ones where they are. */
  prependOlder(messages) {
    const s = this.scroller;
    const before = s.scrollHeight;
    const top = s.scrollTop;
    const n = this.add(messages, { scroll: "none" });
    s.scrollTop = top + (s.scrollHeight - before);
    return n;
  }

  insert(seq, entry) {
    const idx = this.insertIndex(seq);
    const after = idx < this.seqs.length ? this.items.get(this.seqs[idx]).node : null;
    this.list.insertBefore(entry.node, after);
    this.seqs.splice(idx, 0, seq);
    this.items.set(seq, entry);
    this.restyleAround(idx);
  }

  insertIndex(seq) {
    let lo = 0;
    let hi = this.seqs.length;
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (this.seqs[mid] < seq) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /** Hide the author line of a message right after one by the same author (the previous
   *  rendered item: seqs have gaps, and a notice in between breaks the run). */
  restyleAround(idx) {
    for (const i of [idx, idx + 1]) {
      if (i < 0 || i >= this.seqs.length) continue;
      const cur = this.items.get(this.seqs[i]);
      if (cur.kind !== "msg") continue;
      const prev = i > 0 ? this.items.get(this.seqs[i - 1]) : null;
      const cont = prev?.kind === "msg" && prev.msg.user_id === cur.msg.user_id
        && Date.parse(cur.msg.created_at) - Date.parse(prev.msg.created_at) < CONTINUATION_MS;
      cur.node.classList.toggle("cont", cont);
    }
  }

  // ---- messages that change

  /** The entry of the message at `seq`, or of the message with id `id`. */
  entryAt(seq) {
    const entry = this.items.get(seq);
    return entry?.kind === "msg" ? entry : null;
  }
  entryOf(id) {
    const seq = this.byId.get(id);
    return seq === undefined ? null : this.entryAt(seq);
  }

  /** Which reactions the user gave: the listed user ids (capped at 20 names), plus what
   *  this client saw them give. */
  mineFrom(msg, known = null) {
    const mine = new Set();
    for (const r of msg.reactions) {
      if (r.user_ids.includes(this.meId) || (known?.has(r.reaction) && r.count > r.user_ids.length)) mine.add(r.reaction);
    }
    return mine;
  }

  /** room_chat_message_edited: the message as it is now replaces the one with its id. */
  replaceMessage(raw) {
    const entry = raw && this.entryOf(raw.id);
    if (!entry) return;
    entry.msg = normalise({ ...entry.msg, ...raw });
    entry.mine = this.mineFrom(entry.msg, entry.mine);
    this.refresh(entry);
  }

  /** The reply to the user's own edit: its text now (the broadcast that follows agrees). */
  applyEdit(raw) {
    const entry = raw && this.entryOf(raw.id);
    if (!entry || entry.msg.deleted_at) return;
    entry.msg = { ...entry.msg, message_text: raw.message_text, message_content: raw.message_content ?? null, edited_at: raw.edited_at ?? entry.msg.edited_at };
    this.refresh(entry);
  }

  /** room_chat_message_deleted: a tombstone, without text or reactions. */
  markDeleted(id) {
    const entry = this.entryOf(id);
    if (!entry) return;
    entry.msg = { ...entry.msg, message_text: null, message_content: null, reactions: [], deleted_at: entry.msg.deleted_at || new Date().toISOString() };
    entry.mine = new Set();
    entry.editor = null;
    this.refresh(entry);
    this.onChange?.();
  }

  /** room_chat_reaction_added (delta +1) / _removed (-1). */
  react(id, reaction, userId, delta) {
    const entry = this.entryOf(id);
    if (!entry || entry.msg.deleted_at) return;
    const reactions = entry.msg.reactions;
    let r = reactions.find((x) => x.reaction === reaction);
    if (delta > 0) {
      if (!r) {
        r = { reaction, count: 0, user_ids: [] };
        reactions.push(r);
      }
      r.count += 1;
      if (!r.user_ids.includes(userId) && r.user_ids.length < 20) r.user_ids.push(userId);
      if (userId === this.meId) entry.mine.add(reaction);
    } else if (r) {
      r.count = Math.max(0, r.count - 1);
      r.user_ids = r.user_ids.filter((u) => u !== userId);
      if (r.count === 0) reactions.splice(reactions.indexOf(r), 1);
      if (userId === this.meId) entry.mine.delete(reaction);
    }
    this.refresh(entry);
  }

  /** Show an inline editor (a form) in place of the message's bubble; null puts it back. */
  setEditor(seq, form) {
    const entry = this.entryAt(seq);
    if (!entry) return;
    entry.editor = form;
    this.refresh(entry);
  }

  /** The room's creator and the workspace owner may delete anyone's messages. */
  setModerator(flag) {
    if (this.moderator === flag) return;
    this.moderator = flag;
    for (const entry of this.items.values()) if (entry.kind === "msg") this.refresh(entry);
  }

  /** The first user object seen for `userId` in the loaded messages. */
  userFor(userId) {
    for (const entry of this.items.values()) {
      if (entry.kind === "msg" && entry.msg.user_id === userId && entry.msg.user) return entry.msg.user;
    }
    return null;
  }

  // ---- rendering

  build(entry) {
    const msg = entry.msg;
    const parts = {
      bubble: el("div", { class: "bubble" }),
      edited: el("span", { class: "edited", text: "(edited)" }),
      actions: el("div", { class: "actions", role: "toolbar", "aria-label": "Message actions" }),
      reactions: el("div", { class: "reactions", "aria-label": "Reactions" }),
    };
    entry.parts = parts;
    entry.node = el("li", {
      class: `msg${msg.user_id === this.meId ? " mine" : ""}`,
      dataset: { seq: msg.seq, userId: msg.user_id, messageId: msg.id },
    },
    el("div", { class: "meta" },
      el("span", { class: "author", text: displayName(msg.user, msg.user_id) }),
      el("time", { datetime: msg.created_at, title: new Date(msg.created_at).toLocaleString(), text: formatTime(msg.created_at) })),
    el("div", { class: "line" }, parts.bubble, parts.edited, parts.actions),
    parts.reactions);
    this.fill(entry);
  }

  refresh(entry) {
    this.keepingBottom(() => this.fill(entry));
  }

  /** Bring a message's node up to date with entry.msg (the node itself stays). */
  fill(entry) {
    const { msg, parts, node } = entry;
    const deleted = Boolean(msg.deleted_at);
    node.classList.toggle("deleted", deleted);
    node.classList.toggle("editing", Boolean(entry.editor));
    if (deleted) node.classList.remove("show-actions");

    parts.bubble.textContent = deleted ? "message deleted" : (msg.message_text ?? "");
    if (entry.editor && !entry.editor.isConnected) parts.bubble.replaceWith(entry.editor);
    else if (!entry.editor && !parts.bubble.isConnected) node.querySelector(".line > .editor")?.replaceWith(parts.bubble);

    parts.edited.hidden = deleted || !msg.edited_at;
    if (msg.edited_at) parts.edited.title = `Edited ${new Date(msg.edited_at).toLocaleString()}`;

    const mine = msg.user_id === this.meId;
    const actionsKey = `${deleted}|${this.moderator}`;
    if (entry.actionsKey !== actionsKey) {
      entry.actionsKey = actionsKey;
      parts.actions.hidden = deleted;
      const buttons = deleted ? [] : QUICK_REACTIONS.map((reaction) => el("button", {
        type: "button", class: "react-btn", dataset: { act: "react", reaction },
        title: `React with ${reaction}`, "aria-label": `React with ${reaction}`,
      }, reaction));
      if (!deleted && mine) buttons.push(el("button", { type: "button", class: "edit-btn", dataset: { act: "edit" }, text: "Edit" }));
      // Others' messages only: one's own never count as unread.
      if (!deleted && !mine) buttons.push(el("button", { type: "button", class: "unread-btn", dataset: { act: "unread" }, text: "Mark unread" }));
      if (!deleted && (mine || this.moderator)) {
        buttons.push(el("button", { type: "button", class: "delete-btn", dataset: { act: "delete" }, text: "Delete" }));
      }
      parts.actions.replaceChildren(...buttons);
    }

    // Rebuilt on every change; a reaction button that had the focus keeps it.
    const focused = parts.reactions.contains(document.activeElement) ? document.activeElement.dataset.reaction : null;
    const chips = deleted ? [] : msg.reactions.filter((r) => r.count > 0).map((r) => {
      const given = entry.mine.has(r.reaction);
      const names = r.user_ids.map((id) => (id === this.meId ? "you" : this.nameOf?.(id) || `user ${id}`));
      const others = r.count - names.length;
      return el("button", {
        type: "button", class: "reaction", dataset: { act: "react", reaction: r.reaction },
        "aria-pressed": String(given),
        title: `${names.join(", ")}${others > 0 ? ` and ${others} more` : ""}${given ? " (click to remove yours)" : ""}`,
      },
      el("span", { class: "emoji", text: r.reaction }),
      el("span", { class: "count", text: String(r.count) }));
    });
    parts.reactions.replaceChildren(...chips);
    parts.reactions.hidden = chips.length === 0;
    if (focused) [...parts.reactions.children].find((b) => b.dataset.reaction === focused)?.focus({ preventScroll: true });
  }

  /** Show a message the user sent that the server has not confirmed yet. */
  addPending(item, meUser) {
    const node = el("li", { class: "msg mine sending", dataset: { clientMsgId: item.client_msg_id } },
      el("div", { class: "meta" }, el("span", { class: "author", text: displayName(meUser) })),
      el("div", { class: "bubble", text: item.message_text }),
      el("span", { class: "state", text: "Sending…" }));
    this.pendingList.append(node);
    this.pending.set(item.client_msg_id, { item, node });
    this.scrollToBottom();
  }

  markPending(clientMsgId, status, text) {
    const p = this.pending.get(clientMsgId);
    if (!p) return;
    p.node.classList.toggle("sending", status === "sending");
    p.node.classList.toggle("failed", status === "failed");
    p.node.querySelector(".state").textContent = text;
  }

  dropPending(clientMsgId) {
    const p = this.pending.get(clientMsgId);
    if (p) p.node.remove();
    this.pending.delete(clientMsgId);
  }
}

// The one timeline the page shows, made at the first sign-in (it needs the page's
// elements and the user): null until then.
let pageTimeline = null;

export function currentTimeline() {
  return pageTimeline;
}

/** Make the page's timeline, or (signed in again) tell it whose messages are "mine". */
export function showTimeline({ meId, nameOf, onChange }) {
  if (pageTimeline) pageTimeline.meId = meId;
  else pageTimeline = new Timeline({ meId, nameOf, onChange });
  return pageTimeline;
}
