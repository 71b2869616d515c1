// Node keys expire by the clock, not by an event: every few seconds this looks for keys whose
// expiry has passed since the last look and announces those nodes as changed, so the node itself
// goes to NeedsLogin and its peers mark it expired.

import type { NodeService } from './nodes.js';
import type { ChangeBus } from './change-bus.js';

export class ExpiryWatch {
  readonly #timer: NodeJS.Timeout;
  #last = Date.now();

  constructor(nodes: NodeService, changes: ChangeBus, intervalMs = 5000) {
    this.#timer = setInterval(() => {
      const now = Date.now();
      for (const node of nodes.list()) {
        const t = node.expiry?.getTime();
        if (t !== undefined && t > this.#last && t <= now) changes.publish({ type: 'node-changed', nodeId: node.id });
      }
      this.#last = now;
    }, intervalMs);
    this.#timer.unref();
  }

  close(): void {
    clearInterval(this.#timer);
  }
}
