// Nodes: one Tailscale client registered to the tailnet. A node is either owned by a user
// (userId set, no tags) or tagged (tags set, userId null), never both.

export type RegisterMethod = 'authkey' | 'cli' | 'oidc';

export interface Node {
  id: number;
  machineKey: string; // "mkey:<hex>"
  nodeKey: string; // "nodekey:<hex>"
  discoKey: string; // "discokey:<hex>" or ""
  endpoints: string[];
  hostinfo: Record<string, unknown> | null;
  ipv4: string | null;
  ipv6: string | null;
  hostname: string;
  givenName: string;
  userId: number | null;
  registerMethod: RegisterMethod;
  tags: string[];
  authKeyId: number | null;
  lastSeen: Date | null;
  expiry: Date | null; // null: the node key never expires
  approvedRoutes: string[];
  createdAt: Date;
  updatedAt: Date;
}

export function isTagged(node: Pick<Node, 'tags'>): boolean {
  return node.tags.length > 0;
}

export function isExpired(node: Pick<Node, 'expiry'>, now = new Date()): boolean {
  return node.expiry !== null && node.expiry.getTime() <= now.getTime();
}
