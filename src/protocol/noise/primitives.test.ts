// Known-answer tests for the Noise primitives (primitives.ts) and the transport CipherState.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { CipherState } from './cipher-state.js';
import { isNoiseError } from './errors.js';
import { X25519Key, aeadOpen, aeadSeal, blake2s, hkdf2, hmacBlake2s } from './primitives.js';

const hex = (s: string): Buffer => Buffer.from(s, 'hex');

test('BLAKE2s-256("abc") matches RFC 7693 Appendix B', () => {
  assert.equal(blake2s(Buffer.from('abc')).toString('hex'), '508c5e8c327c14e2e1a72ba34eeb452f37458b209ed63a294d999b4c86675982');
});

test('HMAC-BLAKE2s matches the vector measured in ts-stack.md', () => {
  assert.equal(
    hmacBlake2s(Buffer.alloc(32), Buffer.from('abc')).toString('hex'),
    '4a79a31b10a8c34b7c89735b8088e6b810b4bad4f36d671b65ca2ea0914952bf',
  );
});

test('Noise HKDF equals RFC 5869 HKDF (salt = ck, empty info), including empty ikm', () => {
  for (const ikm of [Buffer.alloc(0), crypto.randomBytes(32)]) {
    const ck = crypto.randomBytes(32);
    const [a, b] = hkdf2(ck, ikm);
    const okm = Buffer.from(crypto.hkdfSync('blake2s256', ikm, ck, Buffer.alloc(0), 64));
    assert.deepEqual(Buffer.concat([a, b]), okm);
  }
});

test('ChaCha20-Poly1305 matches RFC 8439 §2.8.2', () => {
  const key = hex('808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f');
  const nonce = hex('070000004041424344454647');
  const ad = hex('50515253c0c1c2c3c4c5c6c7');
  const pt = Buffer.from("Ladies and Gentlemen of the class of '99: If I could offer you only one tip for the future, sunscreen would be it.");
  const sealed = aeadSeal(key, nonce, pt, ad);
  assert.equal(sealed.subarray(0, 16).toString('hex'), 'd31a8d34648e60db7b86afbc53ef7ec2');
  assert.equal(sealed.subarray(-16).toString('hex'), '1ae10b594f09e26a7e902ecbd0600691');
  assert.deepEqual(aeadOpen(key, nonce, sealed, ad), pt);
  const bad = Buffer.from(sealed);
  bad[5] = bad[5]! ^ 1;
  assert.equal(aeadOpen(key, nonce, bad, ad), undefined);
  assert.equal(aeadOpen(key, nonce, sealed.subarray(0, 15), ad), undefined);
});

test('X25519 matches RFC 7748 §6.1 and rejects a low-order peer key', () => {
  const alice = X25519Key.fromPrivate(hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a'));
  const bob = X25519Key.fromPrivate(hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb'));
  assert.equal(alice.publicKey.toString('hex'), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
  assert.equal(bob.publicKey.toString('hex'), 'de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
  const shared = '4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742';
  assert.equal(alice.dh(bob.publicKey).toString('hex'), shared);
  assert.equal(bob.dh(alice.publicKey).toString('hex'), shared);
  assert.throws(() => alice.dh(Buffer.alloc(32)));
  assert.throws(() => alice.dh(Buffer.alloc(31)), RangeError);
});

test('CipherState.encryptInto writes what encrypt returns, in place, and advances the counter alike', () => {
  const key = crypto.randomBytes(32);
  const a = new CipherState(key);
  const b = new CipherState(key);
  const out = Buffer.alloc(2 + 5 + 16 + 3, 0xee);
  for (const text of ['first', 'later']) {
    assert.equal(b.encryptInto(Buffer.from(text), out, 2), 5 + 16);
    assert.deepEqual(out.subarray(2, 2 + 21), a.encrypt(Buffer.from(text)));
  }
  assert.deepEqual([out[0], out[1], out[23], out[25]], [0xee, 0xee, 0xee, 0xee], 'nothing outside the record is touched');
  assert.equal(b.counter, 2n);
});

test('CipherState uses 4 zero bytes + big-endian u64 counter as nonce, with empty AD', () => {
  const key = crypto.randomBytes(32);
  const cs = new CipherState(key);
  const r0 = cs.encrypt(Buffer.from('a'));
  const r1 = cs.encrypt(Buffer.from('b'));
  const be = (n: number): Buffer => {
    const b = Buffer.alloc(12);
    b.writeBigUInt64BE(BigInt(n), 4);
    return b;
  };
  assert.deepEqual(aeadOpen(key, be(0), r0, Buffer.alloc(0)), Buffer.from('a'));
  assert.deepEqual(aeadOpen(key, be(1), r1, Buffer.alloc(0)), Buffer.from('b'));
  const le1 = Buffer.alloc(12);
  le1.writeBigUInt64LE(1n, 4);
  assert.equal(aeadOpen(key, le1, r1, Buffer.alloc(0)), undefined, 'the Noise-spec little-endian nonce must not work');
  assert.equal(cs.counter, 2n);
});

test('CipherState refuses the reserved nonce 2^64-1 and dies after a failed decrypt', () => {
  const key = crypto.randomBytes(32);
  const tx = new CipherState(key, 0xffff_ffff_ffff_fffen);
  const rx = new CipherState(key, 0xffff_ffff_ffff_fffen);
  assert.deepEqual(rx.decrypt(tx.encrypt(Buffer.from('last'))), Buffer.from('last'));
  assert.throws(() => tx.encrypt(Buffer.from('x')), (e) => isNoiseError(e, 'ERR_NOISE_NONCE_EXHAUSTED'));
  assert.throws(() => rx.decrypt(Buffer.alloc(16)), (e) => isNoiseError(e, 'ERR_NOISE_NONCE_EXHAUSTED'));

  const a = new CipherState(key);
  const b = new CipherState(key);
  const good = a.encrypt(Buffer.from('x'));
  assert.throws(() => b.decrypt(Buffer.alloc(17)), (e) => isNoiseError(e, 'ERR_NOISE_DECRYPT'));
  assert.throws(() => b.decrypt(good), (e) => isNoiseError(e, 'ERR_NOISE_DECRYPT'));
});
