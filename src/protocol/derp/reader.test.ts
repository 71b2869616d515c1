import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { FrameReader, type DerpFrame } from './reader.js';
import { DerpError } from './errors.js';
import { FrameType, MAX_SEND_PACKET_PAYLOAD, encodeFrame, keepAliveFrame, sendPacketFrame } from './frames.js';

function collect(maxPayload?: number) {
  const frames: DerpFrame[] = [];
  const errors: DerpError[] = [];
  const reader = new FrameReader({ ...(maxPayload ? { maxPayload } : {}), onFrame: (f) => frames.push(f), onError: (e) => errors.push(e) });
  return { reader, frames, errors };
}

/** Splits b into random pieces of 1..max bytes. */
function chop(b: Buffer, max: number): Buffer[] {
  const out: Buffer[] = [];
  for (let at = 0; at < b.length; ) {
    const n = 1 + crypto.randomInt(max);
    out.push(b.subarray(at, at + n));
    at += n;
  }
  return out;
}

function sampleStream(): { bytes: Buffer; expected: { type: number; payload: Buffer }[] } {
  const expected = [
    { type: FrameType.KeepAlive, payload: Buffer.alloc(0) },
    { type: FrameType.SendPacket, payload: Buffer.concat([crypto.randomBytes(32), crypto.randomBytes(1400)]) },
    { type: FrameType.Ping, payload: crypto.randomBytes(8) },
    { type: FrameType.SendPacket, payload: Buffer.concat([crypto.randomBytes(32), crypto.randomBytes(65536)]) },
    { type: 0x7f, payload: crypto.randomBytes(3) }, // an unknown type is still a frame
    { type: FrameType.NotePreferred, payload: Buffer.from([1]) },
  ];
  return { bytes: Buffer.concat(expected.map((f) => encodeFrame(f.type, f.payload))), expected };
}

test('frames come out whole whatever the chunking (1 byte, small, large, all at once)', () => {
  const { bytes, expected } = sampleStream();
  for (const max of [1, 3, 7, 100, 5000, bytes.length]) {
    for (let round = 0; round < (max === 1 ? 1 : 10); round++) {
      const { reader, frames, errors } = collect();
      for (const piece of chop(bytes, max)) reader.push(piece);
      reader.end();
      assert.deepEqual(errors, []);
      assert.equal(reader.state, 'ended');
      assert.deepEqual(
        frames.map((f) => [f.type, f.payload.toString('hex')]),
        expected.map((f) => [f.type, f.payload.toString('hex')]),
        `chunks of up to ${max}`,
      );
    }
  }
});

test('payloads are private copies', () => {
  const { reader, frames } = collect();
  const buf = keepAliveFrame();
  const frame = encodeFrame(FrameType.Ping, Buffer.from('12345678'));
  reader.push(Buffer.concat([buf, frame]));
  frame.fill(0);
  assert.equal(frames[1]!.payload.toString(), '12345678');
});

test('the limit is 32 + 64 KiB by default; one byte more is refused before buffering it', () => {
  const ok = collect();
  ok.reader.push(sendPacketFrame(crypto.randomBytes(32), Buffer.alloc(65536)));
  assert.equal(ok.frames.length, 1);
  assert.equal(MAX_SEND_PACKET_PAYLOAD, 65568);

  const big = collect();
  const hdr = Buffer.from([FrameType.SendPacket, 0, 0, 0, 0]);
  hdr.writeUInt32BE(MAX_SEND_PACKET_PAYLOAD + 1, 1);
  big.reader.push(hdr); // the header alone is enough to refuse
  assert.equal(big.errors.length, 1);
  assert.equal(big.errors[0]!.code, 'ERR_DERP_FRAME_TOO_LARGE');
  assert.equal(big.reader.state, 'failed');
  big.reader.push(keepAliveFrame()); // ignored after failure
  big.reader.end();
  assert.equal(big.frames.length, 0);
  assert.equal(big.errors.length, 1, 'reported once');
});

test('setMaxPayload changes the limit for the following frames', () => {
  const { reader, frames, errors } = collect(256 << 10);
  reader.push(encodeFrame(FrameType.ClientInfo, Buffer.alloc(200_000)));
  reader.setMaxPayload(100);
  reader.push(encodeFrame(FrameType.SendPacket, Buffer.alloc(101)));
  assert.equal(frames.length, 1);
  assert.equal(errors[0]?.code, 'ERR_DERP_FRAME_TOO_LARGE');
});

test('EOF inside a header or payload is ERR_DERP_TRUNCATED; on a boundary it is a clean end', () => {
  const frame = encodeFrame(FrameType.Ping, Buffer.from('abcdefgh'));
  for (const cut of [1, 4, 5, 9]) {
    const { reader, errors } = collect();
    reader.push(frame.subarray(0, cut));
    reader.end();
    assert.equal(errors[0]?.code, 'ERR_DERP_TRUNCATED', `cut at ${cut}`);
  }
  const { reader, errors, frames } = collect();
  reader.push(frame);
  reader.end();
  assert.equal(frames.length, 1);
  assert.deepEqual(errors, []);
  assert.equal(reader.state, 'ended');
});

test('random garbage never throws: it parses as frames or fails once with a code', () => {
  for (let i = 0; i < 300; i++) {
    const { reader, errors } = collect();
    const junk = crypto.randomBytes(1 + crypto.randomInt(4000));
    assert.doesNotThrow(() => {
      for (const piece of chop(junk, 64)) reader.push(piece);
      reader.end();
    });
    assert.ok(errors.length <= 1);
    for (const e of errors) assert.ok(e instanceof DerpError && ['ERR_DERP_FRAME_TOO_LARGE', 'ERR_DERP_TRUNCATED'].includes(e.code));
  }
});

test('a handler may throw a DerpError to reject a frame; other throws become ERR_DERP_BAD_FRAME', () => {
  const errors: DerpError[] = [];
  let seen = 0;
  const reader = new FrameReader({
    onFrame: () => {
      seen++;
      throw new DerpError('ERR_DERP_PERMISSION', 'no');
    },
    onError: (e) => errors.push(e),
  });
  reader.push(Buffer.concat([keepAliveFrame(), keepAliveFrame()]));
  assert.equal(seen, 1, 'nothing is delivered after a rejected frame');
  assert.equal(errors[0]?.code, 'ERR_DERP_PERMISSION');

  const errors2: DerpError[] = [];
  const r2 = new FrameReader({
    onFrame: () => {
      throw new TypeError('bug');
    },
    onError: (e) => errors2.push(e),
  });
  r2.push(keepAliveFrame());
  assert.equal(errors2[0]?.code, 'ERR_DERP_BAD_FRAME');
  assert.ok(errors2[0]?.cause instanceof TypeError);
});

test('pause holds frames back (bytes keep buffering) until resume', () => {
  const { reader, frames } = collect();
  reader.push(keepAliveFrame());
  reader.pause();
  reader.push(Buffer.concat([keepAliveFrame(), keepAliveFrame()]));
  reader.end();
  assert.equal(frames.length, 1);
  assert.equal(reader.bufferedBytes, 10);
  reader.resume();
  assert.equal(frames.length, 3);
  assert.equal(reader.state, 'ended');
});

test('a handler can pause the reader mid-chunk', () => {
  const frames: DerpFrame[] = [];
  const reader: FrameReader = new FrameReader({
    onFrame: (f) => {
      frames.push(f);
      reader.pause();
    },
    onError: () => assert.fail('no error expected'),
  });
  reader.push(Buffer.concat([keepAliveFrame(), keepAliveFrame(), keepAliveFrame()]));
  assert.equal(frames.length, 1);
  reader.resume();
  assert.equal(frames.length, 2);
  reader.resume();
  assert.equal(frames.length, 3);
});

test('bytes pushed from inside a frame handler come after the rest of the current chunk', () => {
  const frames: DerpFrame[] = [];
  const ping = (i: number) => encodeFrame(FrameType.Ping, Buffer.alloc(8, i));
  let pushedInside = false;
  const reader: FrameReader = new FrameReader({
    onFrame: (f) => {
      frames.push(f);
      if (!pushedInside) {
        pushedInside = true;
        reader.push(Buffer.concat([ping(3), ping(4).subarray(0, 7)])); // ends inside a frame
      }
    },
    onError: () => assert.fail('no error expected'),
  });
  // Chunk 1 starts a frame that chunk 2 completes; chunk 2 then holds frames 1 and 2.
  const first = ping(0);
  reader.push(first.subarray(0, 6));
  reader.push(Buffer.concat([first.subarray(6), ping(1), ping(2)]));
  reader.push(ping(4).subarray(7));
  assert.deepEqual(
    frames.map((f) => f.payload[0]),
    [0, 1, 2, 3, 4],
  );
});

test('a frame split across chunks at every offset still comes out whole, with its neighbours', () => {
  const stream = Buffer.concat([sendPacketFrame(crypto.randomBytes(32), crypto.randomBytes(100)), keepAliveFrame(), sendPacketFrame(crypto.randomBytes(32), crypto.randomBytes(50))]);
  for (let cut = 1; cut < stream.length; cut++) {
    const { reader, frames, errors } = collect();
    reader.push(stream.subarray(0, cut));
    reader.push(stream.subarray(cut));
    assert.deepEqual(errors, []);
    assert.deepEqual(
      frames.map((f) => [f.type, f.payload.length]),
      [
        [FrameType.SendPacket, 132],
        [FrameType.KeepAlive, 0],
        [FrameType.SendPacket, 82],
      ],
      `cut at ${cut}`,
    );
  }
});
