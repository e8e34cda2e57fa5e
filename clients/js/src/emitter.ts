// Typed listeners that can be removed: `on` returns the function that removes it.

export type Listener<T> = (value: T) => void;

export class Emitter<Events extends object> {
  readonly #listeners = new Map<keyof Events, Set<Listener<never>>>();

  /** Call `listener` on every `name`; returns a function that removes it. */
  on<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    let set = this.#listeners.get(name);
    if (set === undefined) {
      set = new Set();
      this.#listeners.set(name, set);
    }
    set.add(listener as Listener<never>);
    return () => this.off(name, listener);
  }

  /** Call `listener` on the next `name` only. */
  once<K extends keyof Events>(name: K, listener: Listener<Events[K]>): () => void {
    const off = this.on(name, (value) => {
      off();
      listener(value);
    });
    return off;
  }

  off<K extends keyof Events>(name: K, listener: Listener<Events[K]>): void {
    const set = this.#listeners.get(name);
    set?.delete(listener as Listener<never>);
    if (set?.size === 0) this.#listeners.delete(name);
  }

  listenerCount<K extends keyof Events>(name: K): number {
    return this.#listeners.get(name)?.size ?? 0;
  }

  protected removeAllListeners(): void {
    this.#listeners.clear();
  }

  protected emit<K extends keyof Events>(name: K, value: Events[K]): void {
    const set = this.#listeners.get(name);
    if (set === undefined) return;
    for (const listener of [...set]) {
      try {
        (listener as Listener<Events[K]>)(value);
      } catch (error) {
        // A listener's bug must not stop the client's own bookkeeping (the events after
        // it, the other listeners): report it as the platform reports uncaught errors.
        reportListenerError(error);
      }
    }
  }
}

function reportListenerError(error: unknown): void {
  const report = (globalThis as { reportError?: (error: unknown) => void }).reportError;
  if (typeof report === "function") report(error);
  else console.error("roomchat: a listener threw", error);
}
