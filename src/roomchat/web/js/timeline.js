// The message list of the open room: ordered by seq, deduplicated by seq, with the
// user's own not-yet-confirmed messages (keyed by client_msg_id) kept below them.

import { $, el, displayName, formatTime } from "/js/dom.js";

const NEAR_BOTTOM_PX = 80;

export class Timeline {
  constructor({ meId }) {
    this.meId = meId;
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
    this.bySeq = new Map(); // seq -> {msg, node}
    this.seqs = []; // sorted
    this.pending = new Map(); // client_msg_id -> {item, node}
    this.list.replaceChildren();
    this.pendingList.replaceChildren();
    this.jumpBtn.hidden = true;
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

  /** Add confirmed messages (any order, duplicates ignored). Returns how many were new. */
  add(messages, { scroll = "auto" } = {}) {
    const wasNearBottom = this.isNearBottom();
    let added = 0;
    let mineAdded = false;
    for (const msg of messages) {
      if (!msg || msg.room_id !== this.roomId || typeof msg.seq !== "number") continue;
      if (msg.client_msg_id && this.pending.has(msg.client_msg_id)) {
        this.pending.get(msg.client_msg_id).node.remove();
        this.pending.delete(msg.client_msg_id);
      }
      if (this.bySeq.has(msg.seq)) continue;
      const node = this.renderMessage(msg);
      const idx = this.insertIndex(msg.seq);
      const after = idx < this.seqs.length ? this.bySeq.get(this.seqs[idx]).node : null;
      this.list.insertBefore(node, after);
      this.seqs.splice(idx, 0, msg.seq);
      this.bySeq.set(msg.seq, { msg, node });
      this.restyleAround(msg.seq);
      added += 1;
      if (msg.user_id === this.meId) mineAdded = true;
    }
    if (added) {
      if (scroll === "bottom" || (scroll === "auto" && (wasNearBottom || mineAdded))) this.scrollToBottom();
      else if (scroll === "auto") this.jumpBtn.hidden = false;
    }
    return added;
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

  /** Hide the author line of a message that directly follows one by the same author. */
  restyleAround(seq) {
    const idx = this.seqs.indexOf(seq);
    for (const i of [idx, idx + 1]) {
      if (i < 0 || i >= this.seqs.length) continue;
      const cur = this.bySeq.get(this.seqs[i]);
      const prev = i > 0 ? this.bySeq.get(this.seqs[i - 1]) : null;
      const cont = !!prev && prev.msg.user_id === cur.msg.user_id && prev.msg.seq === cur.msg.seq - 1
        && Date.parse(cur.msg.created_at) - Date.parse(prev.msg.created_at) < 5 * 60 * 1000;
      cur.node.classList.toggle("cont", cont);
    }
  }

  renderMessage(msg) {
    const mine = msg.user_id === this.meId;
    return el("li", {
      class: `msg${mine ? " mine" : ""}`,
      dataset: { seq: msg.seq, userId: msg.user_id },
    },
    el("div", { class: "meta" },
      el("span", { class: "author", text: displayName(msg.user, msg.user_id) }),
      el("time", { datetime: msg.created_at, title: new Date(msg.created_at).toLocaleString(), text: formatTime(msg.created_at) })),
    el("div", { class: "bubble", text: msg.message_text ?? "" }));
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
