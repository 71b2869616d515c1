import { test } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfig } from './load.js';
import { ProblemList } from './problems.js';
import { SCHEMA } from './schema.js';
import { scanDocument } from './source.js';

const EXAMPLE = fileURLToPath(new URL('../../config.example.yaml', import.meta.url));
const text = readFileSync(EXAMPLE, 'utf8');

test('config.example.yaml loads without errors or warnings', () => {
  const loaded = loadConfig({ configPath: EXAMPLE, env: {} });
  assert.equal(loaded.source, EXAMPLE);
  assert.deepEqual(loaded.warnings, []);
});

test('config.example.yaml sets every schema key, and nothing else', () => {
  const problems = new ProblemList();
  const scanned = scanDocument(text, problems);
  assert.deepEqual(problems.lines(), []);
  assert.deepEqual(scanned.unknown.map((u) => u.path), [], 'keys the schema does not know');
  assert.deepEqual(scanned.removed.map((r) => r.path), [], 'old keys');
  const documented = new Set(scanned.keys.keys());
  const missing = SCHEMA.map((s) => s.path).filter((p) => !documented.has(p));
  assert.deepEqual(missing, [], 'schema keys missing from the example');
  assert.equal(documented.size, SCHEMA.length);
});

test('every key in config.example.yaml has a comment line right above it', () => {
  const lines = text.split('\n');
  const scanned = scanDocument(text, new ProblemList());
  const bare: string[] = [];
  for (const [path, hit] of scanned.keys) {
    const line = hit.loc && 'line' in hit.loc ? hit.loc.line : 0;
    if (!/^\s*#\s*\S/.test(lines[line - 2] ?? '')) bare.push(`${path} (line ${line})`);
  }
  assert.deepEqual(bare, []);
});

test('docs/configuration.md has a reference row for every key', () => {
  const docs = readFileSync(fileURLToPath(new URL('../../docs/configuration.md', import.meta.url)), 'utf8');
  const missing = SCHEMA.filter((s) => !docs.includes(`| \`${s.path}\` |`)).map((s) => s.path);
  assert.deepEqual(missing, []);
});
