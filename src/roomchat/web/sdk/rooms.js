// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// The rooms a client follows: joined (and joined again after every reconnect, caught up
// from their last seq), their events handed to their handles once each, in order.
import { Backoff, MAX_RETRY_WAIT_MS, sleep } from "./backoff.js";
import { RoomchatError } from "./errors.js";
import { RoomHandle } from "./room.js";
import { RoomModel } from "./roomstate.js";
import { Sequencer } from "./sequencer.js";
export class Rooms {
    #followed = new Map();
    #sequencer;
    #host;
    #roomHost;
    #options;
    constructor(host, roomHost, options) {
        this.#host = host;
        this.#roomHost = roomHost;
        this.#options = options;
        this.#sequencer = new Sequencer({
            deliver: (roomId, event) => this.#deliver(roomId, event),
            readPage: (roomId, afterSeq) => host.readPage(roomId, afterSeq),
            lost: (roomId, error) => this.#lost(roomId, error),
            warn: (message, error) => host.warn(message, error),
        }, () => new Backoff(options.backoff));
    }
    handles() {
        return [...this.#followed.values()].map((room) => room.handle);
    }
    get(roomId) {
        return this.#followed.get(roomId)?.handle;
    }
    /** Follow a room; joined now on `live`, or by the next resume. */
    join(roomId, passcode, live) {
        const known = this.#followed.get(roomId);
        if (known !== undefined && known.model.status === "joined")
            return Promise.resolve(known.handle);
        if (known?.joined) {
            const first = known.joined;
            return new Promise((resolve, reject) => {
                known.joined = {
                    resolve: (room) => (first.resolve(room), resolve(room)),
                    reject: (error) => (first.reject(error), reject(error)),
                };
            });
        }
        const model = new RoomModel(roomId, () => this.#host.user(), {
            maxMessages: this.#options.maxMessagesPerRoom,
            maxReceipts: 1000,
            typingTimeoutMs: this.#options.typingTimeoutMs,
        });
        const followed = { handle: new RoomHandle(model, this.#roomHost), model, passcode, joined: null };
        this.#followed.set(roomId, followed);
        const joined = new Promise((resolve, reject) => {
            followed.joined = { resolve, reject };
        });
        if (live !== null)
            void this.#join(live, roomId, followed);
        return joined;
    }
    /** Stop following a room here. */
    forget(roomId) {
        const followed = this.#followed.get(roomId);
        this.#followed.delete(roomId);
        this.#sequencer.forget(roomId);
        // A join still on its way settles: left before it was joined.
        followed?.joined?.reject(new RoomchatError("client_closed", "left before it was joined"));
        if (followed)
            followed.joined = null;
        followed?.handle.setStatus("left");
        followed?.handle.dispose();
    }
    /** Join every followed room on a new connection: with after_seq where it was joined,
     * plainly where the first join never got its reply. False if the connection failed. */
    async resume(connection) {
        const done = new Set();
        for (;;) {
            // Rooms joined meanwhile are taken too: the client is live only once all are.
            const next = [...this.#followed].find(([, followed]) => !done.has(followed));
            if (next === undefined || !connection.isOpen)
                return connection.isOpen;
            const [roomId, followed] = next;
            done.add(followed);
            if (!(await this.#join(connection, roomId, followed)))
                return false;
        }
    }
    /** A broadcast: a room event (sequenced) or a signal; false for neither of ours. */
    offer(frame) {
        if (this.#sequencer.offer(frame))
            return true;
        const roomId = frame.data?.room_id;
        const followed = typeof roomId === "number" ? this.#followed.get(roomId) : undefined;
        if (followed?.model.status === "joined")
            followed.handle.applySignal(frame);
        return false;
    }
    /** Show an outbox entry (pending, failed) in its room. */
    showQueued(entry) {
        const room = this.#followed.get(entry.room_id);
        if (room === undefined || room.model.status !== "joined")
            return;
        room.model.optimistic(entry);
        room.handle.changedByClient();
    }
    stored(entry, message) {
        const room = this.#followed.get(entry.room_id);
        room?.model.sent(message);
        room?.handle.changedByClient();
    }
    discarded(entry) {
        const room = this.#followed.get(entry.room_id);
        room?.model.discard(entry.client_msg_id);
        room?.handle.changedByClient();
    }
    /** The client closed: what waits for a join learns it; no more repairs. */
    close(error) {
        this.#sequencer.close();
        for (const followed of this.#followed.values()) {
            followed.joined?.reject(error);
            followed.joined = null;
            followed.handle.dispose();
        }
    }
    /** One room's join on `connection`; false if the connection failed under it. */
    async #join(connection, roomId, followed) {
        const afterSeq = this.#sequencer.position(roomId);
        const payload = { room_id: roomId };
        if (afterSeq !== null)
            payload.after_seq = afterSeq;
        else if (followed.passcode !== undefined)
            payload.passcode = followed.passcode;
        const pause = new Backoff(this.#options.backoff);
        for (;;) {
            try {
                await connection.request("join_room_chat", payload, {
                    timeoutMs: this.#options.requestTimeoutMs,
                    onReply: (frame) => this.#joined(roomId, followed, afterSeq, frame),
                });
                followed.joined?.resolve(followed.handle);
                followed.joined = null;
                return true;
            }
            catch (error) {
                const refused = error instanceof RoomchatError ? error : new RoomchatError("bad_response", String(error));
                if (refused.code === "rate_limited" && (refused.retryAfterMs ?? 0) <= MAX_RETRY_WAIT_MS) {
                    await sleep(refused.retryAfterMs ?? pause.next()); // many rooms: joins are paced
                    if (!connection.isOpen)
                        return false;
                    continue;
                }
                if (refused.code === "connection_lost")
                    return false;
                if (refused.code === "timeout") {
                    connection.abort("join_timeout"); // the server stopped answering: a new connection
                    return false;
                }
                // Refused (removed while away, a wrong passcode, a deleted room): not ours any more.
                if (this.#followed.get(roomId) === followed)
                    this.#lost(roomId, refused);
                return true;
            }
        }
    }
    /** A join reply, applied in the reader before the room's next broadcast. */
    #joined(roomId, followed, afterSeq, frame) {
        if (frame.status !== "success" || this.#followed.get(roomId) !== followed)
            return;
        if (afterSeq === null) {
            const data = frame.data;
            this.#sequencer.follow(roomId, data.seq);
            followed.model.reset(data);
            for (const entry of this.#host.queued())
                if (entry.room_id === roomId)
                    followed.model.optimistic(entry);
        }
        else {
            const data = frame.data;
            followed.model.resumed(data);
            this.#sequencer.caughtUp(roomId, afterSeq, data);
        }
        followed.handle.changedByClient();
    }
    #deliver(roomId, event) {
        const followed = this.#followed.get(roomId);
        if (event.action === "new_room_chat_message")
            this.#host.seen(event.data);
        followed?.handle.applyEvent(event);
        this.#host.event(roomId, event);
        const gone = event.action === "room_chat_deleted" ||
            (event.action === "room_member_left" && event.data.user_id === this.#host.user()?.id);
        if (gone) {
            // The server sends nothing more of it, and a reconnect must not join it again.
            this.#sequencer.forget(roomId);
            if (this.#followed.get(roomId) === followed)
                this.#followed.delete(roomId);
            followed?.handle.dispose();
        }
    }
    #lost(roomId, error) {
        const followed = this.#followed.get(roomId);
        if (followed === undefined)
            return;
        this.#sequencer.forget(roomId);
        this.#followed.delete(roomId);
        followed.handle.setStatus("lost", error);
        followed.joined?.reject(error);
        followed.joined = null;
        this.#host.lost(roomId, error);
    }
}
