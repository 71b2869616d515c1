import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import {
  STUN_MAGIC_COOKIE,
  StunAttr,
  buildBindingRequest,
  buildBindingResponse,
  looksLikeStun,
  parseBindingRequest,
  parseBindingResponse,
  stunFingerprint,
} from './message.js';

const TX = Buffer.from('0102030405060708090a0b0c', 'hex');
// Produced by tailscale.com/net/stun v1.102.3 (stun.Request / stun.Response) for TX above.
const GO_REQUEST = '000100142112a4420102030405060708090a0b0c802200087461696c6e6f646580280004b32c370f';
const GO_RESPONSE_V4 = '0101000c2112a4420102030405060708090a0b0c002000080001a147e112a643'; // 192.0.2.1:32853
const GO_RESPONSE_V6 = '010100182112a4420102030405060708090a0b0c002000140002a1470113a9fa1336557c0517253b4d5f6d7b';

test('a binding request is byte-identical to tailscaled\'s (SOFTWARE "tailnode" + FINGERPRINT, 40 bytes)', () => {
  const req = buildBindingRequest(TX);
  assert.equal(req.toString('hex'), GO_REQUEST);
  assert.equal(req.length, 40);
  assert.equal(STUN_MAGIC_COOKIE.toString('hex'), '2112a442');
  assert.deepEqual([StunAttr.Software, StunAttr.Fingerprint, StunAttr.XorMappedAddress], [0x8022, 0x8028, 0x0020]);
  assert.equal(stunFingerprint(req.subarray(0, 32)), req.readUInt32BE(36));
});

test('tailscaled\'s request parses; software and fingerprint reported', () => {
  const r = parseBindingRequest(Buffer.from(GO_REQUEST, 'hex'), { requireSoftware: 'tailnode' });
  assert.ok(r.ok);
  assert.deepEqual(r.transactionId, TX);
  assert.equal(r.software, 'tailnode');
  assert.equal(r.hasFingerprint, true);
  const plain = parseBindingRequest(buildBindingRequest(TX, { software: null, fingerprint: false }));
  assert.ok(plain.ok && plain.software === undefined && !plain.hasFingerprint);
});

test('bad requests are refused with a reason, never thrown', () => {
  const good = Buffer.from(GO_REQUEST, 'hex');
  const mutate = (f: (b: Buffer) => void) => {
    const b = Buffer.from(good);
    f(b);
    return b;
  };
  const cases: [string, Buffer, RegExp, { requireSoftware?: string }?][] = [
    ['short', good.subarray(0, 19), /not a STUN/],
    ['cookie', mutate((b) => (b[4] = 0)), /not a STUN/],
    ['top bits', mutate((b) => (b[0] = 0x40)), /not a STUN/],
    ['type', mutate((b) => b.writeUInt16BE(0x0111, 0)), /message type/],
    ['length field', mutate((b) => b.writeUInt16BE(24, 2)), /length field/],
    ['truncated', good.subarray(0, 36), /length field/],
    ['fingerprint', mutate((b) => (b[39]! ^= 1)), /bad FINGERPRINT/],
    ['content under fingerprint', mutate((b) => (b[25] = 0x41)), /bad FINGERPRINT/],
    ['attr overrun', mutate((b) => b.writeUInt16BE(200, 22)), /malformed attributes/],
    ['software', buildBindingRequest(TX, { software: 'other' }), /wrong SOFTWARE/, { requireSoftware: 'tailnode' }],
  ];
  for (const [name, bytes, reason, opts] of cases) {
    const r = parseBindingRequest(bytes, opts);
    assert.equal(r.ok, false, name);
    if (!r.ok) assert.match(r.reason, reason, name);
  }
  // FINGERPRINT must be the last attribute.
  const fpFirst = Buffer.concat([good.subarray(0, 20), good.subarray(32, 40), good.subarray(20, 32)]);
  assert.equal(parseBindingRequest(fpFirst).ok, false);
  for (let i = 0; i < 500; i++) assert.doesNotThrow(() => parseBindingRequest(crypto.randomBytes(crypto.randomInt(60))));
  assert.equal(looksLikeStun(good), true);
});

test('responses carry XOR-MAPPED-ADDRESS exactly like Go\'s stun.Response (RFC 5769 values)', () => {
  assert.equal(buildBindingResponse(TX, '192.0.2.1', 32853).toString('hex'), GO_RESPONSE_V4);
  assert.equal(buildBindingResponse(TX, '2001:db8:1234:5678:11:2233:4455:6677', 32853).toString('hex'), GO_RESPONSE_V6);
  assert.equal(buildBindingResponse(TX, '::ffff:192.0.2.1', 32853).toString('hex'), GO_RESPONSE_V4, 'mapped IPv4 is unmapped');
});

test('responses parse back (XOR, the 0x8020 variant, MAPPED-ADDRESS fallback)', () => {
  const v4 = parseBindingResponse(Buffer.from(GO_RESPONSE_V4, 'hex'));
  assert.ok(v4.ok);
  assert.deepEqual([v4.address, v4.port, v4.family], ['192.0.2.1', 32853, 'IPv4']);
  assert.deepEqual(v4.transactionId, TX);
  const v6 = parseBindingResponse(Buffer.from(GO_RESPONSE_V6, 'hex'));
  assert.ok(v6.ok);
  assert.deepEqual([v6.address, v6.port, v6.family], ['2001:db8:1234:5678:11:2233:4455:6677', 32853, 'IPv6']);
  const alt = Buffer.from(GO_RESPONSE_V4, 'hex');
  alt.writeUInt16BE(0x8020, 20);
  assert.ok(parseBindingResponse(alt).ok);
  const mapped = Buffer.from(GO_RESPONSE_V4, 'hex');
  mapped.writeUInt16BE(0x0001, 20);
  mapped.writeUInt16BE(32853, 26);
  Buffer.from([192, 0, 2, 1]).copy(mapped, 28);
  const m = parseBindingResponse(mapped);
  assert.ok(m.ok && m.address === '192.0.2.1' && m.port === 32853);
  assert.equal(parseBindingResponse(Buffer.from(GO_REQUEST, 'hex')).ok, false);
});
