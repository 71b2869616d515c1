// Owns: the real-client test harness. Finds the official tailscale/tailscaled
// binaries built by scripts/build-tailscale.sh, runs isolated tailscaled
// daemons (userspace networking, no internet), drives them through the CLI,
// and guarantees that no daemon outlives the test process.
//
// ─── Usage ────────────────────────────────────────────────────────────────────
//
//   import { harnessTest } from './harness/tailscale.js';
//
//   harnessTest('a node registers', async (h) => {
//     const a = await h.startNode({ name: 'a' });
//     await a.up({ loginServer: 'http://127.0.0.1:8080', authKey: key });
//     await a.waitFor((s) => s.BackendState === 'Running', 30_000);
//   });
//
// `harnessTest(name, fn, options?)` is `test(name, options, ...)` from
// node:test plus: skip (or, under CI=true, fail) when the binaries are missing,
// and run `fn` inside `withHarness`. Inside an existing test use
// `withHarness(t, async (h) => {...})` directly (after `requireTailscale(t)`).
//
// ─── Lifecycle and failure detection ──────────────────────────────────────────
//
// node:test does not tell an after-hook whether the test failed, so
// `withHarness` runs the body itself, in try/catch:
//   * body resolves  → every node of the harness is stopped and its temp
//                      directory deleted;
//   * body throws    → every node is stopped, its directory (daemon log
//                      tailscaled.log, CLI transcript cli.log, state) is copied
//                      to test-results/<sanitized test name>/<node name>/, the
//                      path is printed to stderr, and the error is rethrown;
//   * body never settles (test timeout / cancellation) → a `t.after` hook
//                      does the "failed" cleanup above.
//
// Safety nets below the harness: every daemon and every running `tailscale`
// CLI child sits in a module-level registry. `stopAll()` stops them all. On
// the first registration the registry installs a process 'exit' handler
// (synchronous SIGKILL of each process group; daemons are spawned detached, so
// each is its own group) and SIGINT/SIGTERM handlers (stopAll, then exit with
// 130/143). Finally each daemon gets TS_PARENT_DEATH_FD=3, fd 3 being one end
// of a pipe held by this process: if the test process dies even by SIGKILL,
// the kernel closes the pipe and tailscaled exits by itself. Temp dirs of such
// a killed process are deleted by the next test process that starts a node
// (each dir records its owner pid in harness-owner.pid).
//
// ─── Isolation ────────────────────────────────────────────────────────────────
//
// Each daemon gets its own temp dir (state, LocalAPI socket, TS_LOGS_DIR),
// `--tun=userspace-networking`, `--port=0`, `--no-logs-no-support`, a SOCKS5
// server on 127.0.0.1 (kernel-chosen port, read back from the log), and
// HTTP_PROXY/HTTPS_PROXY pointing at 127.0.0.1:1 where nothing listens, so it
// can never reach the internet (Go never proxies loopback destinations, so a
// control server on 127.0.0.1 is unaffected). A control server on another
// address (e.g. inside a test network namespace) needs
// `env: { NO_PROXY: '<that address>' }`.
//
// Binaries: ${SWITCHBOARD_TS_CACHE:-<repo>/.cache/tailscale}/<version>/.
// Test results: ${SWITCHBOARD_TEST_RESULTS:-<repo>/test-results}/.

import { spawn, type ChildProcess } from 'node:child_process';
import { constants as fsConstants } from 'node:fs';
import { accessSync, appendFileSync, closeSync, openSync, readFileSync, statSync } from 'node:fs';
import { appendFile, cp, mkdir, mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { request } from 'node:http';
import type { Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { test, type TestContext, type TestOptions } from 'node:test';
import { fileURLToPath } from 'node:url';

export const DEFAULT_TAILSCALE_VERSION = 'v1.102.3';

const REPO_ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');

/** Where nothing listens: any proxied (i.e. non-loopback) request fails fast. */
const TRAP_PROXY = 'http://127.0.0.1:1';
const LOCALAPI_HOST = 'local-tailscaled.sock';
const DEFAULT_START_TIMEOUT_MS = 30_000;
const DEFAULT_CLI_TIMEOUT_MS = 60_000;
const STOP_GRACE_MS = 5_000;

// ─── Binaries ─────────────────────────────────────────────────────────────────

export interface TailscaleBinaries {
  tailscale: string;
  tailscaled: string;
}

/** The directory scripts/build-tailscale.sh installs `version` into. */
export function tailscaleCacheDir(version: string = DEFAULT_TAILSCALE_VERSION): string {
  const root = process.env['SWITCHBOARD_TS_CACHE'] || join(REPO_ROOT, '.cache', 'tailscale');
  return join(root, version);
}

function isExecutableFile(path: string): boolean {
  try {
    if (!statSync(path).isFile()) return false;
    accessSync(path, fsConstants.X_OK);
    return true;
  } catch {
    return false;
  }
}

/** Paths of the built binaries, or null if either is missing. */
export function tailscaleBinaries(version: string = DEFAULT_TAILSCALE_VERSION): TailscaleBinaries | null {
  const dir = tailscaleCacheDir(version);
  const bins = { tailscale: join(dir, 'tailscale'), tailscaled: join(dir, 'tailscaled') };
  return isExecutableFile(bins.tailscale) && isExecutableFile(bins.tailscaled) ? bins : null;
}

/**
 * Returns the binaries, or handles their absence: under CI=true it throws (a
 * missing prerequisite is a failure); otherwise it prints a loud notice,
 * skips `t` (if given) and returns null; the caller must then return.
 */
export function requireTailscale(
  t: TestContext | undefined,
  version: string = DEFAULT_TAILSCALE_VERSION,
): TailscaleBinaries | null {
  const bins = tailscaleBinaries(version);
  if (bins) return bins;
  const where = tailscaleCacheDir(version);
  if (process.env['CI'] === 'true') {
    throw new Error(
      `tailscale ${version} binaries not found in ${where} (CI=true, so this is a failure); ` +
        'run npm run tailscale:build',
    );
  }
  process.stderr.write(
    '*** SKIPPING real-client test: tailscale binaries not built; run npm run tailscale:build ***\n' +
      `    (looked in ${where})\n`,
  );
  t?.skip(`tailscale ${version} binaries not built (npm run tailscale:build)`);
  return null;
}

// ─── Process registry ─────────────────────────────────────────────────────────

/** Daemons and CLI children still alive; used by stopAll() and exit handlers. */
const liveNodes = new Set<TailscaleNode>();
const liveCliChildren = new Set<ChildProcess>();
let handlersInstalled = false;

function killGroupSync(pid: number | undefined, signal: NodeJS.Signals): void {
  if (pid === undefined) return;
  try {
    process.kill(-pid, signal);
  } catch {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

function installProcessHandlers(): void {
  if (handlersInstalled) return;
  handlersInstalled = true;
  process.on('exit', () => {
    for (const node of liveNodes) killGroupSync(node.pid ?? undefined, 'SIGKILL');
    for (const child of liveCliChildren) killGroupSync(child.pid, 'SIGKILL');
  });
  const onSignal = (signal: NodeJS.Signals, code: number) => {
    process.once(signal, () => {
      process.stderr.write(`[tailscale harness] ${signal}: stopping ${liveNodes.size} tailscaled\n`);
      void stopAll().finally(() => process.exit(code));
    });
  };
  onSignal('SIGINT', 130);
  onSignal('SIGTERM', 143);
}

/** Stops every daemon and kills every CLI child started by this module. */
export async function stopAll(): Promise<void> {
  for (const child of liveCliChildren) killGroupSync(child.pid, 'SIGKILL');
  await Promise.all([...liveNodes].map((node) => node.stop()));
}

// ─── Helpers ──────────────────────────────────────────────────────────────────

export function sanitizeName(name: string, maxLength = 100): string {
  const s = name.replace(/[^A-Za-z0-9._-]+/g, '_').replace(/^[._]+|_+$/g, '');
  return (s || 'unnamed').slice(0, maxLength);
}

const sleep = (ms: number) => new Promise<void>((r) => setTimeout(r, ms));

/** True if `pid` is a live (non-zombie) process. */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
  try {
    // /proc/<pid>/stat: "pid (comm) S ..."; comm may contain spaces/parens.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) !== 'Z';
  } catch {
    return process.platform !== 'linux';
  }
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines).join('\n');
}

/** Environment for daemon and CLI: inherited env minus proxies, plus safety knobs. */
function safeEnv(dir: string, extra: Record<string, string> | undefined): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env };
  for (const key of Object.keys(env)) {
    if (/^(https?|all|no)_proxy$/i.test(key)) delete env[key];
  }
  Object.assign(env, {
    TS_LOGS_DIR: dir,
    TS_NO_LOGS_NO_SUPPORT: 'true',
    TS_DISABLE_PORTMAPPER: '1',
    TS_ASSUME_NETWORK_UP_FOR_TEST: '1',
    TS_PANIC_IF_HIT_MAIN_CONTROL: '1',
    TS_DEBUG_LOG_RATE: 'all',
    HTTP_PROXY: TRAP_PROXY,
    HTTPS_PROXY: TRAP_PROXY,
  });
  return { ...env, ...extra };
}

const TEMP_PREFIX = 'sbts-';
const OWNER_FILE = 'harness-owner.pid';
let sweptStaleDirs: Promise<void> | null = null;

/**
 * Once per process: deletes node temp dirs left behind by test processes
 * that died without cleaning up (their owner pid is gone). Dirs of live
 * processes (parallel test files) are left alone.
 */
function sweepStaleDirs(): Promise<void> {
  sweptStaleDirs ??= (async () => {
    let entries: string[];
    try {
      entries = await readdir(tmpdir());
    } catch {
      return;
    }
    for (const entry of entries) {
      if (!entry.startsWith(TEMP_PREFIX)) continue;
      const dir = join(tmpdir(), entry);
      try {
        const owner = Number((await readFile(join(dir, OWNER_FILE), 'utf8')).trim());
        if (owner > 0 && owner !== process.pid && !pidAlive(owner)) {
          await rm(dir, { recursive: true, force: true });
        }
      } catch {
        // no owner file (being created, or not ours): leave it
      }
    }
  })();
  return sweptStaleDirs;
}

// ─── TailscaleNode ────────────────────────────────────────────────────────────

export interface StartTailscaledOptions {
  /** Short name, used in paths and messages. */
  name: string;
  version?: string;
  /** Extra environment (applied last; overrides the harness defaults). */
  env?: Record<string, string>;
  /** Extra tailscaled flags. */
  extraArgs?: string[];
  /** Where tailscaled.log and cli.log go (default: the node's temp dir). Not deleted by cleanup. */
  logDir?: string;
  /** How long to wait for the LocalAPI to answer (default 30 s). */
  startTimeoutMs?: number;
  /** Run tailscaled inside this network namespace (`ip netns exec NS`); the CLI stays outside. */
  netns?: string;
}

export interface CliOptions {
  /** Kill the CLI (whole process group, SIGKILL) after this long. Default 60 s. */
  timeoutMs?: number;
  /** Return non-zero exits and timeouts instead of throwing. */
  allowFailure?: boolean;
  /** Aborting kills the CLI; the result then has code null (throws unless allowFailure). */
  signal?: AbortSignal;
  /** Extra environment for the CLI process. */
  env?: Record<string, string>;
  /** Written to the CLI's stdin. */
  input?: string;
}

export interface CliResult {
  /** Exit code, or null if killed (timeout, abort, signal). */
  code: number | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

export interface UpOptions {
  loginServer: string;
  authKey?: string;
  hostname?: string;
  extraArgs?: string[];
  /** Passed as `--timeout=<s>s`; the CLI is killed 15 s after that. */
  timeoutMs?: number;
  allowFailure?: boolean;
  signal?: AbortSignal;
}

/** The parts of `tailscale status --json` (ipnstate.Status) tests use most; the rest is `unknown`. */
export interface TailscaleStatus {
  BackendState: string;
  AuthURL?: string;
  TailscaleIPs?: string[] | null;
  Self?: Record<string, any>;
  Peer?: Record<string, Record<string, any>> | null;
  User?: Record<string, Record<string, any>> | null;
  Health?: string[] | null;
  MagicDNSSuffix?: string;
  CurrentTailnet?: { Name: string; MagicDNSSuffix: string; MagicDNSEnabled: boolean } | null;
  [key: string]: any;
}

/** One tailscaled process (restartable) plus its CLI. Create with startTailscaled(). */
export class TailscaleNode {
  readonly #name: string;
  readonly #bins: TailscaleBinaries;
  readonly #dir: string;
  readonly #logDir: string;
  readonly #ownsLogDir: boolean;
  readonly #env: Record<string, string> | undefined;
  readonly #extraArgs: string[];
  readonly #netns: string | undefined;
  readonly #startTimeoutMs: number;
  #child: ChildProcess | null = null;
  #deathPipe: Socket | null = null;
  #exited: Promise<void> = Promise.resolve();
  #exitInfo: { code: number | null; signal: NodeJS.Signals | null } | null = null;
  #socks5Port = 0;
  #stopping: Promise<void> | null = null;

  private constructor(opts: StartTailscaledOptions, bins: TailscaleBinaries, dir: string) {
    this.#name = opts.name;
    this.#bins = bins;
    this.#dir = dir;
    this.#logDir = opts.logDir ?? dir;
    this.#ownsLogDir = opts.logDir === undefined;
    this.#env = opts.env;
    this.#extraArgs = opts.extraArgs ?? [];
    this.#netns = opts.netns;
    this.#startTimeoutMs = opts.startTimeoutMs ?? DEFAULT_START_TIMEOUT_MS;
  }

  /** Starts a daemon and waits until its LocalAPI answers. */
  static async start(opts: StartTailscaledOptions): Promise<TailscaleNode> {
    const version = opts.version ?? DEFAULT_TAILSCALE_VERSION;
    const bins = tailscaleBinaries(version);
    if (!bins) {
      throw new Error(`tailscale ${version} binaries not found in ${tailscaleCacheDir(version)}; run npm run tailscale:build`);
    }
    await sweepStaleDirs();
    // Short prefix: the unix socket path must stay below ~107 bytes.
    const dir = await mkdtemp(join(tmpdir(), `${TEMP_PREFIX}${sanitizeName(opts.name, 24)}-`));
    await writeFile(join(dir, OWNER_FILE), `${process.pid}\n`);
    if (opts.logDir !== undefined) await mkdir(opts.logDir, { recursive: true });
    const node = new TailscaleNode(opts, bins, dir);
    await node.#spawn();
    return node;
  }

  get name(): string {
    return this.#name;
  }
  /** The node's private directory (state, socket, TS_LOGS_DIR). */
  get dir(): string {
    return this.#dir;
  }
  get socket(): string {
    return join(this.#dir, 'tailscaled.sock');
  }
  get logDir(): string {
    return this.#logDir;
  }
  get logPath(): string {
    return join(this.#logDir, 'tailscaled.log');
  }
  /** SOCKS5 proxy port into the tailnet on 127.0.0.1 (may change across restart()). */
  get socks5Port(): number {
    return this.#socks5Port;
  }
  /** PID of the running daemon, null when stopped. */
  get pid(): number | null {
    return this.#child && !this.#exitInfo ? (this.#child.pid ?? null) : null;
  }
  get running(): boolean {
    return this.pid !== null;
  }
  get binaries(): TailscaleBinaries {
    return { ...this.#bins };
  }

  async #spawn(): Promise<void> {
    const logOffset = (() => {
      try {
        return statSync(this.logPath).size;
      } catch {
        return 0;
      }
    })();
    const ownSocks = this.#extraArgs.find((a) => a.startsWith('--socks5-server'));
    const args = [
      '--tun=userspace-networking',
      `--statedir=${this.#dir}`,
      `--socket=${this.socket}`,
      '--port=0',
      '--no-logs-no-support',
      // :0 makes tailscaled log "SOCKS5 listening on <addr>"; no port race.
      ...(ownSocks ? [] : ['--socks5-server=127.0.0.1:0']),
      ...this.#extraArgs,
    ];
    // A caller-chosen SOCKS5 address: take its port (0 → read from the log).
    this.#socks5Port = ownSocks ? Number(/:(\d+)$/.exec(ownSocks)?.[1] ?? 0) : 0;
    const socksFromLog = ownSocks === undefined || /:0$/.test(ownSocks);
    const env = safeEnv(this.#dir, { TS_PARENT_DEATH_FD: '3', ...this.#env });
    appendFileSync(
      this.logPath,
      `=== harness: ${new Date().toISOString()} starting ${this.#bins.tailscaled} ${args.join(' ')}\n`,
    );
    const logFd = openSync(this.logPath, 'a');
    let child: ChildProcess;
    try {
      // `ip netns exec` execs tailscaled in place: same PID, same process group.
      const [cmd, argv] = this.#netns
        ? ['ip', ['netns', 'exec', this.#netns, this.#bins.tailscaled, ...args]]
        : [this.#bins.tailscaled, args];
      child = spawn(cmd, argv, {
        cwd: this.#dir,
        env,
        detached: true,
        stdio: ['ignore', logFd, logFd, 'pipe'],
      });
    } finally {
      closeSync(logFd);
    }
    this.#child = child;
    this.#exitInfo = null;
    this.#stopping = null;
    this.#exited = new Promise<void>((resolveExit) => {
      const done = (code: number | null, signal: NodeJS.Signals | null) => {
        if (this.#exitInfo) return;
        this.#exitInfo = { code, signal };
        this.#deathPipe?.destroy();
        this.#deathPipe = null;
        liveNodes.delete(this);
        resolveExit();
      };
      child.once('exit', done);
      child.once('error', (err) => {
        appendFileSync(this.logPath, `=== harness: spawn error: ${err.message}\n`);
        done(null, null);
      });
    });
    // The daemon must not keep the test process alive; the exit handler and
    // the parent-death pipe take care of forgotten daemons.
    child.unref();
    const pipe = child.stdio[3] as Socket | null;
    if (pipe) {
      pipe.on('error', () => {});
      pipe.unref();
      this.#deathPipe = pipe;
    }
    installProcessHandlers();
    liveNodes.add(this);

    try {
      await this.#waitReady(logOffset, socksFromLog);
    } catch (err) {
      await this.stop();
      throw err;
    }
  }

  async #waitReady(logOffset: number, socksFromLog: boolean): Promise<void> {
    const deadline = Date.now() + this.#startTimeoutMs;
    let lastError = 'no attempt yet';
    for (;;) {
      if (this.#exitInfo) {
        throw new Error(
          `tailscaled ${this.#name} exited during startup (code ${this.#exitInfo.code}, signal ${this.#exitInfo.signal}); ` +
            `log ${this.logPath}:\n${tail(this.#logSince(logOffset), 30)}`,
        );
      }
      if (socksFromLog && this.#socks5Port === 0) {
        const m = /SOCKS5 listening on [^\s]*:(\d+)/.exec(this.#logSince(logOffset));
        if (m) this.#socks5Port = Number(m[1]);
      } else {
        try {
          const res = await this.localApi('GET', '/localapi/v0/status', 2_000);
          if (res.status === 200) return;
          lastError = `HTTP ${res.status}: ${res.body.trim()}`;
        } catch (err) {
          lastError = (err as Error).message;
        }
      }
      if (Date.now() > deadline) {
        throw new Error(
          `tailscaled ${this.#name} not ready after ${this.#startTimeoutMs} ms (last LocalAPI error: ${lastError}); ` +
            `log ${this.logPath}:\n${tail(this.#logSince(logOffset), 30)}`,
        );
      }
      await sleep(50);
    }
  }

  #logSince(offset: number): string {
    try {
      return readFileSync(this.logPath).subarray(offset).toString('utf8');
    } catch {
      return '';
    }
  }

  /** Raw LocalAPI request over the unix socket (cheaper than spawning the CLI). */
  localApi(
    method: string,
    path: string,
    timeoutMs = 10_000,
    body?: string,
  ): Promise<{ status: number; body: string }> {
    return new Promise((resolveReq, rejectReq) => {
      const req = request(
        { socketPath: this.socket, method, path, headers: { Host: LOCALAPI_HOST }, timeout: timeoutMs },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => resolveReq({ status: res.statusCode ?? 0, body: Buffer.concat(chunks).toString('utf8') }));
          res.on('error', rejectReq);
        },
      );
      req.on('timeout', () => req.destroy(new Error(`LocalAPI ${method} ${path} timed out after ${timeoutMs} ms`)));
      req.on('error', rejectReq);
      req.end(body);
    });
  }

  /** Runs `tailscale --socket=<sock> ...args`. Throws on failure unless allowFailure. */
  async cli(args: string[], opts: CliOptions = {}): Promise<CliResult> {
    const timeoutMs = opts.timeoutMs ?? DEFAULT_CLI_TIMEOUT_MS;
    const fullArgs = [`--socket=${this.socket}`, ...args];
    const started = Date.now();
    const child = spawn(this.#bins.tailscale, fullArgs, {
      cwd: this.#dir,
      env: safeEnv(this.#dir, opts.env),
      detached: true,
      stdio: [opts.input === undefined ? 'ignore' : 'pipe', 'pipe', 'pipe'],
    });
    installProcessHandlers();
    liveCliChildren.add(child);
    let timedOut = false;
    let aborted = false;
    const stdout: Buffer[] = [];
    const stderr: Buffer[] = [];
    child.stdout?.on('data', (c: Buffer) => stdout.push(c));
    child.stderr?.on('data', (c: Buffer) => stderr.push(c));
    if (opts.input !== undefined) {
      child.stdin?.on('error', () => {});
      child.stdin?.end(opts.input);
    }
    const timer = setTimeout(() => {
      timedOut = true;
      killGroupSync(child.pid, 'SIGKILL');
    }, timeoutMs);
    const onAbort = () => {
      aborted = true;
      killGroupSync(child.pid, 'SIGKILL');
    };
    if (opts.signal?.aborted) onAbort();
    else opts.signal?.addEventListener('abort', onAbort, { once: true });

    const code = await new Promise<number | null>((resolveCode) => {
      child.once('error', (err) => {
        stderr.push(Buffer.from(`spawn error: ${err.message}\n`));
        resolveCode(null);
      });
      // 'close' (not 'exit'): all output has been read.
      child.once('close', (c) => resolveCode(c));
    });
    clearTimeout(timer);
    opts.signal?.removeEventListener('abort', onAbort);
    liveCliChildren.delete(child);

    const result: CliResult = {
      code,
      stdout: Buffer.concat(stdout).toString('utf8'),
      stderr: Buffer.concat(stderr).toString('utf8'),
      timedOut,
    };
    const how = timedOut ? `killed after ${timeoutMs} ms timeout` : aborted ? 'aborted' : `exit ${code}`;
    await appendFile(
      join(this.#logDir, 'cli.log'),
      `=== ${new Date(started).toISOString()} tailscale ${args.join(' ')} → ${how} (${Date.now() - started} ms)\n` +
        (result.stdout ? `--- stdout\n${result.stdout.replace(/\n?$/, '\n')}` : '') +
        (result.stderr ? `--- stderr\n${result.stderr.replace(/\n?$/, '\n')}` : ''),
    ).catch(() => {});
    if (code !== 0 && !opts.allowFailure) {
      throw new Error(
        `[${this.#name}] tailscale ${args.join(' ')}: ${how}\nstdout: ${result.stdout.trim()}\nstderr: ${result.stderr.trim()}`,
      );
    }
    return result;
  }

  /** `tailscale status --json`, parsed. */
  async status(): Promise<TailscaleStatus> {
    const res = await this.cli(['status', '--json'], { timeoutMs: 15_000, allowFailure: true });
    try {
      return JSON.parse(res.stdout) as TailscaleStatus;
    } catch {
      throw new Error(
        `[${this.#name}] tailscale status --json gave no JSON (exit ${res.code}): ${res.stdout.trim()} ${res.stderr.trim()}`,
      );
    }
  }

  /** `tailscale up --login-server=… --reset --accept-dns=false [--auth-key] [--hostname] [--timeout]`. */
  up(opts: UpOptions): Promise<CliResult> {
    const args = ['up', `--login-server=${opts.loginServer}`, '--reset', '--accept-dns=false'];
    if (opts.authKey !== undefined) args.push(`--auth-key=${opts.authKey}`);
    if (opts.hostname !== undefined) args.push(`--hostname=${opts.hostname}`);
    if (opts.timeoutMs !== undefined) args.push(`--timeout=${Math.max(1, Math.ceil(opts.timeoutMs / 1000))}s`);
    args.push(...(opts.extraArgs ?? []));
    const cliOpts: CliOptions = {
      timeoutMs: opts.timeoutMs !== undefined ? opts.timeoutMs + 15_000 : DEFAULT_CLI_TIMEOUT_MS,
    };
    if (opts.allowFailure !== undefined) cliOpts.allowFailure = opts.allowFailure;
    if (opts.signal !== undefined) cliOpts.signal = opts.signal;
    return this.cli(args, cliOpts);
  }

  /**
   * Polls status() until `predicate` returns true (or a truthy value, which
   * is returned). Throws after timeoutMs with the last status seen.
   */
  async waitFor<T>(
    predicate: (status: TailscaleStatus) => T | Promise<T>,
    timeoutMs = 30_000,
    intervalMs = 250,
  ): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    let last: TailscaleStatus | string = 'no status yet';
    for (;;) {
      try {
        const status = await this.status();
        last = status;
        const result = await predicate(status);
        if (result) return result;
      } catch (err) {
        last = `error: ${(err as Error).message}`;
      }
      if (!this.running) throw new Error(`[${this.#name}] tailscaled is not running (waitFor)`);
      if (Date.now() + intervalMs > deadline) {
        const summary =
          typeof last === 'string'
            ? last
            : JSON.stringify({ BackendState: last.BackendState, Health: last.Health, AuthURL: last.AuthURL });
        throw new Error(`[${this.#name}] waitFor timed out after ${timeoutMs} ms; last status: ${summary}`);
      }
      await sleep(intervalMs);
    }
  }

  /** Stops the daemon and starts it again with the same state directory. */
  async restart(): Promise<void> {
    await this.stop();
    await this.#spawn();
  }

  /** SIGTERM, then SIGKILL after 5 s; resolves once the process has exited. Idempotent. */
  stop(): Promise<void> {
    const child = this.#child;
    if (!child || this.#exitInfo) return Promise.resolve();
    this.#stopping ??= (async () => {
      child.ref(); // keep the event loop alive until the exit is observed
      killGroupSync(child.pid, 'SIGTERM');
      const timer = setTimeout(() => killGroupSync(child.pid, 'SIGKILL'), STOP_GRACE_MS);
      await this.#exited;
      clearTimeout(timer);
      // Stragglers in the group (tailscaled spawns none today) go too.
      killGroupSync(child.pid, 'SIGKILL');
      appendFileSync(
        this.logPath,
        `=== harness: ${new Date().toISOString()} tailscaled exited (code ${this.#exitInfo?.code}, signal ${this.#exitInfo?.signal})\n`,
      );
    })();
    return this.#stopping;
  }

  /** The daemon's log (stdout+stderr of every run, with harness markers). */
  logs(): string {
    try {
      return readFileSync(this.logPath, 'utf8');
    } catch {
      return '';
    }
  }

  /** Copies the node's files (minus the socket) to `dest`. */
  async saveArtifacts(dest: string): Promise<void> {
    await rm(dest, { recursive: true, force: true });
    await mkdir(dest, { recursive: true });
    const copy = (from: string) =>
      cp(from, dest, {
        recursive: true,
        filter: (src) => {
          try {
            const st = statSync(src);
            return st.isFile() || st.isDirectory();
          } catch {
            return false;
          }
        },
      });
    await copy(this.#dir);
    if (!this.#ownsLogDir) await copy(this.#logDir);
  }

  /** Stops the daemon and deletes its temp directory (a caller-provided logDir is kept). */
  async dispose(): Promise<void> {
    await this.stop();
    await rm(this.#dir, { recursive: true, force: true });
  }
}

/** Starts a tailscaled; see TailscaleNode. Not tied to a test: stop() it (or use a Harness). */
export function startTailscaled(opts: StartTailscaledOptions): Promise<TailscaleNode> {
  return TailscaleNode.start(opts);
}

// ─── Per-test harness ─────────────────────────────────────────────────────────

export function testResultsDir(): string {
  return process.env['SWITCHBOARD_TEST_RESULTS'] || join(REPO_ROOT, 'test-results');
}

/** The nodes of one test. Created by withHarness()/harnessTest(). */
export class Harness {
  readonly #testName: string;
  readonly #version: string;
  readonly #nodes: TailscaleNode[] = [];
  #closing: Promise<string | null> | null = null;

  constructor(testName: string, version: string = DEFAULT_TAILSCALE_VERSION) {
    this.#testName = testName;
    this.#version = version;
  }

  get testName(): string {
    return this.#testName;
  }
  get nodes(): readonly TailscaleNode[] {
    return this.#nodes;
  }
  /** Where this test's artifacts go if it fails. */
  get resultsDir(): string {
    return join(testResultsDir(), sanitizeName(this.#testName));
  }

  /** Starts a daemon owned by this harness. Node names must be unique within the test. */
  async startNode(opts: StartTailscaledOptions): Promise<TailscaleNode> {
    if (this.#closing) throw new Error(`harness for "${this.#testName}" is already closed`);
    if (this.#nodes.some((n) => n.name === opts.name)) throw new Error(`duplicate node name "${opts.name}"`);
    const node = await TailscaleNode.start({ version: this.#version, ...opts });
    this.#nodes.push(node);
    return node;
  }

  /** Starts `count` nodes named `${prefix}1..count` in parallel. */
  startNodes(count: number, opts: Omit<StartTailscaledOptions, 'name'> & { prefix?: string } = {}): Promise<TailscaleNode[]> {
    const { prefix = 'node', ...rest } = opts;
    return Promise.all(Array.from({ length: count }, (_, i) => this.startNode({ ...rest, name: `${prefix}${i + 1}` })));
  }

  /**
   * Stops every node. If `failed`, copies their files to resultsDir, prints
   * the path and returns it; otherwise deletes their temp dirs and returns
   * null. Idempotent: later calls return the first call's result.
   */
  close(failed: boolean): Promise<string | null> {
    this.#closing ??= (async () => {
      await Promise.all(this.#nodes.map((n) => n.stop()));
      if (!failed) {
        await Promise.all(this.#nodes.map((n) => n.dispose()));
        return null;
      }
      const dest = this.resultsDir;
      for (const node of this.#nodes) {
        try {
          await node.saveArtifacts(join(dest, sanitizeName(node.name)));
        } catch (err) {
          process.stderr.write(`[tailscale harness] could not save logs of ${node.name}: ${(err as Error).message}\n`);
        }
        await node.dispose();
      }
      if (this.#nodes.length > 0) {
        process.stderr.write(`[tailscale harness] test "${this.#testName}" failed; tailscaled logs saved in ${dest}\n`);
      }
      return dest;
    })();
    return this.#closing;
  }
}

export interface WithHarnessOptions {
  /** Name for test-results/ (default: the test's name). */
  name?: string;
  version?: string;
}

/**
 * Runs `fn` with a fresh Harness and cleans up as described at the top of
 * this file. Resolves/rejects like `fn`.
 */
export async function withHarness<T>(
  t: TestContext,
  fn: (h: Harness, t: TestContext) => T | Promise<T>,
  opts: WithHarnessOptions = {},
): Promise<T> {
  const name = opts.name ?? (t as { fullName?: string }).fullName ?? t.name;
  const h = new Harness(name, opts.version);
  // Only does something if fn never settled (timeout, cancellation).
  t.after(async () => {
    await h.close(true);
  });
  let result: T;
  try {
    result = await fn(h, t);
  } catch (err) {
    await h.close(true);
    throw err;
  }
  await h.close(false);
  return result;
}

export type HarnessTestOptions = TestOptions & { version?: string };

/** node:test `test()` with the tailscale prerequisite check and a Harness. */
export function harnessTest(
  name: string,
  fn: (h: Harness, t: TestContext) => void | Promise<void>,
  options: HarnessTestOptions = {},
): Promise<void> {
  const { version, ...testOptions } = options;
  return test(name, testOptions, async (t) => {
    if (!requireTailscale(t, version)) return;
    await withHarness(t, fn, version === undefined ? {} : { version });
  });
}
