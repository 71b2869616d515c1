import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decompress } from 'zstd-napi';
import { PeerBlocks, type PeerEntry } from './peer-blocks.js';

const before = '{"Node":{"ID":0}';
const after = ',"PacketFilter":[]}';

function peersFor(viewer: number, count: number, version = 0): PeerEntry[] {
  const out: PeerEntry[] = [];
  for (let id = 1; id <= count; id++) if (id !== viewer) out.push({ id, json: `{"ID":${id},"Name":"n${id}","V":${version}}`, shared: true });
  return out;
}

/** A map's zstd frames, back to back as they go on the wire, decoded. */
const unzip = (frames: Buffer[]): Buffer => decompress(Buffer.concat(frames));

function plain(peers: PeerEntry[]): string {
  return before + (peers.length ? `,"Peers":[${peers.map((p) => p.json).join(',')}]` : '') + after;
}

test('the concatenated frames decode to exactly the JSON a single frame would hold', () => {
  for (const size of [1, 7, 64]) {
    const blocks = new PeerBlocks(size);
    for (const viewer of [1, 2, 64, 65, 150, 300]) {
      const peers = peersFor(viewer, 300);
      const text = unzip(blocks.body(before, peers, after, viewer)).toString();
      assert.equal(text, plain(peers), `size ${size}, viewer ${viewer}`);
      assert.equal((JSON.parse(text) as { Peers: unknown[] }).Peers.length, 299);
    }
  }
});

test('no peers, one peer, and peers shaped for one viewer', () => {
  const blocks = new PeerBlocks(4);
  assert.equal(unzip(blocks.body(before, [], after, 1)).toString(), plain([]));
  const one = peersFor(1, 2);
  assert.equal(unzip(blocks.body(before, one, after, 1)).toString(), plain(one));
  const shaped = peersFor(1, 20).map((p) => (p.id === 9 ? { ...p, json: '{"ID":9,"Shaped":true}', shared: false } : p));
  assert.equal(unzip(blocks.body(before, shaped, after, 1)).toString(), plain(shaped));
  // The shaped entry was not cached: another viewer gets the shared form of node 9.
  const other = peersFor(2, 20);
  assert.equal(unzip(blocks.body(before, other, after, 2)).toString(), plain(other));
});

test('blocks are compressed once and reused; a changed node misses once and is seen', () => {
  const blocks = new PeerBlocks(10);
  const shared = peersFor(0, 100); // same string objects for every viewer, as the WireCache gives
  const forViewer = (v: number) => shared.filter((p) => p.id !== v);
  blocks.body(before, forViewer(5), after, 5);
  const afterFirst = blocks.compressedBlocks;
  assert.ok(afterFirst >= 8, `compressed ${afterFirst}`);
  blocks.body(before, forViewer(95), after, 95);
  assert.ok(blocks.compressedBlocks - afterFirst <= 1, 'the second viewer reused the blocks');
  const changed = shared.map((p) => (p.id === 55 ? { ...p, json: '{"ID":55,"V":1}' } : p));
  const before3 = blocks.compressedBlocks;
  const text = unzip(blocks.body(before, changed.filter((p) => p.id !== 95), after, 95)).toString();
  assert.equal(blocks.compressedBlocks - before3, 1);
  assert.ok(text.includes('{"ID":55,"V":1}'));
});

test('sharedBody decodes to the same JSON as body, for any viewer and block size', () => {
  for (const size of [1, 5, 64]) {
    const blocks = new PeerBlocks(size);
    const nodes = Array.from({ length: 150 }, (_, i) => ({ id: i + 1 }));
    const json = (n: { id: number }) => `{"ID":${n.id},"Name":"n${n.id}","V":0}`;
    for (const viewer of [1, 2, 5, 64, 65, 150, 999]) {
      const text = unzip(blocks.sharedBody(before, nodes, viewer, json, after)).toString();
      assert.equal(text, plain(peersFor(viewer, 150)), `size ${size}, viewer ${viewer}`);
    }
  }
  const alone = new PeerBlocks(4);
  assert.equal(unzip(alone.sharedBody(before, [{ id: 3 }], 3, () => 'x', after)).toString(), plain([]));
});

test('sharedBody reuses clean blocks and rebuilds a touched one or one whose nodes differ', () => {
  const blocks = new PeerBlocks(10);
  let version = 0;
  const nodes = Array.from({ length: 100 }, (_, i) => ({ id: i + 1 }));
  const json = (n: { id: number }) => `{"ID":${n.id},"V":${n.id === 55 ? version : 0}}`;
  blocks.sharedBody(before, nodes, 5, json, after);
  const built = blocks.compressedBlocks;
  blocks.sharedBody(before, nodes, 95, json, after);
  assert.ok(blocks.compressedBlocks - built <= 1, 'the second viewer reused the blocks');
  version = 1; // node 55 changed, but nobody said so: the cached block still holds V 0
  assert.ok(unzip(blocks.sharedBody(before, nodes, 95, json, after)).toString().includes('{"ID":55,"V":0}'));
  blocks.touch(55);
  const n = blocks.compressedBlocks;
  assert.ok(unzip(blocks.sharedBody(before, nodes, 95, json, after)).toString().includes('{"ID":55,"V":1}'));
  assert.equal(blocks.compressedBlocks - n, 1);
  const without57 = nodes.filter((x) => x.id !== 57); // a node left: its block's IDs differ
  const text = unzip(blocks.sharedBody(before, without57, 95, json, after)).toString();
  assert.ok(!text.includes('"ID":57,'));
  assert.equal((JSON.parse(text) as { Peers: unknown[] }).Peers.length, 98);
});

test('a map compresses little more than the viewer\'s own block: the block opening the list is cached too', () => {
  const blocks = new PeerBlocks(10);
  const nodes = Array.from({ length: 100 }, (_, i) => ({ id: i + 1 }));
  const json = (n: { id: number }) => `{"ID":${n.id},"Name":"node-${n.id}","V":0}`;
  blocks.sharedBody(before, nodes, 55, json, after);
  blocks.sharedBody(before, nodes, 65, json, after); // now every block is cached, block 1 (IDs 10-19) opens the list
  const n = blocks.compressedBytes;
  const text = unzip(blocks.sharedBody(before, nodes, 55, json, after)).toString();
  assert.equal(text, plain(peersFor(55, 100).map((p) => ({ ...p, json: json({ id: p.id }) }))));
  const ownBlock = nodes.filter((x) => x.id >= 50 && x.id < 60).map(json).join(',').length;
  const perMap = blocks.compressedBytes - n;
  assert.ok(perMap < ownBlock + before.length + after.length + 32, `compressed ${perMap} bytes for one map; its own block is ${ownBlock}`);
});
