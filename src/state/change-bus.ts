// Delivers change values to subscribers, synchronously and in order. A subscriber that throws
// does not stop the others.

import type { Change } from '../domain/change.js';

export type ChangeListener = (change: Change) => void;

export class ChangeBus {
  readonly #listeners = new Set<ChangeListener>();

  subscribe(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  publish(change: Change): void {
    for (const listener of this.#listeners) {
      try {
        listener(change);
      } catch {
        // A broken subscriber must not break the writer that published the change.
      }
    }
  }
}
