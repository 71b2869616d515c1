// A small hand-built topology shared by the unit tests.

import type { PolicyNode, Topology } from './topology.js';

function node(id: number, name: string, userId: number | null, tags: string[], announced: string[] = [], approved: string[] = []): PolicyNode {
  return { id, name, userId, tags, ipv4: `100.64.0.${id}`, ipv6: `fd7a:115c:a1e0::${id}`, announcedRoutes: announced, approvedRoutes: approved };
}

export const TOPO: Topology = {
  users: [
    { id: 1, name: 'alice', email: 'alice@example.com' },
    { id: 2, name: 'bob', email: 'bob@example.org' },
  ],
  nodes: [
    node(1, 'alice-laptop', 1, []),
    node(2, 'alice-phone', 1, []),
    node(3, 'bob-pc', 2, []),
    node(4, 'server', 1, ['tag:server']),
    node(5, 'router', null, ['tag:router'], ['10.0.0.0/24', '192.168.0.0/24'], ['10.0.0.0/24']),
    node(6, 'exit', null, ['tag:exit'], ['0.0.0.0/0', '::/0'], ['0.0.0.0/0', '::/0']),
  ],
};

export const OWNERS = `"groups": {"group:dev": ["alice@example.com"], "group:all": ["alice@example.com", "bob@example.org"]},
  "tagOwners": {"tag:server": ["alice@example.com"], "tag:router": ["alice@example.com"], "tag:exit": ["alice@example.com"]},
  "hosts": {"lan": "10.0.0.0/16", "other": "172.16.0.0/12", "srvip": "100.64.0.4"}`;

export const ids = { laptop: 1, phone: 2, bob: 3, server: 4, router: 5, exit: 6 } as const;
