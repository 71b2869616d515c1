// Map building at scale, in process: N registered nodes, then
//   - the first full map of one node (cold WireCache: every peer encoded once),
//   - the full map of another node (warm: every peer's JSON reused),
//   - one node's endpoint change fanned out to N live sessions (delta built + zstd-framed each).
// Usage: node --import tsx bench/map/full-map.bench.ts [N=10000]

import { performance } from 'node:perf_hooks';
import { Store } from '../../src/store/index.js';
import { State } from '../../src/state/index.js';
import { Mapper } from '../../src/mapper/mapper.js';
import { Batcher, type MapSink } from '../../src/mapper/batcher.js';
import { encodeFrame } from '../../src/mapper/frames.js';
import { sqliteDatabase } from '../../test/support/databases.js';
import { TEST_STATE_OPTIONS } from '../../test/support/state.js';
import { addNodes } from '../../test/support/nodes.js';

const N = Number(process.argv[2] ?? 10_000);
const db = sqliteDatabase();
const store = await Store.open(db.options, '0.1.0');
const state = await State.load(store, TEST_STATE_OPTIONS);
const user = await state.users.create({ name: 'bench' });

let t = performance.now();
await store.transaction(async () => {});
await addNodes(state, user.id, N, ['192.0.2.1:41641', '10.0.0.1:41641']);
const addMs = performance.now() - t;

const mapper = new Mapper(state, {
  baseDomain: 'tailnet.test',
  domain: 'bench',
  dnsConfig: () => ({ Proxied: true, Domains: ['tailnet.test'] }),
  derpMap: () => ({ Regions: {} }),
  capMap: {},
});
const ids = state.nodes.list().map((n) => n.id);

t = performance.now();
const cold = mapper.fullMap(ids[0]!)!;
const coldMs = performance.now() - t;
t = performance.now();
const warm = mapper.fullMap(ids[1]!)!;
const warmMs = performance.now() - t;
t = performance.now();
const frame = encodeFrame(warm, true);
const zstdMs = performance.now() - t;

let frames = 0;
let bytes = 0;
const batcher = new Batcher(state, mapper, 1_000_000);
for (const id of ids) {
  const sink: MapSink = {
    nodeId: id,
    zstd: true,
    sendFrame: (f) => {
      frames++;
      bytes += f.length;
    },
    end: () => {},
  };
  batcher.add(sink);
}
state.nodes.touch(ids[5]!, { endpoints: ['198.51.100.7:41641'] }, 'node-patched');
t = performance.now();
batcher.flush();
await batcher.idle();
const fanoutMs = performance.now() - t;
const rss = process.memoryUsage().rss;

console.log(JSON.stringify({
  nodes: N,
  registerMsPerNode: +(addMs / N).toFixed(3),
  firstFullMapColdMs: +coldMs.toFixed(1),
  fullMapWarmMs: +warmMs.toFixed(1),
  fullMapJsonBytes: warm.length,
  fullMapZstdBytes: frame.length,
  zstdEncodeMs: +zstdMs.toFixed(1),
  endpointChangeFanoutMs: +fanoutMs.toFixed(1),
  fanoutFrames: frames,
  fanoutBytes: bytes,
  rssMiB: Math.round(rss / 2 ** 20),
}, null, 2));
batcher.close();
await state.flush();
await store.close();
await db.drop();
