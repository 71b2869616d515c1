// Deletes ephemeral nodes once they have been disconnected for `node.ephemeral.inactivity_timeout`.
// A reconnect cancels the deletion; at start-up every ephemeral node is scheduled, since none is
// connected yet.

import type { Logger } from '../lib/logger.js';
import type { NodeService } from './nodes.js';

export class EphemeralReaper {
  readonly #nodes: NodeService;
  readonly #timeoutMs: number;
  readonly #logger: Logger;
  readonly #timers = new Map<number, NodeJS.Timeout>();

  constructor(nodes: NodeService, timeoutMs: number, logger: Logger) {
    this.#nodes = nodes;
    this.#timeoutMs = timeoutMs;
    this.#logger = logger;
  }

  scheduleAll(): void {
    for (const node of this.#nodes.list()) {
      if (this.#nodes.isEphemeral(node.id) && !this.#nodes.isOnline(node.id)) this.schedule(node.id);
    }
  }

  schedule(id: number): void {
    if (!this.#nodes.isEphemeral(id)) return;
    this.cancel(id);
    const timer = setTimeout(() => {
      this.#timers.delete(id);
      if (!this.#nodes.get(id) || this.#nodes.isOnline(id)) return;
      this.#nodes.delete(id).then(
        () => this.#logger.info('ephemeral node removed after inactivity', { node: id }),
        (err: unknown) => this.#logger.error('removing ephemeral node failed', { node: id, error: String(err) }),
      );
    }, this.#timeoutMs);
    timer.unref();
    this.#timers.set(id, timer);
  }

  cancel(id: number): void {
    clearTimeout(this.#timers.get(id));
    this.#timers.delete(id);
  }

  close(): void {
    for (const t of this.#timers.values()) clearTimeout(t);
    this.#timers.clear();
  }
}
