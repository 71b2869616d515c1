import { test } from 'node:test';
import assert from 'node:assert/strict';
import { parse } from 'yaml';
import { BASE_YAML, loadYaml } from './fixtures.test.js';
import { dumpConfig, SECRET_MASK } from './dump.js';
import { loadConfigText } from './load.js';

const SECRETS = `${BASE_YAML}oidc:
  issuer: https://id.example.com
  client_id: switchboard
  client_secret: hunter2
cli:
  api_key: hskey-api-abc-def
`.replace('database:\n  type: sqlite', 'database:\n  type: sqlite\n  postgres:\n    pass: pg-password');

test('every non-empty secret is masked; empty ones stay empty', () => {
  const text = dumpConfig(loadYaml(SECRETS).config);
  for (const secret of ['hunter2', 'hskey-api-abc-def', 'pg-password']) assert.ok(!text.includes(secret), secret);
  const tree = parse(text);
  assert.equal(tree.oidc.client_secret, SECRET_MASK);
  assert.equal(tree.cli.api_key, SECRET_MASK);
  assert.equal(tree.database.postgres.pass, SECRET_MASK);
  const plain = parse(dumpConfig(loadYaml(BASE_YAML).config));
  assert.equal(plain.oidc.client_secret, '');
  assert.equal(plain.cli.api_key, '');
});

test('durations print Go-style and file modes as octal text', () => {
  const yaml = `${BASE_YAML}node:\n  expiry: 90d\n  ephemeral:\n    inactivity_timeout: 30m\nunix_socket_permission: "0750"\n`;
  const text = dumpConfig(loadYaml(yaml).config);
  assert.match(text, /^ {2}expiry: 2160h0m0s$/m);
  assert.match(text, /^ {4}inactivity_timeout: 30m0s$/m);
  assert.match(text, /^ {2}update_frequency: 3h0m0s$/m);
  assert.match(text, /^unix_socket_permission: "0750"$/m);
  assert.match(text, /^ {2}timeout: 5s$/m);
});

test('the dump loads back to the same configuration', () => {
  const { config } = loadYaml(BASE_YAML);
  const again = loadConfigText(dumpConfig(config), { env: {}, baseDir: '/elsewhere', label: 'dump', source: '/elsewhere/dump.yaml' });
  assert.deepEqual(again.config, config);
  assert.deepEqual(again.warnings, []);
});
