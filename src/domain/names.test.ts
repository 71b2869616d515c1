import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkGivenName, hostnameToLabel, uniqueLabel } from './names.js';

test('hostnames become DNS labels', () => {
  assert.equal(hostnameToLabel('Laptop'), 'laptop');
  assert.equal(hostnameToLabel('my.host.local'), 'my-host-local');
  assert.equal(hostnameToLabel('über box'), 'uber-box');
  assert.equal(hostnameToLabel('日本'), 'node');
  assert.equal(hostnameToLabel(''), 'node');
  assert.equal(hostnameToLabel('--a__b--'), 'a-b');
  assert.equal(hostnameToLabel('x'.repeat(80)).length, 63);
});

test('collisions get numeric suffixes, first free wins', () => {
  const taken = new Set(['laptop', 'laptop-1', 'laptop-3']);
  assert.equal(uniqueLabel('laptop', (n) => taken.has(n)), 'laptop-2');
  assert.equal(uniqueLabel('desk', (n) => taken.has(n)), 'desk');
  const long = 'a'.repeat(63);
  assert.equal(uniqueLabel(long, (n) => n === long), `${'a'.repeat(61)}-1`);
});

test('admin renames must be valid labels', () => {
  checkGivenName('web-1', 'example.com');
  for (const bad of ['', 'Web', '-web', 'web-', 'a_b', 'a.b', 'x'.repeat(64)]) {
    assert.throws(() => checkGivenName(bad, 'example.com'), /invalid node name/, bad);
  }
  assert.throws(() => checkGivenName('a'.repeat(60), 'd'.repeat(200)), /too long together with the base domain/);
});
