// Seeded random input against the HTTP/2 layer, which reads bytes from any node that completed
// a Noise handshake: HPACK blocks of random bytes either decode or fail with H2Error, and random
// frame sequences after a valid opening never throw out of H2ServerConnection (an escaping
// exception would fail this test as an uncaught one); the connection answers or closes, and
// a well-formed request on a new connection is still served. Same seeds, same inputs, every run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { Duplex } from 'node:stream';
import { setImmediate as tick } from 'node:timers/promises';
import { H2ServerConnection } from './server-connection.js';
import { H2Error } from './errors.js';
import { HpackDecoder, encodeHeaders } from './hpack.js';
import { CLIENT_PREFACE, Flag, FrameReader, FrameType, encodeFrame, settingsFrame, type Frame } from './frames.js';

/** xorshift32: a small deterministic generator, so a failure replays exactly. */
function random(seed: number): (below: number) => number {
  let x = seed >>> 0 || 1;
  return (below) => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x % below;
  };
}

function bytes(next: (below: number) => number, length: number): Buffer {
  const out = Buffer.allocUnsafe(length);
  for (let i = 0; i < length; i++) out[i] = next(256);
  return out;
}

/** An in-memory transport: what the server writes is collected; `feed` delivers bytes to it. */
function transport(): { duplex: Duplex; written: Buffer[]; feed(b: Buffer): void } {
  const written: Buffer[] = [];
  const duplex = new Duplex({
    read() {},
    write(chunk: Buffer, _encoding, callback) {
      written.push(chunk);
      callback();
    },
  });
  return { duplex, written, feed: (b) => duplex.push(b) };
}

const request = (id: number): Buffer =>
  encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | Flag.END_STREAM, id, encodeHeaders([[':method', 'GET'], [':scheme', 'http'], [':path', '/ok']]));

test('HPACK: 20,000 random blocks either decode or fail with H2Error', () => {
  const next = random(0x5eed);
  let decoded = 0;
  for (let i = 0; i < 20_000; i++) {
    const decoder = new HpackDecoder();
    try {
      decoder.decode(bytes(next, next(48)));
      decoded++;
    } catch (err) {
      assert.ok(err instanceof H2Error, `block ${i}: ${String(err)}`);
    }
  }
  assert.ok(decoded > 0, 'some random blocks are valid HPACK');
});

test('connection: 400 random frame sequences never throw; a clean request is still answered', async () => {
  const next = random(0xc0ffee);
  const frameTypes = [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 0x0a, 0xfe];
  let closed = 0;
  for (let round = 0; round < 400; round++) {
    const t = transport();
    const connection = new H2ServerConnection(t.duplex, {
      onStream: (s) => void s.readBody(1024).then(() => s.end('ok'), () => {}),
    });
    t.feed(Buffer.concat([CLIENT_PREFACE, settingsFrame([])]));
    for (let f = 0; f < 12; f++) {
      const type = frameTypes[next(frameTypes.length)]!;
      const payload = type === FrameType.HEADERS && next(2) === 0 ? encodeHeaders([[':method', 'POST'], [':path', '/x'], [':scheme', 'http']]) : bytes(next, next(40));
      const frame = encodeFrame(type, next(256), next(4) === 0 ? 0 : 1 + next(9), payload);
      // Sometimes cut the frame short or split it, as a stream may deliver it.
      const cut = next(5) === 0 ? frame.subarray(0, next(frame.length + 1)) : frame;
      const split = next(cut.length + 1);
      t.feed(cut.subarray(0, split));
      t.feed(cut.subarray(split));
    }
    await tick();
    await tick();
    if (connection.closed) closed++;
    connection.destroy();
  }
  assert.ok(closed > 0, 'some sequences were faults that closed the connection');

  const t = transport();
  new H2ServerConnection(t.duplex, { onStream: (s) => void s.readBody(1024).then(() => s.end('ok')) });
  t.feed(Buffer.concat([CLIENT_PREFACE, settingsFrame([]), request(1)]));
  await tick();
  await tick();
  const frames: Frame[] = [];
  const reader = new FrameReader(false);
  reader.maxFrameSize = 1 << 24;
  reader.push(Buffer.concat(t.written), (f) => frames.push(f));
  const data = frames.filter((f) => f.type === FrameType.DATA && f.streamId === 1);
  assert.equal(Buffer.concat(data.map((f) => f.payload)).toString(), 'ok');
});
