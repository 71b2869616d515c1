import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hashSecret, issueSecret, parseSecret, safeEqual, secretMatches } from './secrets.js';

test('issued keys have headscale 0.28+ shape and parse back', () => {
  const k = issueSecret('auth');
  assert.match(k.full, /^hskey-auth-[A-Za-z0-9]{12}-[A-Za-z0-9]{64}$/);
  assert.deepEqual(parseSecret('auth', k.full), { prefix: k.prefix, secret: k.secret });
  assert.equal(parseSecret('api', k.full), undefined);
  assert.notEqual(issueSecret('auth').full, k.full);
});

test('malformed keys do not parse', () => {
  const k = issueSecret('api');
  for (const bad of ['', 'hskey-api-', k.full.slice(0, -1), `${k.full}x`, k.full.replace(/-([^-]*)$/, '_$1'),
    `hskey-api-${'a'.repeat(12)}-${'b'.repeat(63)}!`]) {
    assert.equal(parseSecret('api', bad), undefined, bad);
  }
});

test('bcrypt hash verifies the secret and nothing else', async () => {
  const k = issueSecret('api');
  const hash = await hashSecret(k.secret);
  assert.match(hash.toString(), /^\$2[aby]\$10\$/);
  assert.equal(await secretMatches(k.secret, hash), true);
  assert.equal(await secretMatches(k.secret.replace(/.$/, 'x'), hash), false);
  assert.equal(await secretMatches(k.secret, Buffer.alloc(0)), false);
});

test('a remembered secret still refuses every other secret and every other hash', async () => {
  const a = issueSecret('auth');
  const b = issueSecret('auth');
  const hashA = await hashSecret(a.secret);
  const hashB = await hashSecret(b.secret);
  for (let round = 0; round < 2; round++) {
    assert.equal(await secretMatches(a.secret, hashA), true);
    assert.equal(await secretMatches(b.secret, hashA), false);
    assert.equal(await secretMatches(a.secret, hashB), false);
    assert.equal(await secretMatches(`${a.secret}x`, hashA), false);
  }
  assert.equal(await secretMatches(b.secret, hashB), true);
});

test('safeEqual compares whole strings', () => {
  assert.equal(safeEqual('abc', 'abc'), true);
  assert.equal(safeEqual('abc', 'abd'), false);
  assert.equal(safeEqual('abc', 'abcd'), false);
});
