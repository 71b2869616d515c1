// The Quick start as a user types it: the built `switchboard` executable, started with no
// config file in an empty directory, serves on the embedded defaults, and the CLI reaches it.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawn, execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { fileURLToPath } from 'node:url';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));
const run = promisify(execFile);

function cleanEnv(extra: Record<string, string> = {}): NodeJS.ProcessEnv {
  const env = { ...process.env, ...extra };
  for (const k of Object.keys(env)) if (/^(SWITCHBOARD|HEADSCALE)_/.test(k) && !(k in extra)) delete env[k];
  return env;
}

test('switchboard serve with no config file, then the CLI', { timeout: 60_000 }, async () => {
  assert.ok(fs.existsSync(fileURLToPath(new URL('../../dist/switchboard.js', import.meta.url))), 'run "npm run build" first');
  const cwd = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-quick-'));
  // Port 0 through the environment override, so the test never collides with a real server.
  const server = spawn(process.execPath, [BIN, 'serve'], { cwd, env: cleanEnv({ SWITCHBOARD_LISTEN_ADDR: '127.0.0.1:0' }) });
  let log = '';
  server.stderr.on('data', (d) => (log += d));
  try {
    const url = await new Promise<string>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`server did not start:\n${log}`)), 30_000);
      server.stderr.on('data', () => {
        const m = /listening addr=(http:\/\/127\.0\.0\.1:\d+)/.exec(log);
        if (m) {
          clearTimeout(timer);
          resolve(m[1] as string);
        }
      });
      server.once('exit', (code) => reject(new Error(`server exited with ${code}:\n${log}`)));
    });
    const health = await fetch(`${url}/health`);
    assert.equal(health.status, 200);
    assert.deepEqual(await health.json(), { status: 'pass' });
    const key = (await (await fetch(`${url}/key?v=142`)).json()) as { publicKey: string };
    assert.match(key.publicKey, /^mkey:[0-9a-f]{64}$/);

    // Embedded defaults: SQLite and keys under ./data, the admin socket beside them.
    for (const f of ['db.sqlite', 'noise_private.key', 'switchboard.sock']) {
      assert.ok(fs.existsSync(path.join(cwd, 'data', f)), `data/${f} exists`);
    }
    const created = await run(process.execPath, [BIN, 'users', 'create', 'alice'], { cwd, env: cleanEnv() });
    assert.equal(created.stdout.trim(), 'User created');
    const key1 = await run(process.execPath, [BIN, 'preauthkeys', 'create', '--user', '1'], { cwd, env: cleanEnv() });
    assert.match(key1.stdout.trim(), /^hskey-auth-/);
    const listed = await run(process.execPath, [BIN, 'users', 'list', '-o', 'json'], { cwd, env: cleanEnv() });
    assert.equal(JSON.parse(listed.stdout)[0].name, 'alice');
    await assert.rejects(run(process.execPath, [BIN, 'users', 'create', 'alice'], { cwd, env: cleanEnv() }), (err: any) => {
      assert.equal(err.code, 1);
      assert.equal(err.stderr.trim(), 'Error: creating user: user "alice" already exists');
      return true;
    });
  } finally {
    const exited = new Promise<number | null>((r) => server.once('exit', (code) => r(code)));
    server.kill('SIGTERM');
    assert.equal(await exited, 0, `clean shutdown on SIGTERM:\n${log}`);
    assert.equal(fs.existsSync(path.join(cwd, 'data', 'switchboard.sock')), false, 'the socket is removed on shutdown');
    fs.rmSync(cwd, { recursive: true, force: true });
  }
});
