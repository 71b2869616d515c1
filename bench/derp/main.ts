// DERP relay benchmark: Switchboard's built-in relay side by side with Tailscale's derper.
//
//   npm run bench:derp                      # the whole run (about 5 minutes), prints a table
//   npm run bench:derp -- --quick           # shorter windows, one repeat
//   npm run bench:derp -- --help
//
// Both servers run on loopback as separate processes, plain HTTP, no STUN:
//   switchboard  `node <build>/cli/main.js -c config.yaml serve` (the real server: SQLite, the
//                main listener, DERP via the HTTP Upgrade on /derp), built from this checkout
//                into .cache/derp-bench/ so the shared dist/ is left alone;
//   derper       tailscale.com/cmd/derper@v1.102.3 (scripts/build-derper.sh), `-a 127.0.0.1:P`.
// The load comes from one client binary for both (bench/derp/loadclient, Go, Tailscale's own
// derp package for the handshake): N sender/receiver pairs, 1,280-byte packets, senders either
// unpaced (as fast as TCP lets them write) or paced at a fixed total offered rate. Receivers
// count what arrives; loss = sent - received after a drain period. Server CPU seconds come from
// /proc/<pid>/stat over the measurement window, and the client reports its own CPU time.
//
// Runs are interleaved (switchboard, derper, switchboard, ...) so background load on the machine
// hits both alike; each cell of the table is the median of the repeats, with the range.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import readline from 'node:readline';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { stringify } from 'yaml';
import { freePort } from '../../test/support/ports.js';
import { procStats } from '../lib/proc.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
const CACHE = path.join(REPO, '.cache/derp-bench');
const DERPER_VERSION = 'v1.102.3';

const HELP = `usage: npm run bench:derp -- [options]
  --quick              3 s windows, 1 repeat, a shorter sweep
  --repeats N          runs per cell (default 3)
  --duration S         measurement window, seconds (default 5)
  --warmup S           load before the window, seconds (default 2)
  --pairs N            sender/receiver pairs (default 4)
  --size B             packet bytes (default 1280)
  --rates LIST         offered packets/s (total) for the paced sweep, comma-separated, or none
                       (default 25000,50000,100000,200000,300000)
  --servers LIST       switchboard,derper (default both)
  --pin                server on CPU 0, load client on CPU 1 (default: no pinning)
  --no-build           use the existing builds in .cache/
  --switchboard-build DIR
                       run DIR/dist/cli/main.js instead of building this checkout (before/after
                       comparisons: copy .cache/derp-bench/switchboard aside first)
  --cpu-prof DIR       run switchboard under node --cpu-prof, profiles written to DIR on exit
  --json FILE          also write every run as JSON
  --report FILE        print the table of an earlier --json FILE (runs nothing)
`;

interface Opts {
  repeats: number;
  duration: number;
  warmup: number;
  pairs: number;
  size: number;
  rates: number[];
  servers: ServerKind[];
  pin: boolean;
  build: boolean;
  json: string | undefined;
  cpuProf: string | undefined;
  switchboardBuild: string | undefined;
}

type ServerKind = 'switchboard' | 'derper';

function parseOpts(): Opts {
  const { values } = parseArgs({
    options: {
      quick: { type: 'boolean', default: false },
      repeats: { type: 'string' },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      pairs: { type: 'string' },
      size: { type: 'string' },
      rates: { type: 'string' },
      servers: { type: 'string' },
      pin: { type: 'boolean', default: false },
      'no-build': { type: 'boolean', default: false },
      json: { type: 'string' },
      'cpu-prof': { type: 'string' },
      'switchboard-build': { type: 'string' },
      report: { type: 'string' },
      help: { type: 'boolean', default: false },
    },
  });
  if (values.help) {
    process.stdout.write(HELP);
    process.exit(0);
  }
  if (values.report !== undefined) {
    const saved = JSON.parse(fs.readFileSync(values.report, 'utf8')) as { machine: string; options: Opts; runs: Run[] };
    process.stdout.write(`${saved.machine}\n\n${table(saved.runs, saved.options)}\n`);
    process.exit(0);
  }
  const num = (v: string | undefined, d: number): number => {
    if (v === undefined) return d;
    const n = Number(v);
    if (!Number.isFinite(n) || n <= 0) throw new Error(`bad number: ${v}`);
    return n;
  };
  const quick = values.quick === true;
  const servers = (values.servers ?? 'switchboard,derper').split(',').map((s) => s.trim());
  for (const s of servers) if (s !== 'switchboard' && s !== 'derper') throw new Error(`unknown server: ${s}`);
  return {
    repeats: num(values.repeats, quick ? 1 : 3),
    duration: num(values.duration, quick ? 3 : 5),
    warmup: num(values.warmup, quick ? 1 : 2),
    pairs: num(values.pairs, 4),
    size: num(values.size, 1280),
    rates: values.rates === 'none' ? [] : (values.rates ?? (quick ? '50000,200000' : '25000,50000,100000,200000,300000')).split(',').map((r) => num(r, 0)),
    servers: servers as ServerKind[],
    pin: values.pin === true,
    build: values['no-build'] !== true,
    json: values.json,
    cpuProf: values['cpu-prof'] === undefined ? undefined : path.resolve(values['cpu-prof']),
    switchboardBuild: values['switchboard-build'] === undefined ? undefined : path.resolve(values['switchboard-build']),
  };
}

// ---------------------------------------------------------------------------------------------
// Builds

interface Builds {
  derper: string;
  derpload: string;
  switchboardMain: string;
}

function log(msg: string): void {
  process.stderr.write(`bench:derp: ${msg}\n`);
}

function build(doBuild: boolean, buildSwitchboard: boolean): Builds {
  const derpload = path.join(CACHE, 'derpload');
  const sbDir = path.join(CACHE, 'switchboard');
  const switchboardMain = path.join(sbDir, 'dist/cli/main.js');
  let derper = path.join(REPO, '.cache/derper', DERPER_VERSION, 'derper');
  if (doBuild) {
    const out = execFileSync('bash', [path.join(REPO, 'scripts/build-derper.sh'), DERPER_VERSION], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
    derper = path.join(out.trim().split('\n').pop()!, 'derper');
    log('building the load client (bench/derp/loadclient)');
    fs.mkdirSync(CACHE, { recursive: true });
    execFileSync('go', ['build', '-buildvcs=false', '-o', derpload, '.'], {
      cwd: path.join(REPO, 'bench/derp/loadclient'),
      env: { ...process.env, GOTOOLCHAIN: 'local' },
      stdio: 'inherit',
    });
    // The server from this checkout's sources, compiled as `npm run build` does but into a
    // private directory (package.json beside it for "type": "module" and the version).
    if (buildSwitchboard) {
      log('building switchboard into .cache/derp-bench/switchboard');
      fs.rmSync(path.join(sbDir, 'dist'), { recursive: true, force: true });
      try {
        execFileSync(process.execPath, [path.join(REPO, 'node_modules/typescript/bin/tsc'), '-p', path.join(REPO, 'tsconfig.build.json'), '--outDir', path.join(sbDir, 'dist')], {
          cwd: REPO,
          stdio: 'inherit',
        });
      } catch (err) {
        // tsc still emits when it finds type errors (say, someone's half-done edit elsewhere).
        if (!fs.existsSync(switchboardMain)) throw err;
        log('tsc reported errors (above); benchmarking what it emitted');
      }
      fs.copyFileSync(path.join(REPO, 'package.json'), path.join(sbDir, 'package.json'));
    }
  }
  for (const f of [derper, derpload]) if (!fs.existsSync(f)) throw new Error(`missing ${f}: run without --no-build`);
  return { derper, derpload, switchboardMain };
}

// ---------------------------------------------------------------------------------------------
// Servers

class Server {
  log = '';
  constructor(
    readonly kind: ServerKind,
    readonly port: number,
    readonly dir: string,
    readonly child: ChildProcess,
  ) {
    child.stdout?.on('data', (d) => (this.log = (this.log + String(d)).slice(-20_000)));
    child.stderr?.on('data', (d) => (this.log = (this.log + String(d)).slice(-20_000)));
  }

  get pid(): number {
    return this.child.pid!;
  }

  async waitReady(): Promise<void> {
    const deadline = Date.now() + 30_000;
    for (;;) {
      if (this.child.exitCode !== null) throw new Error(`${this.kind} exited with ${this.child.exitCode}:\n${this.log}`);
      try {
        if ((await fetch(`http://127.0.0.1:${this.port}/derp/probe`)).ok) return;
      } catch {
        // not up yet
      }
      if (Date.now() > deadline) throw new Error(`${this.kind} did not start:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async stop(): Promise<void> {
    if (this.child.exitCode === null && this.child.signalCode === null) {
      const exited = new Promise<void>((r) => this.child.once('exit', () => r()));
      this.child.kill('SIGTERM');
      const t = setTimeout(() => this.child.kill('SIGKILL'), 5000);
      await exited;
      clearTimeout(t);
    }
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}

function pinned(cpu: number | undefined, cmd: string, args: string[]): [string, string[]] {
  return cpu === undefined ? [cmd, args] : ['taskset', ['-c', String(cpu), cmd, ...args]];
}

async function startDerper(bin: string, cpu: number | undefined): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'derp-bench-derper-'));
  const port = await freePort();
  // Plain HTTP: the port is not 443 and -certmode is not manual. No STUN, no port-80 listener.
  const args = ['-a', `127.0.0.1:${port}`, '-stun=false', '-http-port=-1', '-c', path.join(dir, 'derper.key'), '-mesh-psk-file=', '-home=blank'];
  const [cmd, argv] = pinned(cpu, bin, args);
  const s = new Server('derper', port, dir, spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] }));
  await s.waitReady();
  return s;
}

async function startSwitchboard(main: string, cpu: number | undefined, cpuProf: string | undefined): Promise<Server> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'derp-bench-switchboard-'));
  const port = await freePort();
  const config = {
    server_url: `http://127.0.0.1:${port}`,
    listen_addr: `127.0.0.1:${port}`,
    metrics_listen_addr: '',
    grpc_listen_addr: '',
    noise: { private_key_path: path.join(dir, 'noise_private.key') },
    unix_socket: path.join(dir, 'sb.sock'),
    prefixes: { v4: '100.64.0.0/10', v6: 'fd7a:115c:a1e0::/48' },
    database: { type: 'sqlite', sqlite: { path: path.join(dir, 'db.sqlite') } },
    dns: { magic_dns: false, override_local_dns: false },
    derp: {
      server: {
        enabled: true,
        region_id: 999,
        region_code: 'bench',
        region_name: 'DERP benchmark',
        stun_listen_addr: '127.0.0.1:0', // required when DERP is on; port 0 = any free one
        private_key_path: path.join(dir, 'derp_server_private.key'),
        // derper's default too: the load clients are not nodes of this tailnet.
        verify_clients: false,
      },
      urls: [],
    },
    log: { level: 'warn' },
  };
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, stringify(config));
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (/^(SWITCHBOARD|HEADSCALE)_/.test(k)) delete env[k];
  const prof = cpuProf ? ['--cpu-prof', '--cpu-prof-dir', cpuProf] : [];
  const [cmd, argv] = pinned(cpu, process.execPath, [...prof, main, '-c', configPath, 'serve']);
  const s = new Server('switchboard', port, dir, spawn(cmd, argv, { env, stdio: ['ignore', 'pipe', 'pipe'] }));
  await s.waitReady();
  return s;
}

// ---------------------------------------------------------------------------------------------
// One load run

interface LoadResult {
  pairs: number;
  size: number;
  offeredPps: number;
  windowSec: number;
  window: { sent: number; received: number; recvBytes: number };
  total: { sent: number; received: number; recvBytes: number };
  lost: number;
  badFrames: number;
  reordered: number;
  peerGone: number;
  packetsPerWrite: number;
  clientCpuSec: number;
}

interface Run {
  server: ServerKind;
  scenario: string;
  offeredPps: number; // 0 = unpaced
  sentPps: number;
  pps: number;
  gbps: number;
  lossPct: number;
  lost: number;
  sent: number;
  serverCores: number;
  serverCpuSecPerGB: number;
  clientCores: number;
  serverRssMiB: number;
  packetsPerWrite: number;
  received: number;
  badFrames: number;
  reordered: number;
}

function runLoad(b: Builds, server: Server, o: Opts, rate: number, scenario: string): Promise<Run> {
  const args = ['-addr', `127.0.0.1:${server.port}`, '-pairs', String(o.pairs), '-size', String(o.size), '-warmup', `${o.warmup}s`, '-duration', `${o.duration}s`, '-rate', String(rate)];
  const [cmd, argv] = pinned(o.pin ? 1 : undefined, b.derpload, args);
  const child = spawn(cmd, argv, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let cpu0 = 0;
  let cpu1 = 0;
  let rss = 0;
  child.stdout.on('data', (d) => (out += d));
  readline.createInterface({ input: child.stderr }).on('line', (line) => {
    if (line === 'window-start') cpu0 = procStats(server.pid).cpuSeconds;
    else if (line === 'window-end') ({ cpuSeconds: cpu1, rssBytes: rss } = procStats(server.pid));
    else err += line + '\n';
  });
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`load client exited with ${code}: ${err}`));
      const r = JSON.parse(out) as LoadResult;
      const cpu = cpu1 - cpu0;
      const gb = r.window.recvBytes / 1e9;
      resolve({
        server: server.kind,
        scenario,
        offeredPps: rate,
        sentPps: r.window.sent / r.windowSec,
        pps: r.window.received / r.windowSec,
        gbps: (r.window.recvBytes * 8) / r.windowSec / 1e9,
        lost: r.lost,
        sent: r.total.sent,
        lossPct: r.total.sent > 0 ? (100 * r.lost) / r.total.sent : 0,
        serverCores: cpu / r.windowSec,
        serverCpuSecPerGB: gb > 0 ? cpu / gb : NaN,
        clientCores: r.clientCpuSec / r.windowSec,
        serverRssMiB: rss / 2 ** 20,
        packetsPerWrite: r.packetsPerWrite,
        received: r.total.received,
        badFrames: r.badFrames,
        reordered: r.reordered,
      });
    });
  });
}

// ---------------------------------------------------------------------------------------------
// Report

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

function cell(xs: number[], fmt: (n: number) => string): string {
  const med = fmt(median(xs));
  if (xs.length < 2) return med;
  const lo = fmt(Math.min(...xs));
  const hi = fmt(Math.max(...xs));
  return lo === hi ? med : `${med} (${lo}–${hi})`;
}

const f0 = (n: number): string => Math.round(n).toLocaleString('en-US');
const f2 = (n: number): string => n.toFixed(2);
const f3 = (n: number): string => n.toFixed(3);
const fk = (n: number): string => `${(n / 1000).toFixed(1)}k`;
const fpct = (n: number): string => (n === 0 ? '0' : n < 0.01 ? n.toFixed(4) : n.toFixed(2)) + ' %';

function table(runs: Run[], o: Opts): string {
  const groups = new Map<string, Run[]>();
  for (const r of runs) {
    const k = `${r.scenario}\u0000${r.server}`;
    const g = groups.get(k);
    if (g) g.push(r);
    else groups.set(k, [r]);
  }
  const lines = [
    '| load | server | sent pkt/s | delivered pkt/s | Gbit/s (payload) | loss | server CPU (cores) | server CPU s/GB | server RSS MiB | client CPU (cores) |',
    '|---|---|---|---|---|---|---|---|---|---|',
  ];
  for (const [k, g] of groups) {
    const [scenario, server] = k.split('\u0000') as [string, string];
    lines.push(
      `| ${scenario} | ${server} | ${cell(g.map((r) => r.sentPps), f0)} | ` +
        `${cell(g.map((r) => r.pps), f0)} | ${cell(g.map((r) => r.gbps), f3)} | ${cell(g.map((r) => r.lossPct), fpct)} | ` +
        `${cell(g.map((r) => r.serverCores), f2)} | ${cell(g.map((r) => r.serverCpuSecPerGB), f2)} | ${cell(g.map((r) => r.serverRssMiB), f0)} | ` +
        `${cell(g.map((r) => r.clientCores), f2)} |`,
    );
  }
  const ratio = (scenario: string, pick: (r: Run) => number): string | undefined => {
    const a = runs.filter((r) => r.scenario === scenario && r.server === 'switchboard').map(pick);
    const d = runs.filter((r) => r.scenario === scenario && r.server === 'derper').map(pick);
    if (a.length === 0 || d.length === 0) return undefined;
    return (median(a) / median(d)).toFixed(2);
  };
  const out = [lines.join('\n'), ''];
  // Throughput = the best delivered rate (median of the repeats) over every load tried.
  const peak = new Map<string, { pps: number; gbps: number; scenario: string }>();
  for (const [k, g] of groups) {
    const [scenario, server] = k.split('\u0000') as [string, string];
    const pps = median(g.map((r) => r.pps));
    if (pps > (peak.get(server)?.pps ?? -1)) peak.set(server, { pps, gbps: median(g.map((r) => r.gbps)), scenario });
  }
  for (const [server, p] of peak) out.push(`peak delivered, ${server}: ${f0(p.pps)} pkt/s = ${f3(p.gbps)} Gbit/s (${p.scenario})`);
  const ps = peak.get('switchboard');
  const pd = peak.get('derper');
  if (ps && pd) out.push(`throughput ratio switchboard / derper (peak delivered): ${(ps.pps / pd.pps).toFixed(2)}x`);
  // Below saturation: the highest paced rate carried in full (nothing lost, and the senders not
  // held back by TCP flow control either) in every repeat.
  for (const server of new Set(runs.map((r) => r.server))) {
    let best: number | undefined;
    for (const rate of o.rates) {
      const g = runs.filter((r) => r.server === server && r.offeredPps === rate);
      if (g.length > 0 && g.every((r) => r.lost === 0 && r.pps >= 0.99 * rate)) best = Math.max(best ?? 0, rate);
    }
    out.push(`highest paced rate carried in full (no loss, >= 99 % delivered) in every repeat, ${server}: ${best === undefined ? 'none of those tried' : `${f0(best)} pkt/s`}`);
  }
  for (const server of new Set(runs.map((r) => r.server))) {
    const g = runs.filter((r) => r.server === server);
    const sum = (f: (r: Run) => number) => g.reduce((n, r) => n + f(r), 0);
    out.push(
      `integrity, ${server}: ${f0(sum((r) => r.received))} packets received intact, ${f0(sum((r) => r.reordered))} out of order, ` +
        `${f0(sum((r) => r.badFrames))} wrong size/source/contents`,
    );
  }
  for (const scenario of new Set(runs.map((r) => r.scenario))) {
    const t = ratio(scenario, (r) => r.pps);
    if (t) out.push(`switchboard / derper, ${scenario}: delivered ${t}x, server CPU per GB ${ratio(scenario, (r) => r.serverCpuSecPerGB)}x`);
  }
  return out.join('\n');
}

function machine(o: Opts): string {
  const cpus = os.cpus();
  return (
    `${cpus.length} x ${cpus[0]?.model ?? '?'}, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, Linux ${os.release()}, Node ${process.version}, ` +
    `${execFileSync('go', ['version'], { encoding: 'utf8' }).trim()}; ${o.pairs} pairs, ${o.size}-byte packets, ${o.duration} s windows after ${o.warmup} s warm-up, ` +
    `${o.repeats} repeat(s)${o.pin ? ', server pinned to CPU 0 and client to CPU 1' : ', no CPU pinning'}; load average at start ${os.loadavg().map((l) => l.toFixed(2)).join(' ')}`
  );
}

// ---------------------------------------------------------------------------------------------

async function main(): Promise<void> {
  const o = parseOpts();
  const b = build(o.build, o.switchboardBuild === undefined);
  if (o.switchboardBuild) b.switchboardMain = path.join(o.switchboardBuild, 'dist/cli/main.js');
  if (o.servers.includes('switchboard') && !fs.existsSync(b.switchboardMain)) throw new Error(`missing ${b.switchboardMain}`);
  const header = machine(o);
  log(header);
  const servers: Server[] = [];
  const runs: Run[] = [];
  try {
    for (const kind of o.servers) {
      servers.push(kind === 'switchboard' ? await startSwitchboard(b.switchboardMain, o.pin ? 0 : undefined, o.cpuProf) : await startDerper(b.derper, o.pin ? 0 : undefined));
    }
    const scenarios: [string, number][] = [['unpaced', 0], ...o.rates.map((r): [string, number] => [`paced ${fk(r)}`, r])];
    for (let rep = 0; rep < o.repeats; rep++) {
      for (const [scenario, rate] of scenarios) {
        // Alternate which server goes first so slow drift in background load evens out.
        const order = rep % 2 === 0 ? servers : [...servers].reverse();
        for (const s of order) {
          const r = await runLoad(b, s, o, rate, scenario);
          runs.push(r);
          log(
            `${rep + 1}/${o.repeats} ${scenario.padEnd(12)} ${s.kind.padEnd(11)} sent ${f0(r.sentPps)}/s delivered ${f0(r.pps)}/s ` +
              `${f3(r.gbps)} Gbit/s loss ${fpct(r.lossPct)} server ${f2(r.serverCores)} cores client ${f2(r.clientCores)} cores`,
          );
        }
      }
    }
  } finally {
    for (const s of servers) await s.stop();
  }
  const report = table(runs, o);
  process.stdout.write(`\n${header}\n\n${report}\n`);
  if (o.json) fs.writeFileSync(o.json, JSON.stringify({ machine: header, options: o, runs }, null, 2));
}

await main();
