// Which node serves each subnet route. A route is served only when its node both announces it
// (Hostinfo.RoutableIPs) and has it approved. For each non-exit prefix exactly one online
// candidate is primary: the current primary stays while it is still a candidate (no flapping),
// otherwise the lowest node ID takes over. Exit routes are not elected: every approved,
// announced exit node is an option. A change of primaries is announced as node changes.

import type { Node } from '../domain/node.js';
import { EXIT_V4, EXIT_V6, announcedRoutes, servedRoutes } from '../domain/routes.js';
import type { ChangeBus } from './change-bus.js';
import type { NodeService } from './nodes.js';

export class RouteElection {
  readonly #nodes: NodeService;
  readonly #changes: ChangeBus;
  /** prefix → primary node ID */
  #primary = new Map<string, number>();
  /** Nodes that serve some route: the only ones an election looks at. */
  readonly #routers = new Set<number>();
  #recomputing = false;

  constructor(nodes: NodeService, changes: ChangeBus) {
    this.#nodes = nodes;
    this.#changes = changes;
    for (const node of nodes.list()) if (RouteElection.served(node).length > 0) this.#routers.add(node.id);
    this.recompute();
    changes.subscribe((c) => {
      if (c.type === 'node-online') {
        if (this.#routers.has(c.nodeId)) this.recompute();
      } else if (c.type === 'node-changed' || c.type === 'node-added' || c.type === 'node-removed') {
        const node = nodes.get(c.nodeId);
        const wasRouter = this.#routers.delete(c.nodeId);
        const isRouter = node !== undefined && RouteElection.served(node).length > 0;
        if (isRouter) this.#routers.add(c.nodeId);
        if (wasRouter || isRouter) this.recompute();
      }
    });
  }

  /** Approved ∩ announced routes of the node, exit routes included. */
  static served(node: Node): string[] {
    return servedRoutes(node.approvedRoutes, announcedRoutes(node.hostinfo));
  }

  /** The subnet routes this node is primary for. */
  primaryRoutes(nodeId: number): string[] {
    const out: string[] = [];
    for (const [prefix, id] of this.#primary) if (id === nodeId) out.push(prefix);
    return out.sort();
  }

  /** Approved and announced exit routes (both families), when the node is an exit node. */
  exitRoutes(node: Node): string[] {
    const served = RouteElection.served(node);
    return served.includes(EXIT_V4) || served.includes(EXIT_V6) ? [EXIT_V4, EXIT_V6] : [];
  }

  recompute(): void {
    if (this.#recomputing) return;
    this.#recomputing = true;
    try {
      const candidates = new Map<string, number[]>();
      for (const id of [...this.#routers].sort((a, b) => a - b)) {
        const node = this.#nodes.get(id);
        if (!node || !this.#nodes.isOnline(id)) continue;
        for (const r of RouteElection.served(node)) {
          if (r === EXIT_V4 || r === EXIT_V6) continue;
          const list = candidates.get(r) ?? [];
          list.push(node.id);
          candidates.set(r, list);
        }
      }
      const next = new Map<string, number>();
      for (const [prefix, ids] of candidates) {
        const current = this.#primary.get(prefix);
        next.set(prefix, current !== undefined && ids.includes(current) ? current : Math.min(...ids));
      }
      const affected = new Set<number>();
      for (const [p, id] of this.#primary) if (next.get(p) !== id) affected.add(id);
      for (const [p, id] of next) if (this.#primary.get(p) !== id) affected.add(id);
      this.#primary = next;
      for (const id of affected) if (this.#nodes.get(id)) this.#changes.publish({ type: 'node-changed', nodeId: id });
    } finally {
      this.#recomputing = false;
    }
  }
}
