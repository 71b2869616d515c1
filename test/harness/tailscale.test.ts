// Owns: self-tests of the real-client harness (test/harness/tailscale.ts):
// a real tailscaled talks to a fake login server, and no daemon survives its
// test (normal stop, stopAll, failing test body, exiting/killed test process).

import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { rm } from 'node:fs/promises';
import { createServer, type IncomingMessage } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { join } from 'node:path';
import { test, type TestContext } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  harnessTest,
  pidAlive,
  requireTailscale,
  startTailscaled,
  stopAll,
  testResultsDir,
  withHarness,
  type TailscaleNode,
} from './tailscale.js';

const HARNESS_URL = new URL('./tailscale.ts', import.meta.url).href;

async function waitUntil(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** PIDs of tailscaled processes whose command line mentions `dir`. */
function tailscaledPidsUsing(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cmdline = readFileSync(`/proc/${entry}/cmdline`, 'utf8');
      if (cmdline.includes('tailscaled') && cmdline.includes(dir) && pidAlive(Number(entry))) pids.push(Number(entry));
    } catch {
      // raced with exit
    }
  }
  return pids;
}

function assertGone(node: { pid: number; dir: string }): void {
  assert.equal(pidAlive(node.pid), false, `tailscaled pid ${node.pid} is still alive`);
  assert.deepEqual(tailscaledPidsUsing(node.dir), [], `tailscaled processes left for ${node.dir}`);
}

/** A fake login server that records requests and answers 404. */
async function fakeControl(): Promise<{ url: string; requests: string[]; close: () => Promise<void> }> {
  const requests: string[] = [];
  const server = createServer((req: IncomingMessage, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    res.statusCode = 404;
    res.end('not a control server\n');
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    close: () =>
      new Promise<void>((r) => {
        server.closeAllConnections();
        server.close(() => r());
      }),
  };
}

harnessTest('tailscale up contacts the login server with GET /key?v=<capver>', async (h) => {
  const control = await fakeControl();
  try {
    const node = await h.startNode({ name: 'client' });
    const pid = node.pid;
    assert.ok(pid, 'daemon has a pid');
    assert.ok(node.socks5Port > 0, 'SOCKS5 port was read from the log');
    await new Promise<void>((resolveConn, rejectConn) => {
      const sock = connect(node.socks5Port, '127.0.0.1', () => {
        sock.destroy();
        resolveConn();
      });
      sock.on('error', rejectConn);
    });

    const before = await node.status();
    assert.match(before.BackendState, /^(NoState|NeedsLogin|Stopped)$/);

    // The fake server can never complete the login: `up` would wait for its
    // --timeout. Stop it as soon as the first control request has arrived.
    const abort = new AbortController();
    const up = node.up({ loginServer: control.url, timeoutMs: 15_000, allowFailure: true, signal: abort.signal });
    const seen = Promise.race([
      waitUntil('GET /key', () => control.requests.some((r) => r.startsWith('GET /key')), 20_000),
      up.then(() => {}),
    ]);
    await seen;
    abort.abort();
    const res = await up;
    assert.notEqual(res.code, 0, 'up cannot succeed against a fake server');

    const keyReq = control.requests.find((r) => r.startsWith('GET /key'));
    assert.match(keyReq ?? `(requests: ${control.requests.join(', ')})`, /^GET \/key\?v=\d+$/);
    assert.match(node.logs(), /harness: .* starting .*tailscaled/);
    assert.match(readFileSync(join(node.logDir, 'cli.log'), 'utf8'), /tailscale up --login-server=http:\/\/127\.0\.0\.1:\d+ --reset/);

    await node.stop();
    assertGone({ pid, dir: node.dir });
    assert.equal(node.pid, null);
  } finally {
    await control.close();
  }
});

harnessTest('restart() keeps the state directory and gets a new process', async (h) => {
  const node = await h.startNode({ name: 'restarter' });
  const pid1 = node.pid!;
  await node.restart();
  const pid2 = node.pid!;
  assert.notEqual(pid1, pid2);
  assert.equal(pidAlive(pid1), false);
  assert.ok(node.socks5Port > 0);
  const status = await node.status();
  assert.ok(typeof status.BackendState === 'string');
  assert.equal((node.logs().match(/=== harness: .* starting /g) ?? []).length, 2);
});

test('stopAll() stops daemons started outside a harness', async (t) => {
  if (!requireTailscale(t)) return;
  const nodes: TailscaleNode[] = [];
  try {
    nodes.push(await startTailscaled({ name: 'loose1' }), await startTailscaled({ name: 'loose2' }));
    const info = nodes.map((n) => ({ pid: n.pid!, dir: n.dir }));
    for (const i of info) assert.ok(pidAlive(i.pid));
    await stopAll();
    for (const i of info) assertGone(i);
  } finally {
    await Promise.all(nodes.map((n) => n.dispose()));
  }
  for (const n of nodes) assert.equal(existsSync(n.dir), false, 'temp dir removed');
});

test('a failing test body still stops its daemons and saves their logs', async (t) => {
  if (!requireTailscale(t)) return;
  const name = 'harness selftest: failing body';
  const resultsDir = join(testResultsDir(), 'harness_selftest_failing_body');
  await rm(resultsDir, { recursive: true, force: true });
  let info: { pid: number; dir: string } | undefined;
  await assert.rejects(
    withHarness(
      t,
      async (h) => {
        const node = await h.startNode({ name: 'doomed' });
        info = { pid: node.pid!, dir: node.dir };
        await node.cli(['version']);
        throw new Error('boom from the test body');
      },
      { name },
    ),
    /boom from the test body/,
  );
  assert.ok(info);
  assertGone(info);
  assert.equal(existsSync(info.dir), false, 'temp dir removed after saving');
  const saved = join(resultsDir, 'doomed');
  assert.match(readFileSync(join(saved, 'tailscaled.log'), 'utf8'), /starting .*tailscaled/);
  assert.match(readFileSync(join(saved, 'cli.log'), 'utf8'), /tailscale version → exit 0/);
  assert.equal(existsSync(join(saved, 'tailscaled.sock')), false, 'socket not copied');
  await rm(resultsDir, { recursive: true, force: true });
});

test('a passing harness body deletes the temp dirs and saves nothing', async (t) => {
  if (!requireTailscale(t)) return;
  const name = 'harness selftest: passing body';
  const resultsDir = join(testResultsDir(), 'harness_selftest_passing_body');
  let info: { pid: number; dir: string } | undefined;
  await withHarness(
    t,
    async (h) => {
      const node = await h.startNode({ name: 'fine' });
      info = { pid: node.pid!, dir: node.dir };
    },
    { name },
  );
  assert.ok(info);
  assertGone(info);
  assert.equal(existsSync(info.dir), false);
  assert.equal(existsSync(resultsDir), false);
});

// Runs a child Node process that starts a daemon, reports it, then ends in
// the given way; the daemon must not survive the child.
async function daemonOfDyingProcess(ending: 'exit' | 'SIGTERM' | 'SIGKILL'): Promise<{ pid: number; dir: string; code: number | null }> {
  const script = `
    const h = await import(${JSON.stringify(HARNESS_URL)});
    const node = await h.startTailscaled({ name: 'orphan-${ending}' });
    process.stdout.write(JSON.stringify({ pid: node.pid, dir: node.dir }) + '\\n');
    if (${JSON.stringify(ending)} === 'exit') process.exit(0);
    setInterval(() => {}, 1000);
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    cwd: fileURLToPath(new URL('../..', import.meta.url)),
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  const exited = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  let out = '';
  child.stdout.on('data', (c: Buffer) => (out += c.toString('utf8')));
  await waitUntil(`child to report its daemon (${ending})`, () => out.includes('\n') || child.exitCode !== null, 30_000);
  const report = JSON.parse(out.split('\n')[0] ?? '') as { pid: number; dir: string };
  if (ending !== 'exit') child.kill(ending);
  const code = await exited;
  await waitUntil(`tailscaled ${report.pid} to die after ${ending}`, () => !pidAlive(report.pid), 10_000);
  return { ...report, code };
}

test('no daemon outlives its test process', async (t) => {
  if (!requireTailscale(t)) return;
  for (const ending of ['exit', 'SIGTERM', 'SIGKILL'] as const) {
    await t.test(`test process ends by ${ending}`, async () => {
      const r = await daemonOfDyingProcess(ending);
      try {
        assertGone(r);
        if (ending === 'exit') assert.equal(r.code, 0);
        if (ending === 'SIGTERM') assert.equal(r.code, 143); // the harness's SIGTERM handler
      } finally {
        await rm(r.dir, { recursive: true, force: true });
      }
    });
  }
});

test('requireTailscale: missing binaries skip locally and fail under CI', () => {
  const savedCI = process.env['CI'];
  const realWrite = process.stderr.write;
  let stderr = '';
  let skipMessage: string | undefined;
  // A stand-in context: a real skip would show up in this file's summary.
  const fakeContext = { skip: (msg?: string) => void (skipMessage = msg ?? '') } as unknown as TestContext;
  try {
    process.env['CI'] = 'true';
    assert.throws(() => requireTailscale(fakeContext, 'v0.0.0-missing'), /binaries not found.*CI=true/);
    assert.equal(skipMessage, undefined);
    delete process.env['CI'];
    process.stderr.write = ((chunk: string | Uint8Array) => {
      stderr += String(chunk);
      return true;
    }) as typeof process.stderr.write;
    assert.equal(requireTailscale(fakeContext, 'v0.0.0-missing'), null);
  } finally {
    process.stderr.write = realWrite;
    if (savedCI === undefined) delete process.env['CI'];
    else process.env['CI'] = savedCI;
  }
  assert.match(stderr, /\*\*\* SKIPPING real-client test: tailscale binaries not built; run npm run tailscale:build \*\*\*/);
  assert.match(skipMessage ?? '', /not built/);
});
