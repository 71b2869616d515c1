import assert from 'node:assert/strict';
import { EventEmitter } from 'node:events';
import type { H2ServerStream } from '../../protocol/h2/server-stream.js';
import { test } from 'node:test';
import { FullMapGate } from './full-map-gate.js';

function fakeStream(): H2ServerStream {
  return Object.assign(new EventEmitter(), { closed: false }) as unknown as H2ServerStream;
}

const tick = () => new Promise((r) => setImmediate(r));

test('at most N full maps in flight; a slot frees when the stream drains or closes', async () => {
  const gate = new FullMapGate(2);
  const [a, b, c, d] = [fakeStream(), fakeStream(), fakeStream(), fakeStream()];
  assert.equal(await gate.enter(a), true);
  assert.equal(await gate.enter(b), true);
  let cIn = false;
  let dIn = false;
  void gate.enter(c).then((ok) => (cIn = ok));
  void gate.enter(d).then((ok) => (dIn = ok));
  await tick();
  assert.equal(cIn, false);
  assert.equal(gate.waiting, 2);
  gate.hold(a, false); // a is still buffering its frame
  await tick();
  assert.equal(cIn, false, 'no slot until a drains');
  a.emit('drain');
  await tick();
  assert.equal(cIn, true, 'c got the slot a gave up');
  assert.equal(dIn, false);
  gate.hold(b, true); // b's frame was taken at once
  await tick();
  assert.equal(dIn, true);
});

test('a stream that closed while waiting gives its turn to the next', async () => {
  const gate = new FullMapGate(1);
  const [a, b, c] = [fakeStream(), fakeStream(), fakeStream()];
  await gate.enter(a);
  const bTurn = gate.enter(b);
  let cIn = false;
  void gate.enter(c).then((ok) => (cIn = ok));
  (b as unknown as { closed: boolean }).closed = true;
  gate.hold(a, false);
  a.emit('close');
  assert.equal(await bTurn, false);
  await tick();
  assert.equal(cIn, true);
});
