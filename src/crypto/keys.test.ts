import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { formatKey, generateKeyPair, generatePrivateKey, loadOrCreatePrivateKey, parseKey, publicKeyOf, shortKey } from './keys.js';

test('public key matches the RFC 7748 test vector', () => {
  const alicePriv = Buffer.from('77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a', 'hex');
  assert.equal(publicKeyOf(alicePriv).toString('hex'), '8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a');
});

test('generated keys are clamped and distinct', () => {
  const a = generatePrivateKey();
  const b = generatePrivateKey();
  assert.notDeepEqual(a, b);
  assert.equal(a[0]! & 7, 0);
  assert.equal(a[31]! & 128, 0);
  assert.equal(a[31]! & 64, 64);
});

test('a generated pair is clamped and its public half is the private half\'s', () => {
  const a = generateKeyPair();
  const b = generateKeyPair();
  assert.notDeepEqual(a.privateKey, b.privateKey);
  assert.equal(a.privateKey[0]! & 7, 0);
  assert.equal(a.privateKey[31]! & 192, 64);
  assert.deepEqual(publicKeyOf(a.privateKey), a.publicKey);
});

test('text forms round-trip and reject other prefixes', () => {
  const k = crypto.randomBytes(32);
  const text = formatKey('mkey', k);
  assert.match(text, /^mkey:[0-9a-f]{64}$/);
  assert.deepEqual(parseKey('mkey', text), k);
  assert.equal(parseKey('nodekey', text), undefined);
  assert.equal(parseKey('mkey', 'mkey:zz'), undefined);
  assert.equal(shortKey(text), `[${k.toString('base64').slice(0, 5)}]`);
});

test('a key file is created once, then read back', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-keys-'));
  const file = path.join(dir, 'sub', 'noise.key');
  const first = loadOrCreatePrivateKey(file, 'noise key');
  assert.equal(fs.statSync(file).mode & 0o777, 0o600);
  assert.deepEqual(loadOrCreatePrivateKey(file, 'noise key'), first);
  fs.writeFileSync(file, 'garbage');
  assert.throws(() => loadOrCreatePrivateKey(file, 'noise key'), /noise key .* does not hold/);
  fs.rmSync(dir, { recursive: true });
});
