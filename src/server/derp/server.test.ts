import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import { DerpServer, randomDerpPrivateKey, type DerpServerOptions } from './server.js';
import { DerpClient, type DerpClientOptions } from '../../protocol/derp/client.js';
import { duplexPair } from '../../protocol/derp/duplex-pair.js';
import { DerpError } from '../../protocol/derp/errors.js';
import { DISCO_MAGIC, FrameType, MAX_PACKET_SIZE, encodeFrame, notePreferredFrame } from '../../protocol/derp/frames.js';
import { FrameReader, type DerpFrame } from '../../protocol/derp/reader.js';
import { sealClientInfo } from '../../protocol/derp/info.js';
import { x25519PublicKey } from '../../protocol/derp/nacl-box.js';

interface Conn {
  client: DerpClient;
  wire: Duplex; // the client's end of the byte stream
  serverClosed: Promise<DerpError | undefined>;
}

function setup(opts: Partial<DerpServerOptions> = {}) {
  const server = new DerpServer({ privateKey: randomDerpPrivateKey(), ...opts });
  const attach = () => {
    const [serverSide, wire] = duplexPair();
    const serverClosed = new Promise<DerpError | undefined>((resolve) => server.accept(serverSide, { onClose: resolve, remoteAddress: 'mem' }));
    return { wire, serverClosed };
  };
  const connect = async (clientOpts: Partial<DerpClientOptions> = {}): Promise<Conn> => {
    const { wire, serverClosed } = attach();
    const client = await DerpClient.connect(wire, { privateKey: crypto.randomBytes(32), ...clientOpts });
    return { client, wire, serverClosed };
  };
  return { server, connect, attach };
}

async function until(cond: () => boolean, what: string, ms = 3000): Promise<void> {
  const end = Date.now() + ms;
  while (!cond()) {
    if (Date.now() > end) assert.fail(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

const disco = (n = 80) => Buffer.concat([DISCO_MAGIC, crypto.randomBytes(n - DISCO_MAGIC.length)]);

test('two clients relay packets both ways; ServerInfo says version 2; ping gets a pong', async () => {
  const { server, connect } = setup();
  const a = await connect();
  const b = await connect();
  assert.deepEqual(a.client.serverInfo, { version: 2 });
  assert.deepEqual(a.client.serverPublicKey, server.publicKey);
  assert.equal(server.isConnected(a.client.publicKey), true);

  a.client.send(b.client.publicKey, Buffer.from('to b'));
  b.client.send(a.client.publicKey, Buffer.from('to a'));
  const atB = await b.client.next('packet');
  const atA = await a.client.next('packet');
  assert.deepEqual([atB.source, atB.data.toString()], [a.client.publicKey, 'to b']);
  assert.deepEqual([atA.source, atA.data.toString()], [b.client.publicKey, 'to a']);
  const big = crypto.randomBytes(MAX_PACKET_SIZE);
  a.client.send(b.client.publicKey, big);
  assert.deepEqual((await b.client.next('packet')).data, big);

  assert.ok((await a.client.ping()) >= 0);
  const c = server.counters;
  assert.equal(c.packetsReceived, 3);
  assert.equal(c.packetsSent, 3);
  assert.equal(c.bytesSent, 8 + MAX_PACKET_SIZE);
  assert.equal(c.pongsSent, 1);
  assert.equal(c.connectionsCurrent, 2);
  server.close();
  assert.equal((await a.serverClosed)?.code, 'ERR_DERP_CLOSED');
});

test('verifyClient sees the node key and can refuse it (false, async false, throw)', async () => {
  for (const verdict of [() => false, async () => false, () => Promise.reject(new Error('db down'))]) {
    const seen: Buffer[] = [];
    const { server, connect } = setup({
      verifyClient: (key) => {
        seen.push(key);
        return verdict();
      },
    });
    const sk = crypto.randomBytes(32);
    await assert.rejects(connect({ privateKey: sk }), { code: 'ERR_DERP_REJECTED' });
    assert.deepEqual(seen, [x25519PublicKey(sk)]);
    assert.equal(server.isConnected(x25519PublicKey(sk)), false);
    assert.equal(server.counters.connectionsCurrent, 0);
  }
  const allowed = crypto.randomBytes(32);
  const { connect } = setup({ verifyClient: (key) => key.equals(x25519PublicKey(allowed)) });
  await connect({ privateKey: allowed });
  const refused = setup({ verifyClient: () => false });
  const { wire, serverClosed } = refused.attach();
  await assert.rejects(DerpClient.connect(wire, { privateKey: crypto.randomBytes(32) }), { code: 'ERR_DERP_REJECTED' });
  assert.equal((await serverClosed)?.code, 'ERR_DERP_REJECTED');
  assert.equal(refused.server.counters.clientsRejected, 1);
});

test('PeerGone(disconnected) goes to peers a departed client had sent to, once its last connection closes', async () => {
  const { server, connect } = setup();
  const a = await connect();
  const b = await connect();
  const c = await connect(); // never received from a: gets nothing
  a.client.send(b.client.publicKey, Buffer.from('hi'));
  await b.client.next('packet');
  a.client.close();
  const gone = await b.client.next('peerGone');
  assert.deepEqual([gone.peer, gone.reason], [a.client.publicKey, 0]);
  await assert.rejects(c.client.next('peerGone', 100), { code: 'ERR_DERP_TIMEOUT' });
  assert.equal(server.counters.peerGoneDisconnectedSent, 1);
  await until(() => server.counters.connectionsCurrent === 2, 'a unregistered');
});

test('disco to an unknown key gets PeerGone(not here), at most 3 in a burst; other packets are just dropped', async () => {
  const { server, connect } = setup();
  const a = await connect();
  a.client.send(crypto.randomBytes(32), Buffer.from('not disco'));
  const unknown = Array.from({ length: 5 }, () => crypto.randomBytes(32));
  for (const k of unknown) a.client.send(k, disco());
  const first = await a.client.next('peerGone');
  assert.deepEqual([first.peer, first.reason], [unknown[0], 1]);
  await a.client.next('peerGone');
  await a.client.next('peerGone');
  await assert.rejects(a.client.next('peerGone', 100), { code: 'ERR_DERP_TIMEOUT' });
  assert.equal(server.counters.dropsUnknownDest, 6);
  assert.equal(server.counters.peerGoneNotHereSent, 3);
});

test('a second connection with the same key becomes active; the last writer wins; PeerGone waits for the last one', async () => {
  const { server, connect } = setup();
  const sk = crypto.randomBytes(32);
  const a = await connect();
  const k1 = await connect({ privateKey: sk });
  const k2 = await connect({ privateKey: sk });
  assert.equal(server.counters.duplicateConnections, 1);
  assert.equal(server.counters.clientKeysCurrent, 2);
  a.client.send(k1.client.publicKey, Buffer.from('one'));
  assert.equal((await k2.client.next('packet')).data.toString(), 'one');
  k1.client.notePreferred(true); // k1 speaks: it becomes the active one
  await until(() => server.clientStats().some((s) => s.active && s.preferred), 'k1 active');
  a.client.send(k1.client.publicKey, Buffer.from('two'));
  assert.equal((await k1.client.next('packet')).data.toString(), 'two');

  k1.client.send(a.client.publicKey, Buffer.from('back'));
  await a.client.next('packet');
  k1.client.close();
  await k1.serverClosed;
  await assert.rejects(a.client.next('peerGone', 100), { code: 'ERR_DERP_TIMEOUT' });
  a.client.send(k1.client.publicKey, Buffer.from('three')); // falls back to k2
  assert.equal((await k2.client.next('packet')).data.toString(), 'three');
  k2.client.close();
  assert.deepEqual((await a.client.next('peerGone')).peer, k1.client.publicKey);
});

test('a client that does not read costs a bounded queue: oldest packets are dropped, newest delivered', async () => {
  const { server, connect } = setup({ writeTimeoutMs: 0, sendQueueDepth: 32 });
  const a = await connect();
  const b = await connect();
  b.wire.pause(); // b stops reading
  const n = 3000;
  for (let i = 0; i < n; i++) {
    const p = Buffer.alloc(1000);
    p.writeUInt32BE(i, 0);
    a.client.send(b.client.publicKey, p);
  }
  await until(() => server.counters.packetsReceived === n, 'all packets read by the server');
  const stats = server.clientStats().find((s) => s.key === b.client.publicKey.toString('hex'))!;
  assert.ok(stats.queuedPackets <= 32, `queued ${stats.queuedPackets}`);
  assert.ok(stats.bufferedBytes <= 16 * 1024 + 2000, `buffered ${stats.bufferedBytes}`);
  assert.ok(server.counters.dropsQueueFull >= n - 32 - 40, `dropped ${server.counters.dropsQueueFull}`);
  assert.equal(server.counters.dropsQueueFull, server.counters.packetsDropped);

  b.wire.resume();
  await until(() => server.counters.packetsSent + server.counters.packetsDropped === n, 'queue drained');
  let last = -1;
  for (;;) {
    const m = await b.client.next('packet', 200).catch(() => undefined);
    if (!m) break;
    last = m.data.readUInt32BE(0);
  }
  assert.equal(last, n - 1, 'the newest packet made it');
});

test('a burst arriving in one chunk reaches a reading client whole and in order (batched writes, no drops)', async () => {
  const { server, connect } = setup({ sendQueueDepth: 32 });
  const a = await connect();
  const b = await connect();
  const n = 300;
  const frames: Buffer[] = [];
  for (let i = 0; i < n; i++) {
    const p = Buffer.alloc(1000);
    p.writeUInt32BE(i, 0);
    frames.push(encodeFrame(FrameType.SendPacket, b.client.publicKey, p));
  }
  a.wire.write(Buffer.concat(frames)); // one chunk, ten times the queue depth
  for (let i = 0; i < n; i++) {
    const m = await b.client.next('packet');
    assert.deepEqual([m.source, m.data.readUInt32BE(0)], [a.client.publicKey, i]);
  }
  assert.equal(server.counters.packetsDropped, 0);
  assert.equal(server.counters.packetsSent, n);
  assert.equal(server.counters.bytesSent, n * 1000);
});

test('a write blocked longer than writeTimeoutMs closes that client', async () => {
  const { server, connect } = setup({ writeTimeoutMs: 100 });
  const a = await connect();
  const b = await connect();
  b.wire.pause();
  for (let i = 0; i < 200; i++) a.client.send(b.client.publicKey, Buffer.alloc(1000));
  assert.equal((await b.serverClosed)?.code, 'ERR_DERP_TIMEOUT');
  assert.equal(server.counters.writeTimeouts, 1);
  assert.equal(server.isConnected(b.client.publicKey), false);
});

test('keepalives arrive on the configured period', async () => {
  const { server, connect } = setup({ keepAliveMs: 30, keepAliveJitterMs: 0 });
  const a = await connect();
  await a.client.next('keepAlive', 1000);
  await a.client.next('keepAlive', 1000);
  assert.ok(server.counters.keepAlivesSent >= 2);
  server.close();
});

/** A hand-driven client: reads raw frames, writes raw bytes. */
function rawClient(attach: () => { wire: Duplex; serverClosed: Promise<DerpError | undefined> }) {
  const { wire, serverClosed } = attach();
  const frames: DerpFrame[] = [];
  const reader = new FrameReader({ maxPayload: 1 << 20, onFrame: (f) => frames.push(f), onError: () => {} });
  wire.on('data', (c: Buffer) => reader.push(c));
  return { wire, serverClosed, frames };
}

test('handshake problems close the connection with a coded error', async () => {
  const { server, attach } = setup({ handshakeTimeoutMs: 100 });
  const serverKey = server.publicKey;
  const cases: [string, (wire: Duplex) => void, string][] = [
    ['wrong first frame', (w) => w.write(notePreferredFrame(true)), 'ERR_DERP_HANDSHAKE'],
    ['short ClientInfo', (w) => w.write(encodeFrame(FrameType.ClientInfo, Buffer.alloc(55))), 'ERR_DERP_HANDSHAKE'],
    ['bad box', (w) => w.write(encodeFrame(FrameType.ClientInfo, crypto.randomBytes(100))), 'ERR_DERP_BOX'],
    ['too long', (w) => w.write(encodeFrame(FrameType.ClientInfo, Buffer.alloc((256 << 10) + 1))), 'ERR_DERP_FRAME_TOO_LARGE'],
    [
      'not JSON',
      (w) => {
        const sk = crypto.randomBytes(32);
        const payload = sealClientInfo({}, sk, x25519PublicKey(sk), serverKey);
        payload[payload.length - 1]! ^= 1; // breaks the tag, so: box error
        w.write(encodeFrame(FrameType.ClientInfo, payload));
      },
      'ERR_DERP_BOX',
    ],
    ['silence', () => {}, 'ERR_DERP_TIMEOUT'],
    ['hang-up', (w) => w.end(), 'ERR_DERP_HANDSHAKE'],
  ];
  for (const [name, act, code] of cases) {
    const c = rawClient(attach);
    act(c.wire);
    assert.equal((await c.serverClosed)?.code, code, name);
    assert.equal(c.frames[0]?.type, FrameType.ServerKey, name);
  }
  assert.equal(server.counters.handshakeFailures, cases.length);
});

test('protocol violations after the handshake close the connection', async () => {
  const { connect } = setup();
  const cases: [string, Buffer, string][] = [
    ['mesh frame', encodeFrame(FrameType.WatchConns), 'ERR_DERP_PERMISSION'],
    ['ForwardPacket', encodeFrame(FrameType.ForwardPacket, Buffer.alloc(70)), 'ERR_DERP_PERMISSION'],
    ['oversized packet', encodeFrame(FrameType.SendPacket, Buffer.alloc(32 + MAX_PACKET_SIZE + 1)), 'ERR_DERP_FRAME_TOO_LARGE'],
    ['short SendPacket', encodeFrame(FrameType.SendPacket, Buffer.alloc(31)), 'ERR_DERP_BAD_FRAME'],
    ['NotePreferred of 2 bytes', encodeFrame(FrameType.NotePreferred, Buffer.alloc(2)), 'ERR_DERP_BAD_FRAME'],
    ['short ping', encodeFrame(FrameType.Ping, Buffer.alloc(7)), 'ERR_DERP_BAD_FRAME'],
    ['huge ping', encodeFrame(FrameType.Ping, Buffer.alloc(1001)), 'ERR_DERP_BAD_FRAME'],
  ];
  for (const [name, bytes, code] of cases) {
    const c = await connect();
    c.wire.write(bytes);
    assert.equal((await c.serverClosed)?.code, code, name);
  }
});

test('long pings echo their first 8 bytes; unknown frame types are skipped', async () => {
  const { server, connect } = setup();
  const a = await connect();
  a.wire.write(encodeFrame(0x42, Buffer.alloc(100)));
  a.wire.write(encodeFrame(FrameType.Ping, Buffer.from('abcdefgh-and-more')));
  const pong = await a.client.next('pong');
  assert.equal(pong.data.toString(), 'abcdefgh');
  assert.equal(server.counters.unknownFrames, 1);
});

test('the receive rate limit is announced in ServerInfo and enforced by pausing reads', async () => {
  const { server, connect } = setup({ rateLimit: { bytesPerSecond: 200_000, burst: 100_000 } });
  const a = await connect();
  const b = await connect();
  assert.deepEqual(a.client.serverInfo, { version: 2, TokenBucketBytesPerSecond: 200_000, TokenBucketBytesBurst: 100_000 });
  const started = Date.now();
  for (let i = 0; i < 4; i++) a.client.send(b.client.publicKey, Buffer.alloc(50_000));
  for (let i = 0; i < 4; i++) await b.client.next('packet');
  assert.ok(server.counters.rateLimitWaits >= 1);
  assert.ok(Date.now() - started >= 250, 'about 100 KB over budget at 200 KB/s');
});
