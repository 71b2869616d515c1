import { test } from 'node:test';
import assert from 'node:assert/strict';
import { checkHuJson } from './policy-text.js';

test('HuJSON: comments and trailing commas are fine', () => {
  for (const ok of [
    '{}',
    '// c\n{"a": [1, 2,], /* x */ "b": {"c": "//not a comment",},}',
    '{"s": "a \\" /* quoted */ b"}',
    '[1, 2, /* c */ ]',
  ]) {
    assert.doesNotThrow(() => checkHuJson(ok), ok);
  }
});

test('HuJSON: syntax errors are reported', () => {
  for (const bad of ['', '   ', '{', '{,}', '[,]', '[1,,]', '{"a": 1 "b": 2}', '{"a": "x}', '{/* never closed', "{'a': 1}"]) {
    assert.throws(() => checkHuJson(bad), /parsing policy/, JSON.stringify(bad));
  }
});
