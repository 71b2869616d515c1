import assert from 'node:assert/strict';
import { test } from 'node:test';
import { emptyChangeSet, mergeChangeSets } from './change-sets.js';

test('merging batches keeps the later value of each field and lets removals cancel earlier news', () => {
  const a = emptyChangeSet();
  a.changed.add(1).add(2);
  a.patched.set(3, { NodeID: 3, Endpoints: ['127.0.0.1:1'], DERPRegion: 1 });
  a.patched.set(2, { NodeID: 2, Endpoints: ['127.0.0.2:2'] });
  a.online.set(4, true);
  a.users.add(10);
  a.dnsChanged = true;
  a.at = '2026-11-25T00:00:00.000Z';
  const b = emptyChangeSet();
  b.patched.set(3, { NodeID: 3, Endpoints: ['127.0.0.1:9'] });
  b.online.set(4, false);
  b.removed.add(2);
  b.policyChanged = true;
  b.at = '2026-11-25T00:00:01.000Z';

  const m = mergeChangeSets([a, b]);
  assert.deepEqual([...m.changed], [1]);
  assert.deepEqual([...m.removed], [2]);
  assert.deepEqual(m.patched.get(3), { NodeID: 3, Endpoints: ['127.0.0.1:9'], DERPRegion: 1 });
  assert.equal(m.patched.has(2), false);
  assert.equal(m.online.get(4), false);
  assert.deepEqual([...m.users], [10]);
  assert.deepEqual([m.dnsChanged, m.derpChanged, m.policyChanged], [true, false, true]);
  assert.equal(m.at, b.at);
  assert.deepEqual(a.patched.get(3), { NodeID: 3, Endpoints: ['127.0.0.1:1'], DERPRegion: 1 }, 'inputs untouched');
  assert.equal(a.changed.has(2), true);
});
