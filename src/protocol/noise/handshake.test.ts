// Handshake tests: the generic IK key schedule against the cacophony vector, the
// Tailscale-specific handshake against a vector produced by Tailscale's own controlbase,
// the client↔server round trip, and byte-by-byte tamper tests of both handshake messages.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { generatePrivateKey, publicKeyOf } from '../../crypto/keys.js';
import { CipherState } from './cipher-state.js';
import { NoiseError, PEER_MESSAGES, isNoiseError } from './errors.js';
import { acceptHandshake, finishHandshake, initiateHandshake } from './handshake.js';
import { INITIATION_LEN, RESPONSE_LEN, encodeErrorFrame, handshakeAnswerSize } from './messages.js';
import { X25519Key, aeadOpen } from './primitives.js';
import { SymmetricState } from './symmetric-state.js';
import { sealRecords } from './transport.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

// Noise_IK_25519_ChaChaPoly_BLAKE2s from cacophony's test vectors (as shipped in snow's
// tests/vectors/cacophony.txt). Transport messages 5 and 6 use counter 1 with the spec's
// little-endian nonce, which Tailscale replaces by big-endian (checked separately below).
const CACOPHONY = {
  prologue: '4a6f686e2047616c74',
  initStatic: 'e61ef9919cde45dd5f82166404bd08e38bceb5dfdfded0a34c8df7ed542214d1',
  initEphemeral: '893e28b9dc6ca8d611ab664754b8ceb7bac5117349a4439a6b0569da977c464a',
  respStatic: '4a3acbfdb163dec651dfa3194dece676d437029c62a408b4c5ea9114246e4893',
  respEphemeral: 'bbdb4cdbd309f1a1f2e1456967fe288cadd6f712d65dc7b7793d5e63da6b375b',
  handshakeHash: '48f3cb8bc9319da4ba1e9933991b1c4ed4034f1f126a76d3a1fbcfd7f94248d4',
  messages: [
    ['4c756477696720766f6e204d69736573', 'ca35def5ae56cec33dc2036731ab14896bc4c75dbb07a61f879f8e3afa4c79440b03ddc7aac5123d06a1b23b71670e32e76c28239a7ca4ac8f784de7e44c1adbfc6e83fef7352a58d9d56157400c0a737b1d171ce368229c7b752ac25b8faf4eca690f6d896f543be02c996ab2b86b76'],
    ['4d757272617920526f746862617264', '95ebc60d2b1fa672c1f46a8aa265ef51bfe38e7ccb39ec5be34069f144808843d9b5a8927f0ac9655ef76833bc7e5561f42e691ac8404efd6fbd6308b6a27c'],
    ['462e20412e20486179656b', '2c256ed08fcd08c2980f954ee4beaccb61c9581340f5dd2fd1cf3b'],
    ['4361726c204d656e676572', 'd6033f70eee20945c7c9dba304e397ee3b284ff5e00fd9efb095d3'],
    ['4a65616e2d426170746973746520536179', 'a9c068ca5d8babf72560652d8e851adbfac35c8a66e810d560863173e96adf4cfe'],
    ['457567656e2042f6686d20766f6e2042617765726b', '2a09d8f459e5927e40fdd2eddc99bdafb04e13a26f145cb5cfe9e6ba34c94331ebc17d5156'],
  ],
} as const;

test('SymmetricState runs the cacophony Noise_IK_25519_ChaChaPoly_BLAKE2s vector exactly', () => {
  const s = X25519Key.fromPrivate(hex(CACOPHONY.initStatic));
  const e = X25519Key.fromPrivate(hex(CACOPHONY.initEphemeral));
  const rs = X25519Key.fromPrivate(hex(CACOPHONY.respStatic));
  const re = X25519Key.fromPrivate(hex(CACOPHONY.respEphemeral));
  const msg = CACOPHONY.messages.map(([p, c]) => [hex(p), hex(c)] as const);

  const st = new SymmetricState('Noise_IK_25519_ChaChaPoly_BLAKE2s');
  st.mixHash(hex(CACOPHONY.prologue));
  st.mixHash(rs.publicKey); // <- s
  // -> e, es, s, ss
  st.mixHash(e.publicKey);
  st.mixDh(e, rs.publicKey);
  const encS = st.encryptAndHash(s.publicKey);
  st.mixDh(s, rs.publicKey);
  const m1 = Buffer.concat([e.publicKey, encS, st.encryptAndHash(msg[0]![0])]);
  assert.equal(m1.toString('hex'), msg[0]![1].toString('hex'));
  // <- e, ee, se
  st.mixHash(re.publicKey);
  st.mixDh(e, re.publicKey);
  st.mixDh(s, re.publicKey);
  const p2 = st.decryptAndHash(msg[1]![1].subarray(32));
  assert.deepEqual(p2, msg[1]![0]);
  assert.equal(st.handshakeHash.toString('hex'), CACOPHONY.handshakeHash);
  const [k1, k2] = st.split();

  // Counter 0: identical in both nonce encodings.
  assert.deepEqual(new CipherState(k1).encrypt(msg[2]![0]), msg[2]![1]);
  assert.deepEqual(new CipherState(k2).encrypt(msg[3]![0]), msg[3]![1]);
  // Counter 1: the vector (little-endian) opens with an LE nonce; our BE CipherState differs.
  const le1 = Buffer.alloc(12);
  le1.writeBigUInt64LE(1n, 4);
  assert.deepEqual(aeadOpen(k1, le1, msg[4]![1], Buffer.alloc(0)), msg[4]![0]);
  assert.deepEqual(aeadOpen(k2, le1, msg[5]![1], Buffer.alloc(0)), msg[5]![0]);
  const tx = new CipherState(k1, 1n);
  assert.notDeepEqual(tx.encrypt(msg[4]![0]), msg[4]![1]);
});

interface ControlbaseVector {
  protocolVersion: number;
  machinePrivate: string;
  controlPrivate: string;
  clientEphemeral: string;
  serverEphemeral: string;
  initiation: string;
  response: string;
  handshakeHash: string;
  clientRecords: string;
  serverRecords: string;
}
const VECTOR = JSON.parse(
  fs.readFileSync(new URL('./testdata/controlbase-v1.102.3.json', import.meta.url), 'utf8'),
) as ControlbaseVector;

test('client and server reproduce Tailscale controlbase v1.102.3 bytes exactly', () => {
  const v = VECTOR;
  const { initiation, handshake } = initiateHandshake({
    machinePrivateKey: hex(v.machinePrivate),
    serverPublicKey: publicKeyOf(hex(v.controlPrivate)),
    protocolVersion: v.protocolVersion,
    ephemeral: X25519Key.fromPrivate(hex(v.clientEphemeral)),
  });
  assert.equal(initiation.toString('hex'), v.initiation);

  const server = acceptHandshake(hex(v.initiation), hex(v.controlPrivate), {
    ephemeral: X25519Key.fromPrivate(hex(v.serverEphemeral)),
  });
  assert.equal(server.response.toString('hex'), v.response);
  assert.equal(server.protocolVersion, v.protocolVersion);
  assert.deepEqual(server.machineKey, publicKeyOf(hex(v.machinePrivate)));
  assert.equal(server.handshakeHash.toString('hex'), v.handshakeHash);

  const client = finishHandshake(handshake, hex(v.response));
  assert.equal(client.handshakeHash.toString('hex'), v.handshakeHash);
  // Records: counters 0 and 1 in each direction (the second pins the big-endian nonce).
  const clientWire = Buffer.concat([sealRecords(client.tx, Buffer.from('hello')), sealRecords(client.tx, Buffer.from('world'))]);
  assert.equal(clientWire.toString('hex'), v.clientRecords);
  const big = Buffer.alloc(5000);
  for (let i = 0; i < big.length; i++) big[i] = (i * 7) & 0xff;
  assert.equal(sealRecords(server.tx, big).toString('hex'), v.serverRecords);
  // And each side reads the other's records.
  const serverRx = server.rx;
  assert.deepEqual(serverRx.decrypt(hex(v.clientRecords).subarray(3, 24)), Buffer.from('hello'));
});

function roundTrip(version = 145) {
  const serverKey = generatePrivateKey();
  const machineKey = generatePrivateKey();
  const { initiation, handshake } = initiateHandshake({
    machinePrivateKey: machineKey,
    serverPublicKey: publicKeyOf(serverKey),
    protocolVersion: version,
  });
  return { serverKey, machineKey, initiation, handshake };
}

test('round trip: keys agree, machine key and version are learned, prologue uses the header version', () => {
  for (const version of [0, 1, 145, 0xffff]) {
    const { serverKey, machineKey, initiation, handshake } = roundTrip(version);
    assert.equal(initiation.length, INITIATION_LEN);
    assert.equal(initiation.readUInt16BE(0), version);
    assert.equal(initiation[2], 1);
    assert.equal(initiation.readUInt16BE(3), 96);
    const server = acceptHandshake(initiation, serverKey);
    assert.equal(server.response.length, RESPONSE_LEN);
    assert.equal(server.protocolVersion, version);
    assert.deepEqual(server.machineKey, publicKeyOf(machineKey));
    const client = handshake.finish(server.response);
    assert.deepEqual(client.handshakeHash, server.handshakeHash);
    assert.deepEqual(client.serverKey, publicKeyOf(serverKey));
    for (let i = 0; i < 3; i++) {
      assert.deepEqual(server.rx.decrypt(client.tx.encrypt(Buffer.from(`c${i}`))), Buffer.from(`c${i}`));
      assert.deepEqual(client.rx.decrypt(server.tx.encrypt(Buffer.from(`s${i}`))), Buffer.from(`s${i}`));
    }
  }
});

test('flipping any bit of any initiation byte makes the server fail with a NoiseError', () => {
  const { serverKey, initiation } = roundTrip();
  const key = X25519Key.fromPrivate(serverKey);
  for (let i = 0; i < initiation.length; i++) {
    for (const bit of [0x01, 0x80]) {
      const bad = Buffer.from(initiation);
      bad[i] = bad[i]! ^ bit;
      assert.throws(
        () => acceptHandshake(bad, key),
        (e) => isNoiseError(e, 'ERR_NOISE_BAD_INITIATION'),
        `byte ${i} bit ${bit} was accepted`,
      );
    }
  }
});

test('flipping any bit of any response byte makes the client fail with a NoiseError', () => {
  for (let i = 0; i < RESPONSE_LEN; i++) {
    for (const bit of [0x01, 0x80]) {
      const { serverKey, initiation, handshake } = roundTrip();
      const { response } = acceptHandshake(initiation, serverKey);
      const bad = Buffer.from(response);
      bad[i] = bad[i]! ^ bit;
      assert.throws(
        () => handshake.finish(bad),
        (e) => e instanceof NoiseError && (e.code === 'ERR_NOISE_BAD_RESPONSE' || e.code === 'ERR_NOISE_SERVER_ERROR'),
        `byte ${i} bit ${bit} was accepted`,
      );
    }
  }
});

test('framing faults carry the reference server’s fixed peer messages, crypto faults none', () => {
  const { serverKey, initiation } = roundTrip();
  const cases: Array<[Buffer, string | undefined]> = [
    [initiation.subarray(0, 100), PEER_MESSAGES.wrongSize],
    [Buffer.concat([initiation, Buffer.of(0)]), PEER_MESSAGES.wrongSize],
    [Buffer.alloc(0), PEER_MESSAGES.wrongSize],
    [Buffer.from(initiation).fill(2, 2, 3), PEER_MESSAGES.wrongType],
    [Buffer.from(initiation).fill(0, 3, 5), PEER_MESSAGES.wrongLength],
    [Buffer.from(initiation).fill(0, 5, 37), undefined], // low-order ephemeral: DH fails
    [Buffer.from(initiation).fill(7, 90, 91), undefined],
  ];
  for (const [msg, peerMessage] of cases) {
    assert.throws(
      () => acceptHandshake(msg, serverKey),
      (e) => isNoiseError(e, 'ERR_NOISE_BAD_INITIATION') && e.peerMessage === peerMessage,
    );
  }
});

test('the wrong server key, a reused client state and error frames are reported with codes', () => {
  const { initiation, handshake } = roundTrip();
  assert.throws(() => acceptHandshake(initiation, generatePrivateKey()), (e) => isNoiseError(e, 'ERR_NOISE_BAD_INITIATION'));

  const a = roundTrip();
  const { response } = acceptHandshake(a.initiation, a.serverKey);
  a.handshake.finish(response);
  assert.throws(() => a.handshake.finish(response), (e) => isNoiseError(e, 'ERR_NOISE_HANDSHAKE_USED'));

  const frame = encodeErrorFrame(PEER_MESSAGES.wrongType);
  assert.deepEqual(frame.subarray(0, 3), Buffer.from([3, 0, PEER_MESSAGES.wrongType.length]));
  assert.equal(handshakeAnswerSize(frame.subarray(0, 3)), frame.length);
  assert.equal(handshakeAnswerSize(response.subarray(0, 2)), undefined);
  assert.equal(handshakeAnswerSize(response.subarray(0, 3)), RESPONSE_LEN);
  assert.throws(() => handshakeAnswerSize(Buffer.of(4, 0, 0)), (e) => isNoiseError(e, 'ERR_NOISE_BAD_RESPONSE'));
  assert.throws(
    () => handshake.finish(frame),
    (e) => isNoiseError(e, 'ERR_NOISE_SERVER_ERROR') && e.message === `server error: "${PEER_MESSAGES.wrongType}"`,
  );
  assert.throws(
    () => initiateHandshake({ machinePrivateKey: Buffer.alloc(5), serverPublicKey: Buffer.alloc(32, 9), protocolVersion: 1 }),
    (e) => isNoiseError(e, 'ERR_NOISE_BAD_KEY'),
  );
  assert.throws(
    () => initiateHandshake({ machinePrivateKey: generatePrivateKey(), serverPublicKey: Buffer.alloc(32), protocolVersion: 1 }),
    (e) => isNoiseError(e, 'ERR_NOISE_BAD_KEY'),
  );
});
