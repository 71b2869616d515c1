// The batcher's fan-out at a size where it spans several event-loop turns: every stream gets
// the change exactly once, equal deltas share one frame; a change that arrives during a
// fan-out rides along to the nodes not reached yet and follows to the others.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decompress } from 'zstd-napi';
import { Batcher, type MapSink } from '../../src/mapper/batcher.js';
import { Mapper } from '../../src/mapper/mapper.js';
import { addNodes, testNode } from '../support/nodes.js';
import { withState } from '../support/state.js';
import type { State } from '../../src/state/index.js';

const N = 600;

interface Setup {
  state: State;
  user: number;
  ids: number[];
  mapper: Mapper;
  batcher: Batcher;
}

/** `count` nodes of one user, a mapper and a batcher with the given window, closed afterwards. */
async function withBatcher(count: number, windowMs: number, fn: (s: Setup) => Promise<void>): Promise<void> {
  await withState(async (state) => {
    const user = (await state.users.create({ name: 'batch' })).id;
    const ids = await addNodes(state, user, count, ['192.0.2.1:41641']); // nodes that have reported endpoints
    const mapper = new Mapper(state, { baseDomain: 'tailnet.test', domain: 't', dnsConfig: () => ({}), derpMap: () => ({ Regions: {} }), capMap: {} });
    const batcher = new Batcher(state, mapper, windowMs);
    try {
      await fn({ state, user, ids, mapper, batcher });
    } finally {
      batcher.close();
      await state.flush();
    }
  });
}

test('a fan-out over several turns reaches every stream once, with one shared frame', async () => {
  await withBatcher(N, 1_000_000 /* flushed by hand */, async ({ state, ids, batcher }) => {
    const got = new Map<number, Buffer[]>();
    for (const id of ids) {
      const sink: MapSink = { nodeId: id, zstd: true, sendFrame: (f) => got.set(id, [...(got.get(id) ?? []), f]), end: () => {} };
      batcher.add(sink);
    }
    const mover = ids[7]!;
    state.nodes.touch(mover, { endpoints: ['127.9.9.9:1'] }, 'node-patched');
    batcher.flush();
    const afterFirstTurn = got.size;
    assert.ok(afterFirstTurn > 0 && afterFirstTurn < N, `first turn reached ${afterFirstTurn} of ${N}`);
    state.nodes.touch(ids[8]!, { endpoints: ['127.8.8.8:1'] }, 'node-patched'); // arrives mid fan-out
    await batcher.idle();
    const others = ids.filter((id) => id !== mover);
    for (const id of others) assert.equal(got.get(id)?.length, 1, `node ${id}`);
    const frame = got.get(others[0]!)![0]!;
    for (const id of others) assert.equal(got.get(id)![0], frame, 'the same bytes for every viewer');
    const text = decompress(frame.subarray(4)).toString();
    assert.ok(text.includes('127.9.9.9:1') && !text.includes('127.8.8.8:1'), text);

    batcher.flush();
    await batcher.idle();
    const second = got.get(ids[0]!)![1]!;
    assert.ok(decompress(second.subarray(4)).toString().includes('127.8.8.8:1'));
    assert.equal(got.get(ids[0]!)!.length, 2);
  });
});

test('an endpoint change during a fan-out joins it for the nodes not reached yet and follows to the rest', async () => {
  await withBatcher(N, 5, async ({ state, ids, batcher }) => {
    const got = new Map<number, string[]>();
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    for (const id of ids) {
      batcher.add({ nodeId: id, zstd: false, sendFrame: (f) => (busy(0.05), got.set(id, [...(got.get(id) ?? []), f.subarray(4).toString()])), end: () => {} });
    }
    state.nodes.touch(ids[1]!, { endpoints: ['127.1.1.1:1'] }, 'node-patched');
    batcher.flush();
    const reached = new Set(got.keys());
    assert.ok(reached.size > 0 && reached.size < N, `first turn reached ${reached.size} of ${N}`);
    state.nodes.touch(ids[2]!, { endpoints: ['127.2.2.2:2'] }, 'node-patched'); // arrives mid fan-out
    await batcher.idle(); // one run carries both changes: no second batch is left waiting
    let merged = 0;
    for (const id of ids) {
      const texts = got.get(id) ?? [];
      const all = texts.join('\n');
      if (id !== ids[1]) assert.ok(all.includes('127.1.1.1:1'), `node ${id} has the first change`);
      if (id !== ids[2]) assert.ok(all.includes('127.2.2.2:2'), `node ${id} has the second change`);
      if (id === ids[2]) continue; // its own change is not sent back to it
      if (reached.has(id)) {
        assert.equal(texts.length, 2, `node ${id}, reached before the second change, gets it next`);
        assert.ok(!texts[0]!.includes('127.2.2.2:2') && !texts[1]!.includes('127.1.1.1:1'));
      } else if (id !== ids[1]) {
        assert.ok(texts.length <= 2, `node ${id}: ${texts.length} messages`);
        if (texts.length === 1) merged++;
      }
    }
    assert.ok(merged > 0, 'some nodes got both changes in one message');
  });
});

test('viewers that see every node share one delta; the nodes a batch concerns get their own', async () => {
  await withBatcher(40, 1_000_000, async ({ state, user, ids, mapper, batcher }) => {
    const got = new Map<number, string[]>();
    for (const id of ids) {
      mapper.fullMapFrame(id, true); // what each viewer was shown: every other node
      batcher.add({ nodeId: id, zstd: false, sendFrame: (f) => got.set(id, [...(got.get(id) ?? []), f.subarray(4).toString()]), end: () => {} });
    }
    const mover = ids[3]!;
    state.nodes.touch(mover, { endpoints: ['127.7.7.7:7'] }, 'node-patched');
    const joiner = (await state.nodes.add(testNode(1000, user))).id;
    batcher.flush();
    await batcher.idle();
    const others = ids.filter((id) => id !== mover);
    const shared = got.get(others[0]!)![0]!;
    for (const id of others) assert.equal(got.get(id)![0], shared, `node ${id}`);
    const delta = JSON.parse(shared) as { PeersChanged: Array<{ ID: number }>; PeersChangedPatch: Array<{ NodeID: number; Endpoints: string[] }> };
    assert.deepEqual(delta.PeersChanged.map((p) => p.ID), [ids.length + 1]);
    assert.equal(joiner, ids.length + 1);
    assert.deepEqual(delta.PeersChangedPatch.map((p) => [p.NodeID, p.Endpoints]), [[mover, ['127.7.7.7:7']]]);
    const own = JSON.parse(got.get(mover)![0]!) as { PeersChanged: unknown[]; PeersChangedPatch?: unknown };
    assert.equal(own.PeersChanged.length, 1);
    assert.equal(own.PeersChangedPatch, undefined, 'a node is not sent its own endpoint patch');

    // the full map of a node that joins later shows the moved endpoint (its cached block was rebuilt)
    const full = JSON.parse(decompress(mapper.fullMapFrame(ids[0]!, true)!.subarray(4)).toString()) as { Peers: Array<{ ID: number; Endpoints?: string[] }> };
    assert.equal(full.Peers.length, ids.length);
    assert.deepEqual(full.Peers.find((p) => p.ID === mover)!.Endpoints, ['127.7.7.7:7']);
    const plain = JSON.parse(mapper.fullMap(ids[0]!)!) as { Peers: unknown[] };
    assert.deepEqual(full.Peers, plain.Peers);
  });
});

test('a policy change in a batch with joins: the joins go out as one shared message, the new filter as each node\'s own', async () => {
  await withBatcher(40, 1_000_000, async ({ state, user, ids, mapper, batcher }) => {
    const got = new Map<number, Buffer[]>();
    for (const id of ids) {
      mapper.fullMapFrame(id, true);
      batcher.add({ nodeId: id, zstd: false, sendFrame: (f) => got.set(id, [...(got.get(id) ?? []), f]), end: () => {} });
    }
    const joiner = (await state.nodes.add(testNode(1000, user))).id;
    await state.policy.set('{"acls":[{"action":"accept","src":["*"],"dst":["*:22"]}]}');
    batcher.flush();
    await batcher.idle();
    const news = got.get(ids[0]!)![0]!;
    for (const id of ids) {
      const [shared, own, ...more] = got.get(id)!;
      assert.equal(shared, news, `node ${id}: the same bytes as every other node`);
      assert.deepEqual(more, []);
      assert.deepEqual((JSON.parse(shared!.subarray(4).toString()) as { PeersChanged: Array<{ ID: number }> }).PeersChanged.map((p) => p.ID), [joiner]);
      const mine = JSON.parse(own!.subarray(4).toString()) as { Node: { ID: number }; PacketFilter: Array<{ DstPorts: Array<{ Ports: { First: number } }> }>; PeersChanged?: unknown };
      assert.equal(mine.Node.ID, id);
      assert.equal(mine.PacketFilter[0]!.DstPorts[0]!.Ports.First, 22);
      assert.equal(mine.PeersChanged, undefined);
    }
  });
});

test('after a long fan-out, joins (with their first endpoints) wait longer than endpoint changes, which pull a waiting batch forward', async () => {
  await withBatcher(300, 5, async ({ state, user, ids, batcher }) => {
    const got: Array<{ at: number; text: string }> = [];
    const busy = (ms: number) => {
      const end = performance.now() + ms;
      while (performance.now() < end);
    };
    for (const id of ids) {
      batcher.add({ nodeId: id, zstd: false, sendFrame: (f) => (busy(0.7), id === ids[0] && got.push({ at: performance.now(), text: f.subarray(4).toString() })), end: () => {} });
    }
    let t = performance.now();
    state.nodes.touch(ids[1]!, { endpoints: ['127.0.0.1:1'] }, 'node-patched');
    batcher.flush();
    await batcher.idle();
    const fanout = performance.now() - t; // about 300 × 0.7 ms
    got.length = 0;

    t = performance.now();
    const joiner = await state.nodes.add(testNode(1000, user)); // a join: may wait up to 4 fan-outs (at most a second)
    state.nodes.touch(joiner.id, { endpoints: ['127.0.0.3:3'] }, 'node-patched'); // no peer could reach it before
    await new Promise((r) => setTimeout(r, fanout)); // an endpoint change would have gone out after a quarter of it
    assert.equal(got.length, 0, 'a join waits longer than a fan-out after a long fan-out');
    state.nodes.touch(ids[2]!, { endpoints: ['127.0.0.2:2'] }, 'node-patched'); // urgent: a quarter of a fan-out
    while (got.length === 0) await new Promise((r) => setTimeout(r, 10));
    const waited = got[0]!.at - t;
    assert.ok(waited < fanout * 3, `delivered after ${waited.toFixed(0)} ms (fan-out ${fanout.toFixed(0)} ms)`);
    assert.ok(got[0]!.text.includes('127.0.0.2:2') && got[0]!.text.includes('"PeersChanged"'), 'the join and the endpoint change went out together');
  });
});
