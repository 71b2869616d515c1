import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { ByteQueue } from './byte-queue.js';

test('any chunking in, exact amounts out', () => {
  for (let round = 0; round < 50; round++) {
    const data = crypto.randomBytes(1 + Math.floor(Math.random() * 5000));
    const q = new ByteQueue();
    for (let i = 0; i < data.length; ) {
      const n = 1 + Math.floor(Math.random() * 300);
      q.push(data.subarray(i, i + n));
      i += n;
    }
    assert.equal(q.length, data.length);
    const out: Buffer[] = [];
    while (q.length > 0) out.push(q.take(Math.min(q.length, 1 + Math.floor(Math.random() * 700))));
    assert.deepEqual(Buffer.concat(out), data);
  }
});

test('taking more than is queued is refused; clear empties', () => {
  const q = new ByteQueue();
  q.push(Buffer.from('abc'));
  assert.throws(() => q.take(4), RangeError);
  assert.equal(q.take(0).length, 0);
  q.clear();
  assert.equal(q.length, 0);
});
