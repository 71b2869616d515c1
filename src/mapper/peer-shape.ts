// Owns what the access policy changes in a peer's map entry for one viewer — its "shape": the
// routes in AllowedIPs and PrimaryRoutes (only those the viewer may use, on the router that
// carries them for it: the HA primary or a via grant's router) and whether IPv4 addresses are
// left out (disable-ipv4 on either side) — and, per viewer, the shapes last sent, so a
// recompile that changes a peer's shape reaches the viewer as PeersChanged.

import type { CompiledPolicy } from '../policy/index.js';
import type { Node as WireNode } from '../tailcfg/types.js';
import { EXIT_V4, EXIT_V6 } from '../domain/routes.js';

export interface PeerShape {
  /** Subnet routes sorted, then exit routes (IPv4 first). */
  routes: string[];
  noV4: boolean;
}

const isExit = (r: string) => r === EXIT_V4 || r === EXIT_V6;

export function peerShape(compiled: CompiledPolicy, viewerId: number, peerId: number): PeerShape {
  const byId = compiled.topology.byId;
  if (!byId.has(viewerId) || !byId.has(peerId)) return { routes: [], noV4: false };
  const routes = compiled.peerRoutes(viewerId, peerId);
  const noV4 = compiled.ipv4DisabledNodes();
  return {
    routes: [...routes.filter((r) => !isExit(r)).sort(), ...[EXIT_V4, EXIT_V6].filter((r) => routes.includes(r))],
    noV4: noV4.has(viewerId) || noV4.has(peerId),
  };
}

/** Whether some viewer may see some peer in a form other than the shared one. */
export function shapesSomePeer(compiled: CompiledPolicy): boolean {
  const t = compiled.topology;
  return t.routers.length > 0 || t.exitNodes.length > 0 || compiled.ipv4DisabledNodes().size > 0;
}

function keyOf(s: PeerShape): string {
  return `${s.noV4 ? '6|' : ''}${s.routes.join(',')}`;
}

/** Whether the entry every viewer shares (global primaries and exit routes) already has this shape. */
export function sharedFits(s: PeerShape, global: { primary: string[]; exit: string[] }): boolean {
  return !s.noV4 && s.routes.join(',') === [...global.primary, ...global.exit].join(',');
}

/** Gives a freshly built wire node the shape. */
export function applyShape(wire: WireNode, s: PeerShape): WireNode {
  if (s.noV4) wire.Addresses = wire.Addresses.filter((a) => a.includes(':'));
  wire.AllowedIPs = [...wire.Addresses, ...s.routes];
  const primary = s.routes.filter((r) => !isExit(r));
  if (primary.length > 0) wire.PrimaryRoutes = primary;
  else delete wire.PrimaryRoutes;
  return wire;
}

/** The node's own entry without its IPv4 address, when it has disable-ipv4. */
export function applySelfShape(wire: WireNode, compiled: CompiledPolicy | null, id: number): WireNode {
  if (!compiled?.ipv4DisabledNodes().has(id)) return wire;
  const v4 = new Set(wire.Addresses.filter((a) => !a.includes(':')));
  wire.Addresses = wire.Addresses.filter((a) => !v4.has(a));
  wire.AllowedIPs = wire.AllowedIPs.filter((a) => !v4.has(a));
  return wire;
}

interface Sent {
  compiled: CompiledPolicy | null;
  shapes: Map<number, string>;
}

export class SentShapes {
  readonly #byViewer = new Map<number, Sent>();

  #entry(viewerId: number, compiled: CompiledPolicy | null): Sent {
    let e = this.#byViewer.get(viewerId);
    if (!e) this.#byViewer.set(viewerId, (e = { compiled, shapes: new Map() }));
    return e;
  }

  /** A full map starts the viewer's record afresh. */
  reset(viewerId: number, compiled: CompiledPolicy | null): void {
    this.#byViewer.set(viewerId, { compiled, shapes: new Map() });
  }

  forget(viewerId: number): void {
    this.#byViewer.delete(viewerId);
  }

  /** Whether every peer was last sent to this viewer in its shared form. */
  isPlain(viewerId: number): boolean {
    return (this.#byViewer.get(viewerId)?.shapes.size ?? 0) === 0;
  }

  /** Only non-default shapes are kept (a plain peer's is ''), so this stays O(routers) per viewer. */
  record(viewerId: number, compiled: CompiledPolicy, peerId: number, shape: PeerShape): void {
    const key = keyOf(shape);
    const shapes = this.#entry(viewerId, compiled).shapes;
    if (key === '') shapes.delete(peerId);
    else shapes.set(peerId, key);
  }

  /**
   * Visible peers whose shape changed since the compile this viewer was last checked against.
   * Only routers, peers sent with a non-default shape and disable-ipv4 nodes are looked at
   * (every peer when the viewer's own disable-ipv4 flipped), once per recompile.
   */
  moved(viewerId: number, compiled: CompiledPolicy | null, visible: (id: number) => boolean): number[] {
    const e = this.#entry(viewerId, compiled);
    const prev = e.compiled;
    if (prev === compiled) return [];
    e.compiled = compiled;
    const ids = new Set<number>();
    for (const id of e.shapes.keys()) ids.add(id);
    const selfFlipped = (prev?.ipv4DisabledNodes().has(viewerId) ?? false) !== (compiled?.ipv4DisabledNodes().has(viewerId) ?? false);
    for (const c of [prev, compiled]) {
      if (!c) continue;
      if (selfFlipped) for (const n of c.topology.infos) ids.add(n.node.id);
      for (const n of [...c.topology.routers, ...c.topology.exitNodes]) ids.add(n.node.id);
      for (const id of c.ipv4DisabledNodes()) ids.add(id);
    }
    const out: number[] = [];
    for (const id of ids) {
      if (!visible(id)) continue;
      const now = compiled ? keyOf(peerShape(compiled, viewerId, id)) : '';
      if (now !== (e.shapes.get(id) ?? '')) out.push(id);
    }
    if (!compiled) e.shapes.clear();
    return out;
  }
}
