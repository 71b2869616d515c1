// Nodes as the store takes them, for tests and benchmarks that need many without registering:
// the n-th node of a run, with keys and addresses unique by n.

import crypto from 'node:crypto';
import type { NewNode } from '../../src/store/index.js';
import type { State } from '../../src/state/index.js';

const hex64 = (n: number): string => n.toString(16).padStart(64, '0');
const randomHex = (): string => crypto.randomBytes(32).toString('hex');

export function testNode(n: number, userId: number | null, overrides: Partial<NewNode> = {}): NewNode {
  return {
    machineKey: `mkey:${hex64(n)}`,
    nodeKey: `nodekey:${hex64(n + 1000)}`,
    discoKey: '',
    endpoints: [],
    hostinfo: null,
    ipv4: `100.${64 + Math.floor(n / 65536)}.${Math.floor(n / 256) % 256}.${n % 256}`,
    ipv6: `fd7a:115c:a1e0::${n.toString(16)}`,
    hostname: `node${n}`,
    givenName: `node${n}`,
    userId,
    registerMethod: 'authkey',
    tags: [],
    authKeyId: null,
    lastSeen: null,
    expiry: null,
    approvedRoutes: [],
    ...overrides,
  };
}

/**
 * Adds `count` nodes of one user (numbered from 1) with random keys, endpoints and Hostinfo, as
 * live ones have (random keys also keep compressed map sizes realistic).
 */
export async function addNodes(state: State, userId: number, count: number, endpoints: string[] = []): Promise<number[]> {
  const ids: number[] = [];
  for (let n = 1; n <= count; n++) {
    const node = await state.nodes.add(
      testNode(n, userId, {
        machineKey: `mkey:${randomHex()}`,
        nodeKey: `nodekey:${randomHex()}`,
        discoKey: `discokey:${randomHex()}`,
        endpoints,
        hostinfo: { Hostname: `node${n}`, OS: 'linux', Services: [{ Proto: 'peerapi4', Port: 12345 }], NetInfo: { PreferredDERP: 999 } },
      }),
    );
    ids.push(node.id);
  }
  return ids;
}
