// What one node's map currently shows it: which peers, which packet filter and SSH policy. The
// mapper compares the policy's answer with this after every batch and sends only the
// difference (peers added or removed, a new filter) — that is how policy edits and topology
// changes reach a node as deltas.

import type { FilterRule } from '../tailcfg/types.js';
import type { CompiledPolicy } from '../policy/index.js';

export const ALLOW_ALL_FILTER: FilterRule[] = [{ SrcIPs: ['*'], DstPorts: [{ IP: '*', Ports: { First: 0, Last: 65535 } }] }];

export interface ViewerView {
  /** Visible peer IDs; null = every other node. */
  peers: Set<number> | null;
  filterJson: string;
  sshJson: string;
}

export interface PolicyAnswer {
  peers: Set<number> | null;
  /** The packet filter and SSH policy as JSON text ('' = no SSH policy), encoded once per answer. */
  filterJson: string;
  sshJson: string;
  capMap: Record<string, unknown[] | null>;
}

const ALLOW_ALL_JSON = JSON.stringify(ALLOW_ALL_FILTER);

/**
 * The policy's view for one node; with no policy, every node sees every other, allow-all.
 * `peers` is null whenever the node sees everyone, policy or not.
 */
export function answerFor(compiled: CompiledPolicy | null, nodeId: number): PolicyAnswer {
  if (!compiled) return { peers: null, filterJson: ALLOW_ALL_JSON, sshJson: '', capMap: {} };
  const ssh = compiled.sshPolicyFor(nodeId);
  return {
    peers: compiled.seesEveryone(nodeId) ? null : new Set(compiled.peersOf(nodeId)),
    filterJson: JSON.stringify(compiled.packetFilterFor(nodeId)),
    sshJson: ssh ? JSON.stringify(ssh) : '',
    capMap: compiled.capMapFor(nodeId) as Record<string, unknown[] | null>,
  };
}
