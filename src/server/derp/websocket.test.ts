import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { WsFrameParser, WsOpcode, encodeWsFrame, type WsFrame, type WsProtocolError } from './websocket-frames.js';
import { WebSocketDuplex, webSocketAccept } from './websocket.js';
import { duplexPair } from '../../protocol/derp/duplex-pair.js';
import { DropOldestQueue } from './send-queue.js';

function parse(bytes: Buffer, expectMasked: boolean, chunk = bytes.length, maxPayload = 1 << 20) {
  const frames: WsFrame[] = [];
  const errors: WsProtocolError[] = [];
  const p = new WsFrameParser({ expectMasked, maxPayload, onFrame: (f) => frames.push(f), onError: (e) => errors.push(e) });
  for (let i = 0; i < bytes.length; i += chunk) p.push(bytes.subarray(i, i + chunk));
  return { frames, errors };
}

test('Sec-WebSocket-Accept matches RFC 6455 §1.3', () => {
  assert.equal(webSocketAccept('dGhlIHNhbXBsZSBub25jZQ=='), 's3pPLMBiTxaQ9kYGzzhZRbK+xOo=');
});

test('frames of every length class round-trip, masked and unmasked, in any chunking', () => {
  const payloads = [0, 1, 125, 126, 65535, 65536, 70000].map((n) => crypto.randomBytes(n));
  for (const masked of [true, false]) {
    const bytes = Buffer.concat(payloads.map((p) => encodeWsFrame(WsOpcode.Binary, p, masked ? { maskKey: crypto.randomBytes(4) } : {})));
    for (const chunk of [1, 7, 1000, bytes.length]) {
      if (chunk === 1 && masked) continue; // slow and covered by 7
      const { frames, errors } = parse(bytes, masked, chunk);
      assert.deepEqual(errors, []);
      assert.deepEqual(frames.map((f) => f.payload), payloads);
    }
  }
  // RFC 6455 §5.7 examples: unmasked "Hello" and masked "Hello".
  assert.equal(encodeWsFrame(WsOpcode.Text, Buffer.from('Hello')).toString('hex'), '810548656c6c6f');
  assert.equal(encodeWsFrame(WsOpcode.Text, Buffer.from('Hello'), { maskKey: Buffer.from('37fa213d', 'hex') }).toString('hex'), '818537fa213d7f9f4d5158');
});

test('protocol errors: unmasked client frame, reserved bits, bad opcode, long control frame, too big', () => {
  const cases: [Buffer, boolean, number][] = [
    [encodeWsFrame(WsOpcode.Binary, Buffer.from('x')), true, 1002],
    [Buffer.from([0xc2, 0x80, 0, 0, 0, 0]), true, 1002],
    [Buffer.from([0x83, 0x80, 0, 0, 0, 0]), true, 1002],
    [encodeWsFrame(WsOpcode.Ping, Buffer.alloc(126), { maskKey: Buffer.alloc(4) }), true, 1002],
    [encodeWsFrame(WsOpcode.Ping, Buffer.alloc(1), { fin: false, maskKey: Buffer.alloc(4) }), true, 1002],
    [encodeWsFrame(WsOpcode.Binary, Buffer.alloc(2000), { maskKey: Buffer.alloc(4) }), true, 1009],
  ];
  for (const [bytes, masked, code] of cases) {
    const { errors, frames } = parse(bytes, masked, bytes.length, 1000);
    assert.equal(errors[0]?.closeCode, code);
    assert.equal(frames.length, 0);
  }
});

test('the duplex turns fragmented messages into one byte stream and answers pings', async () => {
  const [serverSock, clientSock] = duplexPair();
  const server = new WebSocketDuplex(serverSock, { role: 'server' });
  const mask = () => ({ maskKey: crypto.randomBytes(4) });
  const got: Buffer[] = [];
  server.on('data', (d: Buffer) => got.push(d));
  const fromServer: Buffer[] = [];
  clientSock.on('data', (d: Buffer) => fromServer.push(d));
  clientSock.write(encodeWsFrame(WsOpcode.Binary, Buffer.from('ab'), { fin: false, ...mask() }));
  clientSock.write(encodeWsFrame(WsOpcode.Ping, Buffer.from('p'), mask()));
  clientSock.write(encodeWsFrame(WsOpcode.Continuation, Buffer.from('cd'), mask()));
  clientSock.write(encodeWsFrame(WsOpcode.Text, Buffer.from('ef'), mask()));
  server.write(Buffer.from('reply'));
  await new Promise((r) => setTimeout(r, 20));
  assert.equal(Buffer.concat(got).toString(), 'abcdef');
  const { frames } = parse(Buffer.concat(fromServer), false);
  assert.deepEqual(frames.map((f) => [f.opcode, f.payload.toString()]).sort(), [
    [WsOpcode.Pong, 'p'],
    [WsOpcode.Binary, 'reply'],
  ].sort());
  clientSock.write(encodeWsFrame(WsOpcode.Close, Buffer.from([0x03, 0xe8]), mask()));
  await new Promise((r) => server.once('end', r).resume());
  server.destroy();
});

test('the drop-oldest queue keeps the newest entries and reports what it dropped', () => {
  const q = new DropOldestQueue<number>(3);
  assert.deepEqual([q.push(1), q.push(2), q.push(3), q.push(4)], [undefined, undefined, undefined, 1]);
  assert.equal(q.length, 3);
  assert.deepEqual(q.clear(), [2, 3, 4]);
  assert.equal(q.shift(), undefined);
});
