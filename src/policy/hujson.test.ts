// HuJSON parser: comments, trailing commas, strictness, positions.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PolicyError } from './errors.js';
import { parseHuJSON } from './hujson.js';

function syntaxError(text: string): PolicyError {
  try {
    parseHuJSON(text);
  } catch (e) {
    assert.ok(e instanceof PolicyError);
    assert.equal(e.code, 'ERR_POLICY_SYNTAX');
    return e;
  }
  assert.fail(`expected a syntax error for ${text}`);
}

test('comments and trailing commas are accepted', () => {
  const doc = parseHuJSON('// head\n{ /* inline */ "a": [1, 2,], "b": {"c": "x // not a comment",}, }\n');
  assert.deepEqual(doc.value, { a: [1, 2], b: { c: 'x // not a comment' } });
});

test('"__proto__" is an ordinary key', () => {
  const v = parseHuJSON('{"__proto__": {"polluted": true}}').value as Record<string, unknown>;
  assert.equal(Object.getPrototypeOf(v), Object.prototype);
  assert.deepEqual(Object.keys(v), ['__proto__']);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
});

test('positions of members are 1-based line/column', () => {
  const doc = parseHuJSON('{\n  "acls": [\n    {"action": "accept"}\n  ]\n}');
  const v = doc.value as { acls: unknown[] };
  assert.deepEqual(doc.positionOf(v, 'acls'), { line: 2, column: 3 });
  assert.deepEqual(doc.positionOf(v.acls, 0), { line: 3, column: 5 });
});

test('strict JSON otherwise: unquoted keys, single quotes, bad literals', () => {
  const e1 = syntaxError('{acls: []}');
  assert.equal(e1.line, 1);
  assert.equal(e1.column, 2);
  syntaxError("{'a': 1}");
  syntaxError('{"a": \'x\'}');
  syntaxError('{"a": tru}');
  syntaxError('{"a": 01}');
  syntaxError('[1,,2]');
  syntaxError('{"a": 1,,}');
  syntaxError('{"a": 1} x');
  syntaxError('');
  syntaxError('{"a": "unterminated}');
  syntaxError('{"a": 1 /* open');
  syntaxError('{"a": 1, "a": 2}');
});

test('errors report line and column', () => {
  const e = syntaxError('{\n  "a": 1,\n  "b": ?\n}');
  assert.equal(e.line, 3);
  assert.equal(e.column, 8);
  assert.match(e.message, /line 3, column 8/);
});

test('escapes and unicode in strings', () => {
  const doc = parseHuJSON('["a\\"b", "\\u00e9", "tag:сервер"]');
  assert.deepEqual(doc.value, ['a"b', 'é', 'tag:сервер']);
});
