// RFC 6455 carrier tests: framing both ways, masking rules, fragmentation, ping/pong, close
// handshake, any chunking, and protocol violations ending in ERR_NOISE_WEBSOCKET.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { duplexPair, type Duplex } from 'node:stream';
import { isNoiseError } from './errors.js';
import { closeReason, readAll } from './test-kit.js';
import { websocketAccept } from './websocket-frame.js';
import { WebSocketDuplex } from './websocket.js';

interface FrameSpec {
  opcode: number;
  payload?: Buffer;
  fin?: boolean;
  mask?: boolean;
  rsv?: number;
}

/** Builds a raw frame the way a client (masked) or server (unmasked) would. */
function frame({ opcode, payload = Buffer.alloc(0), fin = true, mask = true, rsv = 0 }: FrameSpec): Buffer {
  const len = payload.length;
  const ext = len < 126 ? 0 : len <= 0xffff ? 2 : 8;
  const h = Buffer.alloc(2 + ext + (mask ? 4 : 0));
  h[0] = (fin ? 0x80 : 0) | rsv | opcode;
  h[1] = (mask ? 0x80 : 0) | (ext === 0 ? len : ext === 2 ? 126 : 127);
  if (ext === 2) h.writeUInt16BE(len, 2);
  if (ext === 8) h.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([h, payload]);
  const key = crypto.randomBytes(4);
  key.copy(h, 2 + ext);
  return Buffer.concat([h, Buffer.from(payload.map((b, i) => b ^ key[i & 3]!))]);
}

/** Parses unmasked/masked frames from raw bytes (test oracle). */
function parseFrames(raw: Buffer): Array<{ opcode: number; masked: boolean; payload: Buffer }> {
  const out = [];
  let o = 0;
  while (o < raw.length) {
    const opcode = raw[o]! & 0x0f;
    const masked = (raw[o + 1]! & 0x80) !== 0;
    let len = raw[o + 1]! & 0x7f;
    o += 2;
    if (len === 126) (len = raw.readUInt16BE(o)), (o += 2);
    else if (len === 127) (len = Number(raw.readBigUInt64BE(o))), (o += 8);
    let key: Buffer = Buffer.alloc(4);
    if (masked) (key = raw.subarray(o, o + 4)), (o += 4);
    const payload = Buffer.from(raw.subarray(o, o + len).map((b, i) => b ^ key[i & 3]!));
    o += len;
    out.push({ opcode, masked, payload });
  }
  return out;
}

function collectRaw(raw: Duplex): () => Buffer {
  const parts: Buffer[] = [];
  raw.on('data', (d: Buffer) => parts.push(d));
  return () => Buffer.concat(parts);
}

test('Sec-WebSocket-Accept matches RFC 6455 §1.3', () => {
  assert.equal(websocketAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('client and server adapters carry bytes both ways and close cleanly', async () => {
  const [a, b] = duplexPair();
  const server = new WebSocketDuplex(a, { role: 'server' });
  const client = new WebSocketDuplex(b, { role: 'client' });
  const up = crypto.randomBytes(200_000);
  const down = crypto.randomBytes(70_000);
  const gotUp = readAll(server);
  const gotDown = readAll(client);
  client.write(up.subarray(0, 10));
  client.end(up.subarray(10));
  server.end(down);
  const closed = Promise.all([new Promise((r) => server.on('close', r)), new Promise((r) => client.on('close', r))]);
  assert.deepEqual(await gotUp, up);
  assert.deepEqual(await gotDown, down);
  await closed;
});

test('server side: any chunking, fragmentation, 16/64-bit lengths, ping answered with pong, close answered', async () => {
  const [a, b] = duplexPair();
  const server = new WebSocketDuplex(a, { role: 'server' });
  const fromServer = collectRaw(b);
  const p1 = crypto.randomBytes(100);
  const p2 = crypto.randomBytes(300);
  const p3 = crypto.randomBytes(70_000);
  const wire = Buffer.concat([
    frame({ opcode: 2, payload: p1 }),
    frame({ opcode: 2, payload: p2.subarray(0, 7), fin: false }),
    frame({ opcode: 9, payload: Buffer.from('ping!') }), // control frame between fragments
    frame({ opcode: 0, payload: p2.subarray(7), fin: true }),
    frame({ opcode: 2, payload: Buffer.alloc(0) }),
    frame({ opcode: 10, payload: Buffer.from('unsolicited pong') }),
    frame({ opcode: 2, payload: p3 }),
    frame({ opcode: 8, payload: Buffer.from([0x03, 0xe8]) }),
  ]);
  const got = readAll(server);
  let o = 0;
  while (o < wire.length) {
    const n = Math.min(wire.length - o, crypto.randomInt(1, 40));
    b.write(wire.subarray(o, o + n));
    o += n;
  }
  assert.deepEqual(await got, Buffer.concat([p1, p2, p3]));
  await new Promise((r) => setImmediate(r));
  const frames = parseFrames(fromServer());
  assert.deepEqual(
    frames.map((f) => [f.opcode, f.masked, f.payload.toString('hex')]),
    [
      [10, false, Buffer.from('ping!').toString('hex')],
      [8, false, '03e8'],
    ],
  );
});

test('client side sends masked binary frames and rejects masked server frames', async () => {
  const [a, b] = duplexPair();
  const client = new WebSocketDuplex(b, { role: 'client' });
  const fromClient = collectRaw(a);
  client.write(Buffer.from('hello'));
  await new Promise((r) => setImmediate(r));
  const [f] = parseFrames(fromClient());
  assert.equal(f?.opcode, 2);
  assert.equal(f?.masked, true);
  assert.equal(f?.payload.toString(), 'hello');
  const reason = closeReason(client);
  client.resume();
  a.write(frame({ opcode: 2, payload: Buffer.from('x'), mask: true }));
  assert.ok(isNoiseError(await reason, 'ERR_NOISE_WEBSOCKET'));
});

test('protocol violations end the stream with ERR_NOISE_WEBSOCKET and a close frame with the right code', async () => {
  const cases: Array<[string, Buffer, number]> = [
    ['unmasked client frame', frame({ opcode: 2, payload: Buffer.from('x'), mask: false }), 1002],
    ['text frame', frame({ opcode: 1, payload: Buffer.from('x') }), 1003],
    ['RSV1 (compression) set', frame({ opcode: 2, payload: Buffer.from('x'), rsv: 0x40 }), 1002],
    ['unknown data opcode', frame({ opcode: 3 }), 1002],
    ['unknown control opcode', frame({ opcode: 0xb }), 1002],
    ['continuation without start', frame({ opcode: 0, payload: Buffer.from('x') }), 1002],
    ['oversize control frame', frame({ opcode: 9, payload: Buffer.alloc(126) }), 1002],
    ['fragmented control frame', frame({ opcode: 9, fin: false }), 1002],
    ['new message inside a fragmented one', Buffer.concat([frame({ opcode: 2, fin: false }), frame({ opcode: 2 })]), 1002],
    ['1-byte close body', frame({ opcode: 8, payload: Buffer.of(3) }), 1002],
  ];
  for (const [name, wire, code] of cases) {
    const [a, b] = duplexPair();
    const server = new WebSocketDuplex(a, { role: 'server' });
    const fromServer = collectRaw(b);
    server.resume();
    const reason = closeReason(server);
    b.write(wire);
    const err = await reason;
    assert.ok(isNoiseError(err, 'ERR_NOISE_WEBSOCKET'), `${name}: ${String(err)}`);
    await new Promise((r) => setImmediate(r));
    const closes = parseFrames(fromServer()).filter((f) => f.opcode === 8);
    assert.equal(closes[0]?.payload.readUInt16BE(0), code, name);
  }
});

test('a huge declared frame is streamed through, not buffered whole', async () => {
  const [a, b] = duplexPair();
  const server = new WebSocketDuplex(a, { role: 'server' });
  let received = 0;
  server.on('data', (d: Buffer) => (received += d.length));
  // Header announcing 2^40 bytes, then 1 MiB of (masked) payload.
  const h = Buffer.alloc(14);
  h[0] = 0x82;
  h[1] = 0x80 | 127;
  h.writeBigUInt64BE(1n << 40n, 2);
  b.write(h);
  for (let i = 0; i < 16; i++) b.write(Buffer.alloc(64 * 1024));
  await new Promise((r) => setImmediate(r));
  assert.equal(received, 1024 * 1024);
  server.destroy();
});
