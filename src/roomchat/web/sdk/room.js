// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// A joined room: its state (room.state), its events (room.on), and what can be done in it.
import { Emitter } from "./emitter.js";
const TYPING_REPEAT_MS = 3000;
export class RoomHandle extends Emitter {
    id;
    #model;
    #host;
    #typingSentAt = 0;
    #typingNow = false;
    #typingTimer;
    /** @internal Made by the client: `client.join(roomId)`. */
    constructor(model, host) {
        super();
        this.id = model.id;
        this.#model = model;
        this.#host = host;
    }
    /** The room as it is now (a new frozen object after every change). */
    get state() {
        return this.#model.snapshot();
    }
    /** Send a message. It shows at once in `state.messages` as `pending`, is sent again
     * after any drop until the server has it (stored once), and the promise resolves with
     * the stored message. Refused (validation, rights): `failed`, and the promise rejects. */
    send(text, options = {}) {
        return this.#host.send(this.id, text, options);
    }
    /** Send a failed message again (same client_msg_id: never stored twice). */
    retry(clientMsgId) {
        return this.#host.retry(clientMsgId);
    }
    /** Drop a failed (or pending) message from the outbox and the state. */
    discard(clientMsgId) {
        this.#host.discard(clientMsgId);
    }
    async edit(messageId, text, options = {}) {
        const payload = { room_id: this.id, message_id: messageId, message_text: text };
        if (options.content !== undefined)
            payload.message_content = options.content;
        const data = (await this.#host.request("edit_room_chat_message", payload));
        return data.message;
    }
    async delete(messageId) {
        await this.#host.request("delete_room_chat_message", { room_id: this.id, message_id: messageId });
    }
    /** Add a reaction; whether anything changed. */
    async react(messageId, reaction) {
        const payload = { room_id: this.id, message_id: messageId, reaction };
        return (await this.#host.request("add_room_chat_reaction", payload)).changed;
    }
    /** Remove your reaction; whether anything changed. */
    async unreact(messageId, reaction) {
        const payload = { room_id: this.id, message_id: messageId, reaction };
        return (await this.#host.request("remove_room_chat_reaction", payload)).changed;
    }
    /** Say you are typing (repeated at most every 3 s), or stopped. */
    async typing(isTyping = true) {
        const now = Date.now();
        if (isTyping && this.#typingNow && now - this.#typingSentAt < TYPING_REPEAT_MS)
            return;
        if (!isTyping && !this.#typingNow)
            return;
        this.#typingNow = isTyping;
        this.#typingSentAt = now;
        await this.#host.request("typing_indicator", { room_id: this.id, is_typing: isTyping });
    }
    /** Read up to `seq` (default: everything applied); the read state after it. */
    async markRead(seq = this.#model.seq) {
        return this.#read("mark_room_read", seq);
    }
    /** Unread from the message with `seq` on. */
    async markUnread(seq) {
        return this.#read("mark_room_unread", seq);
    }
    /** Load up to `limit` older messages into `state.messages`; those loaded. */
    async loadOlder(limit = 50) {
        const oldest = this.#model.oldestSeq();
        const before = oldest ?? (this.#model.seq > 0 ? this.#model.seq + 1 : null);
        if (before === null || before <= 1) {
            this.#model.prepend([], false);
            this.#changed();
            return [];
        }
        const page = await this.#host.olderMessages(this.id, before, limit);
        this.#model.prepend(page.messages, page.has_more);
        this.#changed();
        return page.messages;
    }
    /** Follow a thread: its unread replies count (`thread_unread`). */
    async followThread(rootId) {
        return (await this.#host.request("follow_thread", { room_id: this.id, thread_root_id: rootId }));
    }
    async unfollowThread(rootId) {
        return (await this.#host.request("unfollow_thread", { room_id: this.id, thread_root_id: rootId }));
    }
    /** Read a thread up to `seq`. */
    async markThreadRead(rootId, seq) {
        const payload = { room_id: this.id, thread_root_id: rootId, seq };
        return (await this.#host.request("mark_thread_read", payload));
    }
    /** Stop following the room on this client (the membership stays). */
    leave() {
        return this.#host.leave(this.id);
    }
    // -- fed by the client -----------------------------------------------------------
    /** @internal */
    applyEvent(event) {
        const before = this.#model.status;
        this.#model.apply(event);
        this.#changed();
        this.emit("event", event);
        if (event.action === "new_room_chat_message")
            this.emit("message", event.data);
        if (this.#model.status !== before)
            this.emit("status", this.#model.status);
    }
    /** @internal */
    applySignal(signal) {
        this.#model.signal(signal);
        if (signal.action === "typing_indicator")
            this.#scheduleTypingExpiry();
        this.#changed();
        this.emit("signal", signal);
    }
    /** @internal */
    setStatus(status, error = null) {
        if (this.#model.status === status)
            return;
        this.#model.status = status;
        this.#model.error = error === null ? null : { code: error.code, message: error.message };
        this.#model.changed();
        this.#changed();
        this.emit("status", status);
    }
    /** @internal A change made on the model by the client. */
    changedByClient() {
        this.#changed();
    }
    /** @internal */
    dispose() {
        clearTimeout(this.#typingTimer);
    }
    async #read(action, seq) {
        const data = (await this.#host.request(action, { room_id: this.id, seq }));
        this.#model.lastReadSeq = data.last_read_seq;
        this.#model.unreadCount = data.unread_count;
        this.#model.changed();
        this.#changed();
        return data;
    }
    #scheduleTypingExpiry() {
        clearTimeout(this.#typingTimer);
        const next = this.#model.nextTypingExpiry();
        if (next === null)
            return;
        this.#typingTimer = setTimeout(() => {
            if (this.#model.expireTyping())
                this.#changed();
            this.#scheduleTypingExpiry();
        }, Math.max(0, next - Date.now()) + 5);
        this.#typingTimer.unref?.();
    }
    #changed() {
        if (this.listenerCount("change") > 0)
            this.emit("change", this.#model.snapshot());
    }
}
