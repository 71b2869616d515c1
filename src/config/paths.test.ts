import { test } from 'node:test';
import assert from 'node:assert/strict';
import { resolveConfigPath } from './paths.js';

test('relative paths join the base directory; absolute, empty and SQLite specials stay', () => {
  assert.equal(resolveConfigPath('noise.key', '/etc/sb'), '/etc/sb/noise.key');
  assert.equal(resolveConfigPath('./data/../db.sqlite', '/etc/sb'), '/etc/sb/db.sqlite');
  assert.equal(resolveConfigPath('/var/lib/sb/db.sqlite', '/etc/sb'), '/var/lib/sb/db.sqlite');
  assert.equal(resolveConfigPath('', '/etc/sb'), '');
  assert.equal(resolveConfigPath(':memory:', '/etc/sb'), ':memory:');
  assert.equal(resolveConfigPath('file:db?mode=memory', '/etc/sb'), 'file:db?mode=memory');
});
