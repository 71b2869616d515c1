// The policy's autoApprovers at work: when a node announces routes (or the policy changes), the
// routes its approvers allow are added to its approved routes, as if an admin had approved
// them. Approvals are only ever added here; an admin removes them.

import type { Logger } from '../lib/logger.js';
import type { ChangeBus } from './change-bus.js';
import type { NodeService } from './nodes.js';
import type { PolicyManager } from './policy-manager.js';
import { announcedRoutes, normalizeApprovedRoutes } from '../domain/routes.js';

export class AutoApprover {
  readonly #nodes: NodeService;
  readonly #policy: PolicyManager;
  readonly #logger: Logger;
  readonly #pending = new Set<number>();
  #all = false;
  #scheduled = false;

  constructor(nodes: NodeService, policy: PolicyManager, changes: ChangeBus, logger: Logger) {
    this.#nodes = nodes;
    this.#policy = policy;
    this.#logger = logger;
    changes.subscribe((c) => {
      if (c.type === 'policy-changed') this.#schedule(undefined);
      else if (c.type === 'node-added' || c.type === 'node-changed') this.#schedule(c.nodeId);
    });
  }

  #schedule(nodeId: number | undefined): void {
    if (nodeId === undefined) this.#all = true;
    else this.#pending.add(nodeId);
    if (this.#scheduled) return;
    this.#scheduled = true;
    setImmediate(() => void this.run());
  }

  /** Applies the autoApprovers to the pending nodes (or every node after a policy change). */
  async run(): Promise<void> {
    this.#scheduled = false;
    const ids = this.#all ? this.#nodes.list().map((n) => n.id) : [...this.#pending];
    this.#all = false;
    this.#pending.clear();
    const compiled = this.#policy.compiled();
    if (!compiled) return;
    for (const id of ids) {
      const node = this.#nodes.get(id);
      if (!node || announcedRoutes(node.hostinfo).length === 0) continue;
      const policyNode = this.#policy.topology(true).nodes.find((n) => n.id === id);
      if (!policyNode) continue;
      const add = compiled.autoApprove(policyNode).routes.filter((r) => !node.approvedRoutes.includes(r));
      if (add.length === 0) continue;
      try {
        const approved = normalizeApprovedRoutes([...node.approvedRoutes, ...add]);
        await this.#nodes.update(id, { approvedRoutes: approved });
        this.#logger.info('routes auto-approved', { node: id, routes: add.join(',') });
      } catch (err) {
        this.#logger.error('auto-approving routes failed', { node: id, error: String(err) });
      }
    }
  }
}
