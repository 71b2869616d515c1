// A domain node in the form peers receive it (tailcfg.Node), and the cache that keeps each
// node's JSON encoded once per version: every recipient of a full map or a PeersChanged shares
// the same string.

import type { Node } from '../domain/node.js';
import { isExpired } from '../domain/node.js';
import type { Node as WireNode, Hostinfo } from '../tailcfg/types.js';
import { ownerId } from '../state/identity.js';

export interface WireContext {
  baseDomain: string;
  capMap: Record<string, unknown[] | null>;
  isOnline(id: number): boolean;
  /** Subnet routes the node is primary for, and its exit routes when it is an exit node. */
  routesOf(node: Node): { primary: string[]; exit: string[] };
}

export function fqdn(givenName: string, baseDomain: string): string {
  return baseDomain ? `${givenName}.${baseDomain}.` : givenName;
}

function addresses(node: Node): string[] {
  const out: string[] = [];
  if (node.ipv4) out.push(`${node.ipv4}/32`);
  if (node.ipv6) out.push(`${node.ipv6}/128`);
  return out;
}

/** The node as everybody sees it; the self view adds MachineAuthorized and the CapMap. */
export function toWireNode(node: Node, ctx: WireContext, now = new Date()): WireNode {
  const online = ctx.isOnline(node.id);
  const hostinfo = (node.hostinfo ?? {}) as Hostinfo;
  const expired = isExpired(node, now);
  const routes = ctx.routesOf(node);
  const wire: WireNode = {
    ID: node.id,
    StableID: String(node.id),
    Name: fqdn(node.givenName, ctx.baseDomain),
    User: ownerId(node),
    Key: node.nodeKey,
    Machine: node.machineKey,
    Addresses: addresses(node),
    AllowedIPs: [...addresses(node), ...routes.primary, ...routes.exit],
    Hostinfo: hostinfo,
    Created: node.createdAt.toISOString(),
    Online: online,
    MachineAuthorized: !expired,
  };
  if (node.expiry) wire.KeyExpiry = node.expiry.toISOString();
  if (expired) wire.Expired = true;
  if (node.discoKey) wire.DiscoKey = node.discoKey;
  if (node.endpoints.length > 0) wire.Endpoints = node.endpoints;
  const home = hostinfo.NetInfo?.PreferredDERP;
  if (typeof home === 'number' && home > 0) wire.HomeDERP = home;
  if (node.tags.length > 0) wire.Tags = node.tags;
  if (routes.primary.length > 0) wire.PrimaryRoutes = routes.primary;
  if (!online && node.lastSeen) wire.LastSeen = node.lastSeen.toISOString();
  return wire;
}

export function toSelfNode(node: Node, ctx: WireContext): WireNode {
  // A node that receives its map is connected, whatever the peers were last told.
  return { ...toWireNode(node, ctx), Online: true, CapMap: ctx.capMap };
}

/** Each node's peer JSON, rebuilt only when the node (or its online state) changed. */
export class WireCache {
  readonly #entries = new Map<number, { node: Node; online: boolean; json: string }>();

  json(node: Node, ctx: WireContext): string {
    const online = ctx.isOnline(node.id);
    const hit = this.#entries.get(node.id);
    if (hit && hit.node === node && hit.online === online) return hit.json;
    const json = JSON.stringify(toWireNode(node, ctx));
    this.#entries.set(node.id, { node, online, json });
    return json;
  }

  forget(id: number): void {
    this.#entries.delete(id);
  }
}
