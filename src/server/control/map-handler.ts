// POST /machine/map over Noise. Three kinds of request: a streaming poll (full map, then deltas
// and keep-alives), a lite update (OmitPeers, no stream: apply endpoints/hostinfo, answer 200
// with no body) and a one-shot full map. The node is the one whose NodeKey the body names AND
// whose machine key the Noise handshake proved; anything else is "node not found".

import type { H2ServerStream } from '../../protocol/h2/server-stream.js';
import type { State } from '../../state/index.js';
import type { Node } from '../../domain/node.js';
import type { Hostinfo, MapRequest } from '../../tailcfg/types.js';
import { MIN_CAPABILITY_VERSION } from '../../tailcfg/types.js';
import type { Batcher } from '../../mapper/batcher.js';
import type { Mapper } from '../../mapper/mapper.js';
import type { Logger } from '../../lib/logger.js';
import { readJsonBody, respondText } from './h2-io.js';
import { MapSession } from './map-session.js';
import type { FullMapGate } from './full-map-gate.js';

export interface MapDeps {
  state: State;
  mapper: Mapper;
  batcher: Batcher;
  logger: Logger;
  /** Bounds the full maps being written at once. */
  fullMaps: FullMapGate;
  /** Called when a node's last stream ends. */
  onOffline(node: Node): void;
  /** Called when a node's first stream starts. */
  onOnline(node: Node): void;
}

const ZERO_DISCO = /^discokey:0{64}$/;

function withoutNetInfo(h: Hostinfo | Record<string, unknown> | null): string {
  if (!h) return 'null';
  const { NetInfo: _ignored, ...rest } = h as Hostinfo;
  return JSON.stringify(rest);
}

/**
 * The fields of a MapRequest that update the node, and how peers must hear of it: a small patch
 * when only endpoints, disco key or home DERP moved, the whole node when Hostinfo changed.
 */
function updatesFrom(node: Node, req: MapRequest): { patch: Partial<Node>; change: 'node-changed' | 'node-patched' | 'none' } | undefined {
  const patch: Partial<Node> = {};
  let change: 'node-changed' | 'node-patched' | 'none' = 'none';
  if (req.DiscoKey && !ZERO_DISCO.test(req.DiscoKey) && req.DiscoKey !== node.discoKey) {
    patch.discoKey = req.DiscoKey;
    change = 'node-patched';
  }
  if (Array.isArray(req.Endpoints) && req.Endpoints.length > 0) {
    const endpoints = req.Endpoints.filter((e) => typeof e === 'string').slice(0, 64);
    if (endpoints.join() !== node.endpoints.join()) {
      patch.endpoints = endpoints;
      change = 'node-patched';
    }
  }
  if (req.Hostinfo && typeof req.Hostinfo === 'object') {
    const incoming: Hostinfo = { ...req.Hostinfo };
    // A Hostinfo without NetInfo keeps the NetInfo we had (the home DERP lives there).
    if (!incoming.NetInfo && node.hostinfo?.NetInfo) incoming.NetInfo = node.hostinfo.NetInfo as Hostinfo['NetInfo'];
    if (JSON.stringify(incoming) !== JSON.stringify(node.hostinfo)) {
      patch.hostinfo = incoming;
      if (typeof incoming.Hostname === 'string' && incoming.Hostname !== node.hostname) patch.hostname = incoming.Hostname.slice(0, 255);
      if (withoutNetInfo(incoming) !== withoutNetInfo(node.hostinfo)) change = 'node-changed';
      else if (incoming.NetInfo?.PreferredDERP !== (node.hostinfo?.NetInfo as Hostinfo['NetInfo'])?.PreferredDERP && change === 'none') change = 'node-patched';
    }
  }
  return Object.keys(patch).length > 0 ? { patch, change } : undefined;
}

export async function handleMap(deps: MapDeps, stream: H2ServerStream, machineKey: string): Promise<void> {
  const req = await readJsonBody<MapRequest>(stream);
  if (!Number.isInteger(req.Version) || req.Version < MIN_CAPABILITY_VERSION) {
    return respondText(stream, 400, `unsupported client version: capability version ${Number(req.Version) || 0} is older than ${MIN_CAPABILITY_VERSION}`);
  }
  let node = deps.state.nodes.findByNodeKey(String(req.NodeKey));
  if (!node || node.machineKey !== machineKey) {
    if (node) deps.logger.warn('map request for a node key of another machine refused', { machine: machineKey, node: node.id });
    return respondText(stream, 404, 'node not found');
  }
  const update = updatesFrom(node, req);
  if (update) node = deps.state.nodes.touch(node.id, update.patch, update.change) ?? node;
  const zstd = req.Compress === 'zstd';

  if (!req.Stream && req.OmitPeers) return respondText(stream, 200, '');
  if (!(await deps.fullMaps.enter(stream))) return;
  const full = deps.mapper.fullMapFrame(node.id, zstd);
  if (!full) {
    deps.fullMaps.hold(stream, true);
    return respondText(stream, 404, 'node not found');
  }
  if (!req.Stream) {
    stream.respond(200, { 'content-type': 'application/octet-stream' });
    stream.end(full);
    deps.fullMaps.hold(stream, false); // until the stream closes
    return;
  }

  const nodeId = node.id;
  const session: MapSession = new MapSession(stream, nodeId, zstd, () => {
    if (deps.batcher.remove(session) === 0) {
      const current = deps.state.nodes.get(nodeId);
      if (current) deps.onOffline(current);
    }
  });
  // The full map goes out before the session can receive any delta (same tick).
  deps.fullMaps.hold(stream, session.start(full));
  const first = deps.batcher.sessionCount(nodeId) === 0;
  deps.batcher.add(session);
  if (first) deps.onOnline(node);
}
