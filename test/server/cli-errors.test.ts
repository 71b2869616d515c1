// Bad input to the CLI and the server: one clear line saying what and where, a non-zero exit,
// and nothing half-written.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { runCli, startTestServer, writeTestConfig } from '../support/server.js';
import { loadConfig } from '../../src/config/index.js';
import { startServer } from '../../src/app.js';
import { silentLogger } from '../../src/lib/logger.js';
import { isSwitchboardError } from '../../src/lib/errors.js';

function tempDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'sb-err-'));
}

test('a malformed config file is refused with its path and line', async () => {
  const dir = tempDir();
  const file = path.join(dir, 'config.yaml');
  fs.writeFileSync(file, 'server_url: http://127.0.0.1:8080\nlisten_addr: [oops\n');
  const r = await runCli(['-c', file, 'configtest']);
  assert.equal(r.code, 1);
  assert.ok(r.stderr.startsWith('Error: '), r.stderr);
  assert.ok(r.stderr.includes(file), r.stderr);
  assert.match(r.stderr, /line \d+, column \d+: YAML syntax error/);
  fs.rmSync(dir, { recursive: true });
});

test('every bad key is reported at once', async () => {
  const dir = tempDir();
  const { configPath, drop } = await writeTestConfig(dir, 'sqlite', {
    prefixes: { v4: 'not-a-cidr', allocation: 'sideways' },
    server_url: 'ftp://x',
  });
  const r = await runCli(['-c', configPath, 'configtest']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /prefixes\.v4/);
  assert.match(r.stderr, /prefixes\.allocation/);
  assert.match(r.stderr, /server_url/);
  await drop();
  fs.rmSync(dir, { recursive: true });
});

test('a missing config file named with --config is an error', async () => {
  const r = await runCli(['-c', '/nonexistent/switchboard.yaml', 'users', 'list']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /config file not found: \/nonexistent\/switchboard\.yaml/);
});

test('an unreachable database stops configtest and serve with where it looked', async () => {
  const dir = tempDir();
  const { configPath } = await writeTestConfig(dir, 'sqlite', {
    database: { type: 'postgres', postgres: { host: '127.0.0.1', port: 1, name: 'sb', user: 'sb', pass: 'topsecret' } },
  });
  const r = await runCli(['-c', configPath, 'configtest']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /cannot connect to PostgreSQL database "sb" at 127\.0\.0\.1:1/);
  assert.doesNotMatch(r.stderr, /topsecret/);
  const { config } = loadConfig({ configPath });
  await assert.rejects(startServer(config, silentLogger), (err) => isSwitchboardError(err, 'ERR_DB_UNREACHABLE'));
  assert.equal(fs.existsSync(path.join(dir, 'sb.sock')), false, 'a failed start leaves no socket behind');
  fs.rmSync(dir, { recursive: true });
});

test('the CLI without a running server says which socket it tried', async () => {
  const dir = tempDir();
  const { configPath, drop } = await writeTestConfig(dir, 'sqlite');
  const r = await runCli(['-c', configPath, 'users', 'list']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, new RegExp(`unix socket ${path.join(dir, 'sb.sock').replace(/[.]/g, '\\.')} does not exist`));
  // A socket file left behind by a dead server: the error says nothing listens.
  fs.writeFileSync(path.join(dir, 'sb.sock'), '');
  const r2 = await runCli(['-c', configPath, 'users', 'list', '-o', 'json']);
  assert.equal(r2.code, 1);
  assert.match(JSON.parse(r2.stderr).error, /listing users: cannot reach the Switchboard server/);
  await drop();
  fs.rmSync(dir, { recursive: true });
});

test('a second server on the same socket is refused and the first keeps serving', async () => {
  const s = await startTestServer('sqlite');
  try {
    const { config } = loadConfig({ configPath: s.configPath });
    await assert.rejects(startServer({ ...config, listen_addr: '127.0.0.1:0' }, silentLogger), /another server is already listening on unix socket/);
    const r = await s.cli('users', 'create', 'still-here');
    assert.equal(r.code, 0, r.stderr);
  } finally {
    await s.close();
  }
});

test('an unknown output format and unknown flags are refused', async () => {
  const r = await runCli(['version', '-o', 'xml']);
  assert.equal(r.code, 1);
  assert.match(r.stderr, /unknown output format "xml"/);
  const r2 = await runCli(['users', 'list', '--bogus']);
  assert.notEqual(r2.code, 0);
  assert.match(r2.stderr, /unknown option '--bogus'/);
});

test('generate private-key prints a fresh machine private key', async () => {
  const a = await runCli(['generate', 'private-key']);
  const b = await runCli(['gen', 'private-key', '-o', 'json']);
  assert.match(a.stdout, /^privkey:[0-9a-f]{64}$/);
  assert.match(JSON.parse(b.stdout).private_key, /^privkey:[0-9a-f]{64}$/);
  assert.notEqual(a.stdout, JSON.parse(b.stdout).private_key);
});

test('dump-config masks secrets', async () => {
  const dir = tempDir();
  const { configPath, drop } = await writeTestConfig(dir, 'sqlite', { cli: { api_key: 'hskey-api-supersecretvalue' } });
  const r = await runCli(['-c', configPath, 'dump-config']);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /api_key: "\*{8}"/);
  assert.doesNotMatch(r.stdout, /supersecretvalue/);
  await drop();
  fs.rmSync(dir, { recursive: true });
});
