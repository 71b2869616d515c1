import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import { boxOpen, boxSeal, boxSharedKey, openFrom, sealTo, secretboxOpen, x25519PublicKey } from './nacl-box.js';
import { poly1305 } from './poly1305.js';
import { hsalsa20, xsalsa20Xor } from './salsa20.js';

const hex = (s: string) => Buffer.from(s, 'hex');

// RFC 7748 §6.1 key pairs, as used by NaCl's tests/box.c and PyNaCl's tests/test_box.py.
const ALICE_SK = hex('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a');
const ALICE_PK = hex('8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
const BOB_SK = hex('5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb');
const BOB_PK = hex('de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f');
const NONCE = hex('69696ee955b62b73cd62bda875fc73d68219e0036b7a0b37');
const PLAIN = hex(
  'be075fc53c81f2d5cf141316ebeb0c7b5228c52a4c62cbd44b66849b64244ffce5ecbaaf33bd751a1ac728d45e6c61296cdc3c01233561f41db66cce314adb310e3be8250c46f06dceea3a7fa1348057e2f6556ad6b1318a024a838f21af1fde048977eb48f59ffd4924ca1c60902e52f0a089bc76897040e082f937763848645e0705',
);
const BOXED = hex(
  'f3ffc7703f9400e52a7dfb4b3d3305d98e993b9f48681273c29650ba32fc76ce48332ea7164d96a4476fb8c531a1186ac0dfc17c98dce87b4da7f011ec48c97271d2c20f9b928fe2270d6fb863d51738b48eeee314a7cc8ab932164548e526ae90224368517acfeabd6bb3732bc0e9da99832b61ca01b6de56244a9e88d5f9b37973f622a43d14a6599b1f654cb45a74e355a5',
);

test('X25519 public keys match RFC 7748', () => {
  assert.deepEqual(x25519PublicKey(ALICE_SK), ALICE_PK);
  assert.deepEqual(x25519PublicKey(BOB_SK), BOB_PK);
});

test('HSalsa20 of the shared secret gives NaCl\'s "firstkey" (crypto_box_beforenm)', () => {
  const expected = '1b27556473e985d462cd51197a9a46c76009549eac6474f206c4ee0844f68389';
  assert.equal(boxSharedKey(ALICE_SK, BOB_PK).toString('hex'), expected);
  assert.equal(boxSharedKey(BOB_SK, ALICE_PK).toString('hex'), expected);
  const shared = hex('4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742'); // RFC 7748 K
  assert.equal(hsalsa20(shared, new Uint8Array(16)).toString('hex'), expected);
});

test('crypto_box matches the NaCl/PyNaCl vector both ways', () => {
  assert.deepEqual(boxSeal(PLAIN, NONCE, ALICE_PK, BOB_SK), BOXED);
  assert.deepEqual(boxOpen(BOXED, NONCE, BOB_PK, ALICE_SK), PLAIN);
});

// Generated with Go's golang.org/x/crypto v0.54.0 nacl/box.Seal (sk2's public key as recipient).
const GO_BOX_VECTORS = [
  {
    n: 0,
    sk1: '05048ba2e81c7e8c98c80abef712b37565f567f3fea96c7f496cac2716da4f01',
    sk2: '0aec7e0c07984adbe57ab0b5118fcbc16d847b39896f5a7d97f1e3b924e2886a',
    nonce: '10d472762513152a322b57ac2a0ce40d7513907e1535477a',
    msg: '',
    box: 'ac153a13cf920c3e4544e17a40de4091',
  },
  {
    n: 17,
    sk1: '646db6aaec5001c9b2931b27ae60577cef76bc8c42d036556e4b4ddc065f11ed',
    sk2: '6955aa140bcccc18ff44c21ec8de6fc8f705d0d1cd962452bbd0836f14674955',
    nonce: '6f3d9d7e294798664cf66815e25b8813ff94e416595c1150',
    msg: '742591e848c363b599a70f0dfcd8a15f07',
    box: '4e7f19043340b234651ebcb21da1ebb86d1cee663fc1451e1ea4750457b38bce1b',
  },
  {
    n: 64,
    sk1: '6a086b1b7ffe5b44cd2db4866c57e0616cbb693fe02bdddfa7d154b39cd1730e',
    sk2: '70f15f859d7a269319de5a7d86d4f8ad754a7d856cf1cbdcf4568a45aad9ac76',
    nonce: '76d953efbcf5f2e266900174a05111f87dda91caf7b7b8da',
    msg: '7bc14659da71bd30b341a86cbace2a448569a50f837da6d78f61f76ac6e91d477a50c02b7455cd2ae28a498592401bb861995d750591e87595182a606a938339',
    box: '6bd6a5c607b6c15027fad78921dc7f3f687117bfbf141e0342210495b7a75080694669e477f6f2a94017ce2146517ef431ce61e57dceb9902e4f356b7e18884e4d1ffef7737f4c5c584e356960f1fe93',
  },
  {
    n: 129,
    sk1: 'd6f540fe345b034b4e430546fc1825987c117ed04e733c3b52bb31d12fd0cf83',
    sk2: 'dbdd336852d7ce999bf4ab3d16953ee484a09216d9392a39a04168643ed808eb',
    nonce: 'e1c527d271529ae8e8a65234301257308c2fa65b65ff1736',
    msg: 'e6ae1a3b8fce65373457f92b4a8f6f7b94bebaa0f0c505343b4cd5885ae879bc98e71aa0c29e05e9c25a0172a06ac1952fcacce1c4706bacc0437245cf40f9d31d4d5c17f0bc07a05a95fa31f905055bf9a81b95c67d45502fb91dcde5d5ccbb8279f1daa232fd35af04dfa8565a0abde9d32e250af5404c64ca8fd566e01bf628',
    box: '5ec56c5390ab1f5282cb8669239449262812231becf02db6596cc6ffaf8e4ca28fa21794c11fd0df2640d6dbc766e23f4d149f35969f123dd283b39684000a1273bfd56db4245cded57b31fe649abe3757f40a51502823e6c2209d063744201d07feaaeba832e0f16a316954ab03dcda1c2082e8f9d4bf0cd51c50b26f342bfec9dda4f3884ee9fb7b2d79b84caaffd052',
  },
];

test('crypto_box matches Go x/crypto nacl/box for several lengths', () => {
  for (const v of GO_BOX_VECTORS) {
    const pk1 = x25519PublicKey(hex(v.sk1));
    const pk2 = x25519PublicKey(hex(v.sk2));
    assert.equal(boxSeal(hex(v.msg), hex(v.nonce), pk2, hex(v.sk1)).toString('hex'), v.box, `n=${v.n}`);
    assert.equal(boxOpen(hex(v.box), hex(v.nonce), pk1, hex(v.sk2))?.toString('hex'), v.msg, `n=${v.n}`);
  }
});

test('Poly1305 matches RFC 8439 §2.5.2', () => {
  const key = hex('85d6be7857556d337f4452fe42d506a80103808afb0db2fd4abff6af4149f51b');
  assert.equal(poly1305(Buffer.from('Cryptographic Forum Research Group'), key).toString('hex'), 'a8061dc1305136c6c22b8baf0c0127a9');
});

// RFC 8439 appendix A.3 edge cases (vectors 5 to 11) plus an all-ones case; tags checked
// against Go's golang.org/x/crypto/poly1305.
const POLY_VECTORS: [key: string, msg: string, tag: string][] = [
  ['0200000000000000000000000000000000000000000000000000000000000000', 'ffffffffffffffffffffffffffffffff', '03000000000000000000000000000000'],
  ['02000000000000000000000000000000ffffffffffffffffffffffffffffffff', '02000000000000000000000000000000', '03000000000000000000000000000000'],
  ['0100000000000000000000000000000000000000000000000000000000000000', 'fffffffffffffffffffffffffffffffff0ffffffffffffffffffffffffffffff11000000000000000000000000000000', '05000000000000000000000000000000'],
  ['0100000000000000000000000000000000000000000000000000000000000000', 'fffffffffffffffffffffffffffffffffbfefefefefefefefefefefefefefefe01010101010101010101010101010101', '00000000000000000000000000000000'],
  ['0200000000000000000000000000000000000000000000000000000000000000', 'fdffffffffffffffffffffffffffffff', 'faffffffffffffffffffffffffffffff'],
  ['0100000000000000040000000000000000000000000000000000000000000000', 'e33594d7505e43b900000000000000003394d7505e4379cd01000000000000000000000000000000000000000000000001000000000000000000000000000000', '14000000000000005500000000000000'],
  ['0100000000000000040000000000000000000000000000000000000000000000', 'e33594d7505e43b900000000000000003394d7505e4379cd010000000000000000000000000000000000000000000000', '13000000000000000000000000000000'],
  ['ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff', 'e4d8b131f296fa0723796121694ffa18'],
];

test('Poly1305 handles the modular-reduction edge cases', () => {
  for (const [key, msg, tag] of POLY_VECTORS) assert.equal(poly1305(hex(msg), hex(key)).toString('hex'), tag, msg);
});

test('XSalsa20 is its own inverse and differs per nonce', () => {
  const key = crypto.randomBytes(32);
  const nonce = crypto.randomBytes(24);
  const msg = crypto.randomBytes(1000);
  const c = xsalsa20Xor(key, nonce, msg);
  assert.notDeepEqual(c, msg);
  assert.deepEqual(xsalsa20Xor(key, nonce, c), msg);
  const other = Buffer.from(nonce);
  other[23]! ^= 1;
  assert.notDeepEqual(xsalsa20Xor(key, other, msg), c);
});

test('tampered, truncated or mis-keyed boxes do not open', () => {
  for (const i of [0, 15, 16, BOXED.length - 1]) {
    const bad = Buffer.from(BOXED);
    bad[i]! ^= 0x80;
    assert.equal(boxOpen(bad, NONCE, BOB_PK, ALICE_SK), undefined, `flip at ${i}`);
  }
  assert.equal(boxOpen(BOXED.subarray(0, 15), NONCE, BOB_PK, ALICE_SK), undefined);
  assert.equal(boxOpen(BOXED, NONCE, ALICE_PK, ALICE_SK), undefined);
  assert.equal(secretboxOpen(BOXED, NONCE, Buffer.alloc(32)), undefined);
  // A low-order public key (all zeros) makes X25519 fail: the box just does not open.
  assert.equal(boxOpen(BOXED, NONCE, Buffer.alloc(32), ALICE_SK), undefined);
});

test('sealTo/openFrom round-trip with a fresh nonce each time (Tailscale SealTo layout)', () => {
  const msg = Buffer.from('{"version":2,"CanAckPings":true}');
  const a = sealTo(msg, BOB_PK, ALICE_SK);
  const b = sealTo(msg, BOB_PK, ALICE_SK);
  assert.equal(a.length, 24 + 16 + msg.length);
  assert.notDeepEqual(a.subarray(0, 24), b.subarray(0, 24));
  assert.deepEqual(openFrom(a, ALICE_PK, BOB_SK), msg);
  assert.equal(openFrom(a.subarray(0, 39), ALICE_PK, BOB_SK), undefined);
  assert.deepEqual(openFrom(sealTo(Buffer.alloc(0), BOB_PK, ALICE_SK), ALICE_PK, BOB_SK), Buffer.alloc(0));
});
