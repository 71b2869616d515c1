// A load-generator worker process: owns a slice of the simulated nodes and obeys the
// coordinator over IPC (see protocol.ts). It joins its nodes with bounded concurrency, watches
// map streams for markers (an endpoint, a policy prefix) and reports when each node saw them,
// and reconnects lost nodes with tailscaled's jittered backoff, timing when each is back.

import { SimNode, frameText, now, type Target } from './sim-node.js';
import type { JoinRecord, ToWorker, FromWorker, MarkerReport } from './protocol.js';

let nodes: SimNode[] = [];
let target: Target | undefined;
const watching = new Map<string, Map<number, number>>(); // marker -> node index -> seen at
const firstMapAt = new Map<number, number>();
const reconnects = new Map<number, number>(); // node index -> time its new map arrived
const lostAt = new Map<number, number>(); // node index -> when its stream ended
let sampleEvery = 0;
const samplePeers: number[] = [];
let reconnecting = true;

function send(msg: FromWorker): void {
  process.send!(msg);
}

const hooks = {
  onFrame(node: SimNode, frame: Buffer, index: number): void {
    const t = now();
    if (index === 0) {
      firstMapAt.set(node.index, t);
      if (reconnecting && lostAt.has(node.index)) {
        reconnects.set(node.index, t);
        lostAt.delete(node.index);
      }
      if (sampleEvery > 0 && node.index % sampleEvery === 0) samplePeers.push(countPeers(frameText(frame)));
    }
    if (watching.size === 0) return;
    const text = frameText(frame);
    for (const [marker, seen] of watching) {
      if (!seen.has(node.index) && text.includes(marker)) seen.set(node.index, t);
    }
  },
  onLost(node: SimNode): void {
    if (!reconnecting || lostAt.has(node.index)) return;
    lostAt.set(node.index, now());
    void reconnect(node, 0);
  },
};
function countPeers(json: string): number {
  const m = JSON.parse(json) as { Peers?: unknown[] };
  return m.Peers?.length ?? 0;
}

async function reconnect(node: SimNode, attempt: number): Promise<void> {
  await new Promise((r) => setTimeout(r, backoffMs(attempt + 1)));
  if (!reconnecting) return;
  try {
    await node.connect();
    await node.openMap();
  } catch {
    node.close();
    void reconnect(node, attempt + 1);
  }
}

/**
 * tailscaled's wait before its n-th retry of the map poll (util/backoff, used by the map
 * routine): n² × 10 ms, capped at 30 s, scaled by a random factor between 0.5 and 1.5.
 */
function backoffMs(n: number): number {
  return Math.min(n * n * 10, 30_000) * (0.5 + Math.random());
}

async function pool<T>(items: T[], concurrency: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  const runners = Array.from({ length: Math.min(concurrency, items.length) }, async () => {
    while (next < items.length) await fn(items[next++]!);
  });
  await Promise.all(runners);
}

async function join(authKey: string, concurrency: number): Promise<JoinRecord[]> {
  const records: JoinRecord[] = [];
  await pool(nodes, concurrency, async (node) => {
    const rec: JoinRecord = { index: node.index, start: now(), registered: 0, mapOpened: 0, error: '' };
    try {
      await node.connect();
      await node.register(authKey);
      rec.registered = now();
      await node.openMap();
      rec.mapOpened = now();
    } catch (err) {
      rec.error = (err as Error).message;
    }
    records.push(rec);
  });
  return records;
}

function markerReport(marker: string, peek: boolean): MarkerReport {
  const seen = watching.get(marker) ?? new Map<number, number>();
  if (!peek) watching.delete(marker);
  return { marker, seen: [...seen.values()], seenBy: [...seen.keys()], missing: nodes.length - seen.size };
}

process.on('disconnect', () => process.exit(0)); // the coordinator is gone

process.on('message', (raw) => {
  const msg = raw as ToWorker;
  void (async () => {
    try {
      switch (msg.op) {
        case 'init':
          target = { host: msg.host, port: msg.port, serverPublicKey: Buffer.from(msg.serverKey, 'hex') };
          sampleEvery = msg.sampleEvery;
          nodes = msg.indices.map((i) => new SimNode(i, target!, hooks));
          send({ op: 'ok', id: msg.id });
          break;
        case 'join':
          send({ op: 'joined', id: msg.id, records: await join(msg.authKey, msg.concurrency) });
          break;
        case 'watch':
          for (const m of msg.markers) watching.set(m, new Map());
          send({ op: 'ok', id: msg.id });
          break;
        case 'endpoint': {
          const node = nodes.find((n) => n.index === msg.index)!;
          const sent = now();
          await node.updateEndpoints([msg.endpoint]);
          send({ op: 'endpointSent', id: msg.id, sent });
          break;
        }
        case 'collect':
          send({ op: 'markers', id: msg.id, reports: msg.markers.map((m) => markerReport(m, msg.peek)) });
          break;
        case 'status': {
          const firstMaps = [...firstMapAt.values()];
          send({
            op: 'status',
            id: msg.id,
            connected: nodes.filter((n) => n.connected).length,
            withMap: nodes.filter((n) => n.connected && n.frames > 0).length,
            bytesRead: nodes.reduce((s, n) => s + n.socketBytes, 0),
            reconnectedAt: [...reconnects.values()],
            lostAt: [...lostAt.values()],
            lastFirstMap: firstMaps.length ? Math.max(...firstMaps) : 0,
            samplePeers,
            rss: process.memoryUsage.rss(),
            cpu: process.cpuUsage(),
          });
          break;
        }
        case 'resetReconnects':
          reconnects.clear();
          send({ op: 'ok', id: msg.id });
          break;
        case 'stop':
          reconnecting = false;
          for (const n of nodes) n.close();
          send({ op: 'ok', id: msg.id });
          setTimeout(() => process.exit(0), 50);
          break;
      }
    } catch (err) {
      send({ op: 'error', id: msg.id, message: (err as Error).stack ?? String(err) });
    }
  })();
});
