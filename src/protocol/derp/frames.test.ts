import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  DISCO_MAGIC,
  FrameType,
  MAGIC,
  MAX_PACKET_SIZE,
  encodeFrame,
  looksLikeDisco,
  notePreferredFrame,
  peerGoneFrame,
  recvPacketFrame,
  restartingFrame,
  sendPacketFrame,
  serverKeyFrame,
} from './frames.js';
import { openClientInfo, openServerInfo, parseServerKeyPayload, sealClientInfo, sealServerInfo } from './info.js';
import { x25519PublicKey } from './nacl-box.js';

test('magic bytes are "DERP🔑" = 44 45 52 50 f0 9f 94 91; disco magic is 54 53 f0 9f 92 ac', () => {
  assert.equal(MAGIC.toString('hex'), '44455250f09f9491');
  assert.equal(DISCO_MAGIC.toString('hex'), '5453f09f92ac');
});

test('frame header: type byte then big-endian u32 payload length', () => {
  const f = encodeFrame(0x12, Buffer.from('abcdefgh'));
  assert.equal(f.subarray(0, 5).toString('hex'), '1200000008');
  assert.equal(f.subarray(5).toString(), 'abcdefgh');
  const key = Buffer.alloc(32, 7);
  const sk = serverKeyFrame(key);
  assert.equal(sk.length, 5 + 40);
  assert.equal(sk.subarray(0, 13).toString('hex'), '010000002844455250f09f9491');
  assert.deepEqual(parseServerKeyPayload(sk.subarray(5)), key);
  assert.throws(() => parseServerKeyPayload(sk.subarray(5, 44)), { code: 'ERR_DERP_HANDSHAKE' });
  assert.equal(notePreferredFrame(true).toString('hex'), '070000000101');
  assert.equal(peerGoneFrame(key, 1).subarray(0, 5).toString('hex'), '0800000021');
  assert.equal(peerGoneFrame(key, 1).at(-1), 1);
  assert.equal(recvPacketFrame(key, Buffer.from('x')).subarray(0, 5).toString('hex'), '0500000021');
  assert.equal(restartingFrame(1000, 2000).toString('hex'), '1500000008000003e8000007d0');
  assert.equal(sendPacketFrame(key, Buffer.alloc(MAX_PACKET_SIZE)).length, 5 + 32 + 65536);
  assert.throws(() => sendPacketFrame(key, Buffer.alloc(MAX_PACKET_SIZE + 1)), RangeError);
  assert.equal(FrameType.Health, 0x14);
});

test('disco detection needs the magic and at least 62 bytes', () => {
  assert.equal(looksLikeDisco(Buffer.concat([DISCO_MAGIC, Buffer.alloc(56)])), true);
  assert.equal(looksLikeDisco(Buffer.concat([DISCO_MAGIC, Buffer.alloc(55)])), false);
  assert.equal(looksLikeDisco(Buffer.alloc(100)), false);
});

test('ClientInfo/ServerInfo seal and open with the exact Go JSON field names', () => {
  const serverSk = crypto.randomBytes(32);
  const clientSk = crypto.randomBytes(32);
  const serverPk = x25519PublicKey(serverSk);
  const clientPk = x25519PublicKey(clientSk);
  const payload = sealClientInfo({ version: 2, CanAckPings: true, AppName: 'test' }, clientSk, clientPk, serverPk);
  assert.equal(payload.length, 32 + 24 + 16 + '{"version":2,"CanAckPings":true,"AppName":"test"}'.length);
  const opened = openClientInfo(payload, serverSk);
  assert.deepEqual(opened.clientKey, clientPk);
  assert.deepEqual(opened.info, { version: 2, CanAckPings: true, AppName: 'test' });
  // A box sealed by someone else than the claimed key does not open.
  const forged = Buffer.concat([x25519PublicKey(crypto.randomBytes(32)), payload.subarray(32)]);
  assert.throws(() => openClientInfo(forged, serverSk), { code: 'ERR_DERP_BOX' });
  assert.throws(() => openClientInfo(payload.subarray(0, 55), serverSk), { code: 'ERR_DERP_HANDSHAKE' });

  const si = sealServerInfo({ version: 2 }, serverSk, clientPk);
  assert.deepEqual(openServerInfo(si, clientSk, serverPk), { version: 2 });
  const withRate = sealServerInfo({ version: 2, TokenBucketBytesPerSecond: 1000, TokenBucketBytesBurst: 70000 }, serverSk, clientPk);
  assert.deepEqual(openServerInfo(withRate, clientSk, serverPk), { version: 2, TokenBucketBytesPerSecond: 1000, TokenBucketBytesBurst: 70000 });
});
