// The load benchmark's command: for each N and each server, start the server from the shared
// config, join N simulated nodes and run the scenarios; print a table per scenario with the
// headscale/Switchboard ratios, and merge the numbers into a results file (for the charts).
//
//   node --import tsx bench/load/main.ts --n 1000,10000 --servers switchboard,headscale
//     [--scenarios join,first-map,churn,policy,reconnect] [--churn-rate 10[,2,...]] [--churn-seconds 15]
//     [--workers 3] [--concurrency 64] [--timeout 300] [--out bench/results/load.json] [--charts docs/img]
//
// A server whose join storm does not complete at some N is not run at larger N.

import fs from 'node:fs';
import path from 'node:path';
import { parseArgs } from 'node:util';
import { renderCharts } from './chart.js';
import { Fleet } from './fleet.js';
import { churn, firstFullMap, joinStorm, policyChange, reconnectStorm, type Measured } from './scenarios.js';
import { procStats } from '../lib/proc.js';
import { ServerUnderTest, type ServerKind } from './servers.js';

const { values } = parseArgs({
  options: {
    n: { type: 'string', default: '1000' },
    servers: { type: 'string', default: 'switchboard,headscale' },
    scenarios: { type: 'string', default: 'join,first-map,churn,policy,reconnect' },
    'churn-rate': { type: 'string', default: '10' },
    'churn-seconds': { type: 'string', default: '15' },
    workers: { type: 'string', default: '3' },
    concurrency: { type: 'string', default: '64' },
    timeout: { type: 'string', default: '300' },
    out: { type: 'string', default: 'bench/results/load.json' },
    charts: { type: 'string', default: 'docs/img' },
  },
});

const sizes = values.n.split(',').map(Number);
const servers = values.servers.split(',') as ServerKind[];
const scenarios = new Set(values.scenarios.split(','));
const timeoutMs = Number(values.timeout) * 1000;
const churnRates = values['churn-rate'].split(',').map(Number);
const SETTLE_MS = 3000;
type Results = Record<string, Record<string, Record<string, Measured>>>; // scenario -> N -> server -> numbers

async function runOne(kind: ServerKind, n: number): Promise<Record<string, Measured>> {
  const out: Record<string, Measured> = {};
  const server = await ServerUnderTest.create(kind);
  const fleet = new Fleet(n, Number(values.workers));
  const late = new Fleet(1, 1);
  const log = (name: string, m: Measured): void => {
    out[name] = m;
    process.stderr.write(`  ${kind} N=${n} ${name}: ${JSON.stringify(m)}\n`);
  };
  try {
    const step = (what: string): void => void process.stderr.write(`  ${kind} N=${n}: ${what}\n`);
    await server.start();
    step(`server up (pid ${server.pid}) on port ${server.port}`);
    const authKey = await server.authKey();
    const target = { host: '127.0.0.1', port: server.port, serverKey: await server.serverKey() };
    step('pre-auth key made');
    await fleet.init(target, Math.max(1, Math.floor(n / 20)));
    await late.init(target, 1, n);
    step(`${n} nodes joining`);
    const join = await joinStorm(server, fleet, authKey, Number(values.concurrency), timeoutMs);
    log('join', join);
    if (!join.completed) return out;
    // The join ends when every node has its own full map; older nodes hear of the last joiners
    // up to a batch window later (a second at most here, 800 ms in headscale). The other
    // scenarios start on a settled tailnet.
    await new Promise((r) => setTimeout(r, SETTLE_MS));
    if (scenarios.has('first-map')) log('first-map', await firstFullMap(server, late, authKey, n));
    // The policy change leaves a full-mesh policy in force, under which the churn then runs.
    if (scenarios.has('policy')) log('policy', await policyChange(server, fleet, 1, timeoutMs));
    // Several rates (--churn-rate 2,1,0.5): the first is 'churn' (charted), the others 'churn at k/s'.
    if (scenarios.has('churn')) {
      for (const [i, rate] of churnRates.entries()) log(i === 0 ? 'churn' : `churn at ${rate}/s`, await churn(server, fleet, rate, Number(values['churn-seconds'])));
    }
    if (scenarios.has('reconnect')) {
      await late.stop();
      log('reconnect', await reconnectStorm(server, fleet, timeoutMs));
    }
    // The run's peak: after a reconnect storm the process is a new one, whose VmHWM covers only
    // its own life, so the peaks each scenario recorded count too.
    const s = procStats(server.pid);
    const peaks = Object.values(out).map((m) => (typeof m.peakRssMiB === 'number' ? m.peakRssMiB : 0));
    const peakRssMiB = Math.max(Math.round(s.peakRssBytes / 2 ** 20), ...peaks);
    out.server = { completed: true, peakRssMiB, clientRssMiB: Math.round((await fleet.status()).rss / 2 ** 20) };
  } catch (err) {
    out.error = { completed: false, note: (err as Error).message.slice(0, 500) };
    process.stderr.write(`  ${kind} N=${n} failed: ${(err as Error).message}\n${server.log.slice(-3000)}\n`);
  } finally {
    await late.stop().catch(() => undefined);
    await fleet.stop();
    await server.close();
  }
  return out;
}

/** Counts, not figures of merit: no ratio. */
const NEUTRAL = new Set(['changes', 'nodesWithMap', 'peersInFirstMap', 'clientRssMiB', 'clientCpuSeconds']);

function table(results: Results, n: number): string {
  const lines: string[] = [];
  for (const [scenario, byN] of Object.entries(results)) {
    const row = byN[String(n)];
    if (!row) continue;
    const metrics = [...new Set(Object.values(row).flatMap((m) => Object.keys(m)))].filter((k) => k !== 'completed' && k !== 'note');
    lines.push(`\n### ${scenario}, N = ${n}\n`);
    lines.push(`| metric | ${servers.join(' | ')} |${servers.length === 2 ? ' ratio |' : ''}`);
    lines.push(`|---|${servers.map(() => '---:').join('|')}|${servers.length === 2 ? '---:|' : ''}`);
    for (const k of metrics) {
      const v = servers.map((s) => row[s]?.[k]);
      const [a, b] = v as Array<number | undefined>;
      const comparable = servers.length === 2 && !NEUTRAL.has(k) && typeof a === 'number' && typeof b === 'number' && a > 0 && b > 0;
      const ratio = comparable ? (k.endsWith('PerSecond') ? a / b : b / a) : undefined;
      lines.push(`| ${k} | ${v.map((x) => (x === undefined ? '–' : String(x))).join(' | ')} |${servers.length === 2 ? ` ${ratio ? ratio.toFixed(1) + 'x' : '–'} |` : ''}`);
    }
    for (const s of servers) {
      const m = row[s];
      if (m && (!m.completed || m.note)) lines.push(`\n${s}: ${m.completed ? '' : 'did not complete. '}${m.note ?? ''}`);
    }
  }
  return lines.join('\n');
}

const outPath = path.resolve(values.out);
const results: Results = fs.existsSync(outPath) ? (JSON.parse(fs.readFileSync(outPath, 'utf8')) as Results) : {};
const gaveUp = new Map<ServerKind, number>(); // server -> N at which its join storm did not complete
for (const n of sizes) {
  for (const kind of servers) {
    process.stderr.write(`${kind}, N = ${n}\n`);
    const failedAt = gaveUp.get(kind);
    const got =
      failedAt === undefined
        ? await runOne(kind, n)
        : { join: { completed: false, note: `not run: the join storm did not complete at N = ${failedAt}` } };
    if (failedAt === undefined && got.join?.completed !== true) gaveUp.set(kind, n);
    for (const [scenario, m] of Object.entries(got)) {
      ((results[scenario] ??= {})[String(n)] ??= {})[kind] = m;
    }
    fs.mkdirSync(path.dirname(outPath), { recursive: true });
    fs.writeFileSync(outPath, JSON.stringify(results, null, 1) + '\n');
  }
  process.stdout.write(table(results, n) + '\n');
}
for (const f of renderCharts(results, values.charts)) process.stderr.write(`wrote ${f}\n`);
process.stdout.write(`\n(ratio: how many times better Switchboard is; results merged into ${path.relative(process.cwd(), outPath)})\n`);
// A scenario that failed midway (a server that did not come back) may leave a handle open.
process.exit(0);
