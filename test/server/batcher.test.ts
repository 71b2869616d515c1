// The batcher's fan-out at a size where it spans several event-loop turns: every stream gets
// the change exactly once, equal deltas share one frame, and a change that arrives during a
// fan-out goes out in the next batch.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { decompress } from 'zstd-napi';
import { Batcher, type MapSink } from '../../src/mapper/batcher.js';
import { Mapper } from '../../src/mapper/mapper.js';
import { addNodes } from '../support/nodes.js';
import { withState } from '../support/state.js';

const N = 600;

test('a fan-out over several turns reaches every stream once, with one shared frame', async () => {
  await withState(async (state) => {
    const ids = await addNodes(state, (await state.users.create({ name: 'fan' })).id, N);
    const mapper = new Mapper(state, { baseDomain: 'tailnet.test', domain: 't', dnsConfig: () => ({}), derpMap: () => ({ Regions: {} }), capMap: {} });
    const batcher = new Batcher(state, mapper, 1_000_000); // flushed by hand
    const got = new Map<number, Buffer[]>();
    for (const id of ids) {
      const sink: MapSink = { nodeId: id, zstd: true, sendFrame: (f) => got.set(id, [...(got.get(id) ?? []), f]), end: () => {} };
      batcher.add(sink);
    }
    try {
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
    } finally {
      batcher.close();
      await state.flush();
    }
  });
});
