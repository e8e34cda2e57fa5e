// The timeline of the open room, drawn from the SDK's room state: its messages ordered
// by seq, with the user's own not yet stored (pending, or failed: retry or discard; keyed
// by client_msg_id) kept below them. Quiet notices (joins, leaves, room changes) sit
// between the messages at their event's seq. A message changes in place: edited text, a
// tombstone once deleted, its reactions, its thread's summary. Buttons carry data-act;
// what they do is messageactions.js (one listener on the list) and composer.js (the
// pending list). The room's timeline shows top-level messages only; a thread's timeline
// (threadpanel.js, its own elements) shows its root, then its replies.

import { $, el, displayName, formatTime } from "/js/dom.js";
import { mentionNodes, mentionsKey, mentionsMe } from "/js/mentions.js";
import { renderMessageText } from "/js/format.js";
import { renderAttachments } from "/js/attachments.js";
import { avatar, refreshAvatar } from "/js/avatars.js";
import { userById, noteUserSeen } from "/js/users_data.js";

/** The reactions offered on every message. */
export const QUICK_REACTIONS = ["👍", "❤️", "😂", "🎉"];

const NEAR_BOTTOM_PX = 80;
const CONTINUATION_MS = 5 * 60 * 1000;
// A message "Sending…" for longer than this is marked as not sent yet: the connection
// may be dead before the heartbeat can tell (js/heartbeat.js).
const STALLED_MS = 3000;

/** A message as the timeline keeps it: the fields a new message leaves out filled in. */
function normalise(msg) {
  return {
    ...msg,
    edited_at: msg.edited_at ?? null,
    deleted_at: msg.deleted_at ?? null,
    reactions: Array.isArray(msg.reactions) ? msg.reactions.map((r) => ({ ...r, user_ids: [...(r.user_ids || [])] })) : [],
  };
}

/** Whether a stored message changed between two of the SDK's states: it makes a new
 *  message object for each change, and keeps the parts (reactions, content) of one that
 *  did not change. */
function differs(old, now) {
  return old.message_text !== now.message_text || old.message_content !== now.message_content
    || old.edited_at !== now.edited_at || old.deleted_at !== now.deleted_at
    || old.reactions !== now.reactions || old.thread !== now.thread
    || old.mentions !== now.mentions || old.mentions_room !== now.mentions_room;
}

/** A thread summary: "3 replies · 10:42". */
export function threadSummary(thread) {
  const n = thread?.reply_count ?? 0;
  const when = thread?.last_reply_at ? ` · last reply ${formatTime(thread.last_reply_at)}` : "";
  return `${n} ${n === 1 ? "reply" : "replies"}${when}`;
}

/** Who wrote `msg`, as newest known: a name or picture changed since shows on it too. */
function authorOf(msg) {
  return userById(msg.user_id) || msg.user || null;
}

export class Timeline {
  /** nameOf(userId) names a user for the reactions' tooltips; userOf(userId) gives a
   *  user (their username: mentions); onChange() runs after messages or notices were
   *  added, deleted, or the timeline was reset. `thread`: the root id of the thread this
   *  timeline shows (its own elements: `elements`), or null for the room's. */
  constructor({ meId, nameOf = null, userOf = null, onChange = null, thread = null, elements = null }) {
    this.meId = meId;
    this.nameOf = nameOf;
    this.userOf = userOf;
    this.onChange = onChange;
    this.thread = thread;
    this.divider = el("div", { class: "unread-divider", role: "separator", text: "New messages" });
    this.moderator = false;
    this.connected = false;
    const els = elements || { list: "message-list", pendingList: "pending-list", scroller: "messages", jumpBtn: "jump-btn" };
    this.list = $(els.list);
    this.pendingList = $(els.pendingList);
    this.scroller = $(els.scroller);
    this.jumpBtn = $(els.jumpBtn);
    this.reset(null);
    this.jumpBtn.onclick = () => this.scrollToBottom();
    this.scroller.addEventListener("scroll", () => {
      if (this.isNearBottom()) this.jumpBtn.hidden = true;
    });
  }

  reset(roomId) {
    this.roomId = roomId;
    // seq -> entry: {kind: "msg", source (the SDK's message), msg, node, parts, mine, editor}
    // | {kind: "notice", node}
    this.items = new Map();
    this.seqs = []; // sorted
    this.byId = new Map(); // message id -> seq
    this.messageCount = 0;
    this.pending = new Map(); // client_msg_id -> {item, node, state, actions}
    this.unread = null; // {after, upto}: where the "new messages" line goes
    this.divider.remove();
    this.list.replaceChildren();
    this.pendingList.replaceChildren();
    this.jumpBtn.hidden = true;
    this.onChange?.();
  }

  /** Whether this timeline shows `msg`: the room's, its top-level messages; a thread's,
   *  its root and its replies. */
  shows(msg) {
    if (this.thread === null) return !msg.thread_root_id;
    return msg.id === this.thread || msg.thread_root_id === this.thread;
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

  /** Show the room as the SDK's state has it (`room.state`): its stored messages by seq,
   *  each as it is now (edited, a tombstone, its reactions), then the user's own on their
   *  way or refused. Only what changed is touched. `scroll`: "bottom" for the first
   *  history; otherwise the view stays at the bottom if it was there (or the user sent
   *  something), older messages paged in keep the visible ones where they are. */
  sync(state, { scroll = "auto" } = {}) {
    const s = this.scroller;
    const wasNearBottom = this.isNearBottom();
    const before = { height: s.scrollHeight, top: s.scrollTop, first: this.firstMessageSeq() };
    const present = new Set();
    const pending = [];
    let newer = 0;
    let older = 0;
    let mineAdded = false;
    let changed = false;
    for (const source of state.messages) {
      if (!this.shows(source)) continue;
      if (source.status !== "sent") {
        pending.push(source);
        continue;
      }
      present.add(source.seq);
      const entry = this.items.get(source.seq);
      if (entry) {
        if (entry.kind === "msg" && differs(entry.source, source)) changed = this.update(entry, source) || changed;
        continue;
      }
      this.addMessage(source);
      if (before.first !== null && source.seq < before.first) older += 1;
      else newer += 1;
      if (source.user_id === this.meId) mineAdded = true;
    }
    for (const [seq, entry] of [...this.items]) {
      if (entry.kind === "msg" && !present.has(seq)) {
        this.removeAt(seq); // the SDK keeps a bounded window: paged in again on scrolling up
        changed = true;
      }
    }
    const pendingAdded = this.syncPending(pending);
    if (newer || older) {
      if (this.unread) this.placeDivider();
      if (older && !newer) s.scrollTop = before.top + (s.scrollHeight - before.height);
      else if (scroll === "bottom" || wasNearBottom || mineAdded) this.scrollToBottom();
      else this.jumpBtn.hidden = false;
    }
    if (pendingAdded) this.scrollToBottom();
    if (newer || older || changed) this.onChange?.();
  }

  firstMessageSeq() {
    for (const seq of this.seqs) if (this.items.get(seq).kind === "msg") return seq;
    return null;
  }

  addMessage(source) {
    const msg = normalise(source);
    noteUserSeen(msg.user);
    const entry = { kind: "msg", source, msg, node: null, parts: null, mine: this.mineFrom(msg), editor: null, actionsKey: "" };
    this.build(entry);
    this.insert(msg.seq, entry);
    this.byId.set(msg.id, msg.seq);
    this.messageCount += 1;
  }

  /** A message changed (edited, deleted, reacted to). True when it was deleted now. */
  update(entry, source) {
    const deletedNow = Boolean(source.deleted_at) && !entry.msg.deleted_at;
    entry.source = source;
    entry.msg = normalise(source);
    entry.mine = entry.msg.deleted_at ? new Set() : this.mineFrom(entry.msg, entry.mine);
    if (entry.msg.deleted_at) entry.editor = null;
    this.refresh(entry);
    return deletedNow;
  }

  removeAt(seq) {
    const entry = this.items.get(seq);
    const idx = this.seqs.indexOf(seq);
    entry.node.remove();
    this.items.delete(seq);
    this.seqs.splice(idx, 1);
    if (entry.kind === "msg") {
      this.byId.delete(entry.msg.id);
      this.messageCount -= 1;
    }
    this.restyleAround(idx - 1);
  }

  /** The user reacted (or took it back): this client knows, beyond the 20 listed names. */
  noteReaction(id, reaction, given) {
    const entry = this.entryOf(id);
    if (!entry) return;
    if (given) entry.mine.add(reaction);
    else entry.mine.delete(reaction);
    this.refresh(entry);
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

  /** Draw every message again (the names its mentions need are known now, or someone's
   *  name or picture changed: users_data.js). */
  refreshAll() {
    for (const entry of this.items.values()) if (entry.kind === "msg") this.refresh(entry);
    for (const p of this.pending.values()) this.paintAuthor(p.parts, p.author);
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

  /** The newest user known for `userId`, else the first seen in the loaded messages. */
  userFor(userId) {
    const known = userById(userId);
    if (known) return known;
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
      author: el("span", { class: "author" }),
      avatar: avatar(authorOf(msg), { size: "sm", userId: msg.user_id }),
      edited: el("span", { class: "edited", text: "(edited)" }),
      actions: el("div", { class: "actions", role: "toolbar", "aria-label": "Message actions" }),
      reactions: el("div", { class: "reactions", "aria-label": "Reactions" }),
      // The room's timeline opens a root's thread from it; a thread's shows it as a line.
      thread: this.thread === null
        ? el("button", { type: "button", class: "thread-summary link-btn", dataset: { act: "thread" } })
        : el("div", { class: "thread-summary muted small" }),
    };
    entry.parts = parts;
    entry.node = el("li", {
      class: `msg${msg.user_id === this.meId ? " mine" : ""}`,
      dataset: { seq: msg.seq, userId: msg.user_id, messageId: msg.id },
    },
    el("div", { class: "meta" },
      parts.avatar,
      parts.author,
      el("time", { datetime: msg.created_at, title: new Date(msg.created_at).toLocaleString(), text: formatTime(msg.created_at) })),
    el("div", { class: "line" }, parts.bubble, parts.edited, parts.actions),
    parts.reactions,
    parts.thread);
    this.fill(entry);
  }

  refresh(entry) {
    this.keepingBottom(() => this.fill(entry));
  }

  /** The author line's name and picture, as newest known. */
  paintAuthor(parts, msg) {
    const author = authorOf(msg);
    const name = displayName(author, msg.user_id);
    if (parts.author.textContent !== name) parts.author.textContent = name;
    parts.avatar = refreshAvatar(parts.avatar, author, { size: "sm", userId: msg.user_id });
  }

  /** Bring a message's node up to date with entry.msg (the node itself stays). */
  fill(entry) {
    const { msg, parts, node } = entry;
    this.paintAuthor(parts, msg);
    const deleted = Boolean(msg.deleted_at);
    node.classList.toggle("deleted", deleted);
    node.classList.toggle("editing", Boolean(entry.editor));
    if (deleted) node.classList.remove("show-actions");

    node.classList.toggle("mentions-me", mentionsMe(msg, this.meId));
    // Links and Markdown as DOM nodes (js/format.js), mentions as spans inside its
    // plain text (js/mentions.js); redrawn only when the text or its mentions change.
    const shown = deleted ? null : `${mentionsKey(msg, this.userOf)}|${msg.message_text ?? ""}`;
    if (entry.shownText !== shown) {
      entry.shownText = shown;
      if (deleted) parts.bubble.textContent = "message deleted";
      else {
        renderMessageText(msg.message_text ?? "", parts.bubble, {
          decorateText: (run) => mentionNodes(run, msg, this.meId, this.userOf),
        });
      }
    }
    if (entry.editor && !entry.editor.isConnected) parts.bubble.replaceWith(entry.editor);
    else if (!entry.editor && !parts.bubble.isConnected) node.querySelector(".line > .editor")?.replaceWith(parts.bubble);

    renderAttachments(msg, node); // its files (issue 24), after the text
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
      if (!deleted) buttons.push(el("button", { type: "button", class: "react-btn more-react-btn", dataset: { act: "emoji" }, title: "More reactions", "aria-label": "More reactions", "aria-haspopup": "dialog", text: "+" }));
      if (!deleted && this.thread === null) {
        buttons.push(el("button", { type: "button", class: "reply-btn", dataset: { act: "thread" }, text: "Reply in thread" }));
      }
      if (!deleted && mine) buttons.push(el("button", { type: "button", class: "edit-btn", dataset: { act: "edit" }, text: "Edit" }));
      // Others' messages only: one's own never count as unread. A thread's replies are
      // read with the thread (threadpanel.js), not the room.
      if (!deleted && !mine && this.thread === null) {
        buttons.push(el("button", { type: "button", class: "unread-btn", dataset: { act: "unread" }, text: "Mark unread" }));
      }
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

    // A root's thread: how many replies, and when the last came (a reply has none).
    const thread = msg.thread && msg.thread.reply_count > 0 ? msg.thread : null;
    parts.thread.hidden = !thread;
    if (thread) {
      parts.thread.textContent = threadSummary(thread);
      if (thread.last_reply_at) parts.thread.title = `Last reply ${new Date(thread.last_reply_at).toLocaleString()}`;
    }
  }

  // ---- the user's messages on their way (the SDK's outbox)

  /** Waiting messages say whether they go out now or once connected again. */
  setConnected(connected) {
    if (this.connected === connected) return;
    this.connected = connected;
    for (const p of this.pending.values()) {
      if (connected) this.watchStall(p); // sent again now
      this.paintPending(p);
    }
  }

  /** The pending and failed messages of the state, in sending order. True if one is new. */
  syncPending(items) {
    const present = new Set();
    let added = false;
    for (const item of items) {
      present.add(item.client_msg_id);
      let p = this.pending.get(item.client_msg_id);
      if (!p) {
        p = this.buildPending(item);
        this.pending.set(item.client_msg_id, p);
        this.watchStall(p);
        this.pendingList.append(p.node);
        added = true;
      }
      p.item = item;
      this.paintPending(p);
    }
    for (const [id, p] of [...this.pending]) {
      if (present.has(id)) continue;
      clearTimeout(p.stallTimer);
      p.node.remove(); // stored (it shows above now), or discarded
      this.pending.delete(id);
    }
    return added;
  }

  buildPending(item) {
    const state = el("span", { class: "state" });
    const actions = el("div", { class: "pending-actions" },
      el("button", { type: "button", class: "link-btn", dataset: { act: "retry" }, text: "Retry" }),
      el("button", { type: "button", class: "link-btn", dataset: { act: "discard" }, text: "Discard" }));
    const bubble = el("div", { class: "bubble" });
    renderMessageText(item.message_text, bubble); // as it will show once stored
    // The user's own: drawn as their messages are (paintAuthor), with their newest profile.
    const author = { user_id: item.user?.id ?? this.meId, user: item.user };
    const parts = { author: el("span", { class: "author" }), avatar: avatar(authorOf(author), { size: "sm", userId: author.user_id }) };
    const node = el("li", { class: "msg mine sending", dataset: { clientMsgId: item.client_msg_id } },
      el("div", { class: "meta" }, parts.avatar, parts.author),
      bubble,
      state, actions);
    this.paintAuthor(parts, author);
    return { item, node, state, actions, parts, author };
  }

  /** Repaint `p` once it has been sending for STALLED_MS (if it still is). */
  watchStall(p) {
    p.since = Date.now();
    clearTimeout(p.stallTimer);
    p.stallTimer = setTimeout(() => {
      if (this.pending.get(p.item.client_msg_id) === p) this.paintPending(p);
    }, STALLED_MS + 20);
  }

  paintPending(p) {
    const failed = p.item.status === "failed";
    const stalled = !failed && this.connected && Date.now() - p.since >= STALLED_MS;
    p.node.classList.toggle("sending", !failed);
    p.node.classList.toggle("failed", failed);
    // Not on its way: said plainly (and marked), so nobody takes it as sent.
    p.node.classList.toggle("unsent", !failed && (stalled || !this.connected));
    p.state.textContent = failed
      ? `Not sent: ${p.item.error?.message || "refused"}`
      : !this.connected ? "Waiting for connection…" : stalled ? "Not sent yet: checking the connection…" : "Sending…";
    p.actions.hidden = !failed;
  }
}

// The one timeline the page shows, made at the first sign-in (it needs the page's
// elements and the user): null until then.
let pageTimeline = null;

export function currentTimeline() {
  return pageTimeline;
}

/** Make the page's timeline, or (signed in again) tell it whose messages are "mine". */
export function showTimeline({ meId, nameOf, userOf, onChange }) {
  if (pageTimeline) pageTimeline.meId = meId;
  else pageTimeline = new Timeline({ meId, nameOf, userOf, onChange });
  return pageTimeline;
}
