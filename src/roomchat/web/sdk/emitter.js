// @roomchat/client, built from clients/js (npm run vendor). Do not edit.
// Typed listeners that can be removed: `on` returns the function that removes it.
export class Emitter {
    #listeners = new Map();
    /** Call `listener` on every `name`; returns a function that removes it. */
    on(name, listener) {
        let set = this.#listeners.get(name);
        if (set === undefined) {
            set = new Set();
            this.#listeners.set(name, set);
        }
        set.add(listener);
        return () => this.off(name, listener);
    }
    /** Call `listener` on the next `name` only. */
    once(name, listener) {
        const off = this.on(name, (value) => {
            off();
            listener(value);
        });
        return off;
    }
    off(name, listener) {
        const set = this.#listeners.get(name);
        set?.delete(listener);
        if (set?.size === 0)
            this.#listeners.delete(name);
    }
    listenerCount(name) {
        return this.#listeners.get(name)?.size ?? 0;
    }
    removeAllListeners() {
        this.#listeners.clear();
    }
    emit(name, value) {
        const set = this.#listeners.get(name);
        if (set === undefined)
            return;
        for (const listener of [...set]) {
            try {
                listener(value);
            }
            catch (error) {
                // A listener's bug must not stop the client's own bookkeeping (the events after
                // it, the other listeners): report it as the platform reports uncaught errors.
                reportListenerError(error);
            }
        }
    }
}
function reportListenerError(error) {
    const report = globalThis.reportError;
    if (typeof report === "function")
        report(error);
    else
        console.error("roomchat: a listener threw", error);
}
