import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import { ERROR_CODES, SwitchboardError, isSwitchboardError } from './errors.js';

test('docs/errors.md lists every code with its kind, and nothing else', () => {
  const doc = fs.readFileSync(new URL('../../docs/errors.md', import.meta.url), 'utf8');
  const rows = [...doc.matchAll(/^\| `(ERR_[A-Z_]+)` \| (\w+) \|/gm)].map((m) => [m[1], m[2]]);
  assert.deepEqual(Object.fromEntries(rows), { ...ERROR_CODES });
  assert.equal(rows.length, Object.keys(ERROR_CODES).length, 'no code is listed twice');
});

test('errors carry code, kind and cause', () => {
  const cause = new Error('root');
  const err = new SwitchboardError('ERR_USER_EXISTS', 'user "a" already exists', { cause });
  assert.equal(err.kind, 'conflict');
  assert.equal(err.cause, cause);
  assert.ok(isSwitchboardError(err, 'ERR_USER_EXISTS'));
  assert.ok(!isSwitchboardError(err, 'ERR_USER_NOT_FOUND'));
  assert.ok(!isSwitchboardError(new Error('x')));
});
