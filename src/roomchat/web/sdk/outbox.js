// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// Messages on their way: each with its client_msg_id, kept (and optionally persisted)
// until the server has stored it, sent again after every reconnection meanwhile. The
// server stores a client_msg_id once per user and room, so a retry never doubles it.
export function memoryOutbox() {
    let kept = [];
    return {
        load: () => kept.map((entry) => ({ ...entry })),
        save: (entries) => {
            kept = entries.map((entry) => ({ ...entry }));
        },
    };
}
/** A Web Storage (localStorage) under `key`: queued messages survive a page reload. */
export function webStorageOutbox(storage, key = "roomchat.outbox") {
    return {
        load: () => {
            try {
                const parsed = JSON.parse(storage.getItem(key) ?? "[]");
                return Array.isArray(parsed) ? parsed.filter(isEntry) : [];
            }
            catch {
                return []; // damaged: nothing to resend
            }
        },
        save: (entries) => {
            if (entries.length === 0)
                storage.removeItem(key);
            else
                storage.setItem(key, JSON.stringify(entries));
        },
    };
}
function isEntry(value) {
    const entry = value;
    return (typeof entry === "object" &&
        entry !== null &&
        typeof entry.client_msg_id === "string" &&
        typeof entry.room_id === "number" &&
        typeof entry.message_text === "string" &&
        typeof entry.user_id === "number" &&
        // Files it attaches: dropping a damaged list would send the message without them.
        (entry.attachment_ids === undefined ||
            (Array.isArray(entry.attachment_ids) && entry.attachment_ids.every((id) => Number.isSafeInteger(id)))));
}
/** The queued messages of one user, in the order they were queued. */
export class Outbox {
    #entries = new Map();
    #storage;
    #capacity;
    #saving = Promise.resolve();
    constructor(storage, capacity) {
        this.#storage = storage;
        this.#capacity = capacity;
    }
    /** Read what an earlier run left (this user's entries only); returns them. */
    async load(userId) {
        const loaded = await this.#storage.load();
        for (const entry of loaded) {
            if (entry.user_id === userId && !this.#entries.has(entry.client_msg_id)) {
                this.#entries.set(entry.client_msg_id, { ...entry });
            }
        }
        return this.entries();
    }
    get size() {
        return this.#entries.size;
    }
    get full() {
        return this.#entries.size >= this.#capacity;
    }
    entries() {
        return [...this.#entries.values()];
    }
    /** The next pending entries, oldest first. */
    pending() {
        return this.entries().filter((entry) => entry.status === "pending");
    }
    get(clientMsgId) {
        return this.#entries.get(clientMsgId);
    }
    add(entry) {
        this.#entries.set(entry.client_msg_id, entry);
        this.#save();
    }
    update(clientMsgId, change) {
        const entry = this.#entries.get(clientMsgId);
        if (entry === undefined)
            return undefined;
        Object.assign(entry, change);
        this.#save();
        return entry;
    }
    remove(clientMsgId) {
        const entry = this.#entries.get(clientMsgId);
        if (entry !== undefined) {
            this.#entries.delete(clientMsgId);
            this.#save();
        }
        return entry;
    }
    /** Resolves once every change so far is saved. */
    flushed() {
        return this.#saving;
    }
    #save() {
        const snapshot = this.entries().map((entry) => ({ ...entry }));
        // One save at a time, in order: a slow storage never sees an older list last.
        this.#saving = this.#saving
            .then(() => this.#storage.save(snapshot))
            .catch((error) => console.error("roomchat: saving the outbox failed", error));
    }
}
