// The load scenarios, each against one running server and one fleet of simulated nodes:
// join storm, first full map of a late joiner, steady endpoint churn, a policy change fanned
// out to all, and a reconnect storm after a server restart. Each returns plain numbers and
// whether it completed within its deadline; nothing here knows which server it is talking to.

import type { Fleet } from './fleet.js';
import type { ServerUnderTest } from './servers.js';
import { now } from './sim-node.js';

export interface Measured {
  completed: boolean;
  note?: string;
  [metric: string]: number | boolean | string | undefined;
}

export function percentile(values: number[], p: number): number {
  if (values.length === 0) return NaN;
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.max(0, Math.ceil((p / 100) * sorted.length) - 1))]!;
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

async function until(deadline: number, check: () => Promise<boolean>): Promise<boolean> {
  while (Date.now() < deadline) {
    if (await check()) return true;
    await sleep(200);
  }
  return check();
}

/** Server CPU, the simulated nodes' CPU (the same two cores) and bytes received around a scenario. */
async function metered(server: ServerUnderTest, fleet: Fleet, fn: () => Promise<Measured>): Promise<Measured> {
  const before = server.stats();
  const fleetBefore = await fleet.status();
  const result = await fn();
  const after = server.stats();
  const fleetAfter = await fleet.status();
  result.serverCpuSeconds = round(after.cpuSeconds - before.cpuSeconds, 2);
  result.clientCpuSeconds = round(cpuSeconds(fleetAfter.cpu) - cpuSeconds(fleetBefore.cpu), 2);
  result.peakRssMiB = round(after.peakRssBytes / 2 ** 20, 0);
  result.bytesSentMiB = round((fleetAfter.bytesRead - fleetBefore.bytesRead) / 2 ** 20, 1);
  return result;
}

function cpuSeconds(cpu: { user: number; system: number }): number {
  return (cpu.user + cpu.system) / 1e6;
}

function round(x: number, digits: number): number {
  const f = 10 ** digits;
  return Math.round(x * f) / f;
}

export async function joinStorm(server: ServerUnderTest, fleet: Fleet, authKey: string, concurrency: number, timeoutMs: number): Promise<Measured> {
  return metered(server, fleet, async () => {
    const t0 = now();
    const joined = Promise.race([fleet.join(authKey, concurrency), sleep(timeoutMs).then(() => undefined)]);
    const result = await joined;
    if (!result) {
      const s = await fleet.status();
      return { completed: false, note: `registrations not done within ${timeoutMs / 1000} s (${s.withMap} of ${fleet.size} nodes had a map by then)`, nodesWithMap: s.withMap };
    }
    const ok = result.filter((r) => !r.error);
    const errors = result.length - ok.length;
    const lastRegistered = Math.max(...ok.map((r) => r.registered));
    const allMaps = await until(Date.now() + timeoutMs - (now() - t0), async () => (await fleet.status()).withMap >= fleet.size);
    const status = await fleet.status();
    return {
      completed: allMaps && errors === 0,
      ...(errors ? { note: `${errors} joins failed, first: ${result.find((r) => r.error)?.error}` } : {}),
      registrationsPerSecond: round(ok.length / ((lastRegistered - t0) / 1000), 1),
      registerP50Ms: round(percentile(ok.map((r) => r.registered - r.start), 50), 1),
      registerP99Ms: round(percentile(ok.map((r) => r.registered - r.start), 99), 1),
      allMapsSeconds: round((status.lastFirstMap - t0) / 1000, 2),
      nodesWithMap: status.withMap,
    };
  });
}

/** A node joining a tailnet of N live nodes: time from its map request to its full first map. */
export async function firstFullMap(server: ServerUnderTest, late: Fleet, authKey: string, expectedPeers: number): Promise<Measured> {
  return metered(server, late, async () => {
    const rec = (await late.join(authKey, 1))[0]!;
    if (rec.error) return { completed: false, note: rec.error };
    const ok = await until(Date.now() + 60_000, async () => (await late.status()).withMap === 1);
    const status = await late.status();
    const samplePeers = status.samplePeers;
    return {
      completed: ok && samplePeers[0] === expectedPeers,
      ...(samplePeers[0] !== expectedPeers ? { note: `full map had ${samplePeers[0]} peers, expected ${expectedPeers}` } : {}),
      firstMapMs: round(status.lastFirstMap - rec.registered, 1),
      peersInFirstMap: samplePeers[0] ?? 0,
    };
  });
}

let churnRuns = 0;

/** `rate` endpoint changes per second for `seconds`; for each, when every other node has it. */
export async function churn(server: ServerUnderTest, fleet: Fleet, rate: number, seconds: number): Promise<Measured> {
  churnRuns++;
  return metered(server, fleet, async () => {
    const changes: Array<{ marker: string; sender: number; sent: number }> = [];
    const total = Math.round(rate * seconds);
    const start = Date.now();
    for (let k = 0; k < total; k++) {
      await sleep(Math.max(0, start + (k * 1000) / rate - Date.now()));
      const sender = Math.floor(Math.random() * fleet.size);
      const marker = `127.3.${(k >> 8) & 255}.${k & 255}:${20000 + ((churnRuns * 997 + k) % 40000)}`; // new in every run
      await fleet.watch([marker]);
      changes.push({ marker, sender, sent: 0 });
      void fleet.endpoint(sender, marker).then((t) => (changes[k]!.sent = t));
    }
    const markers = changes.map((c) => c.marker);
    await until(Date.now() + 10_000, async () => (await fleet.collect(markers, true)).every((r, k) => r.seenBy.filter((i) => i !== changes[k]!.sender).length >= fleet.size - 1));
    const reports = await fleet.collect(markers);
    const every: number[] = [];
    const all: number[] = [];
    let incomplete = 0;
    reports.forEach((r, k) => {
      const lat = r.seen.filter((_, i) => r.seenBy[i] !== changes[k]!.sender).map((t) => t - changes[k]!.sent).sort((a, b) => a - b);
      all.push(...lat);
      if (lat.length >= fleet.size - 1) every.push(lat[fleet.size - 2]!);
      else incomplete++;
    });
    return {
      completed: incomplete === 0,
      ...(incomplete ? { note: `${incomplete} of ${total} changes did not reach every peer within 10 s` } : {}),
      changes: total,
      everyPeerP50Ms: round(percentile(every, 50), 1),
      everyPeerP95Ms: round(percentile(every, 95), 1),
      everyPeerP99Ms: round(percentile(every, 99), 1),
      perStreamP50Ms: round(percentile(all, 50), 1),
      perStreamP99Ms: round(percentile(all, 99), 1),
    };
  });
}

/** A policy change (through the admin API) until every node's stream carries the new filter. */
export async function policyChange(server: ServerUnderTest, fleet: Fleet, round_: number, timeoutMs: number): Promise<Measured> {
  return metered(server, fleet, async () => {
    const marker = `198.18.${round_ & 255}.0/24`;
    const policy = JSON.stringify({
      acls: [
        { action: 'accept', src: ['*'], dst: ['*:*'] },
        { action: 'accept', src: [marker], dst: ['*:22'] },
      ],
    });
    await fleet.watch([marker]);
    const t0 = now();
    await server.admin.setPolicy({ policy });
    const apiMs = now() - t0;
    const ok = await until(Date.now() + timeoutMs, async () => (await fleet.collect([marker], true))[0]!.seen.length >= fleet.size);
    const [report] = await fleet.collect([marker]);
    const lat = report!.seen.map((t) => t - t0);
    return {
      completed: ok,
      ...(ok ? {} : { note: `${report!.missing} of ${fleet.size} nodes did not get the new filter within ${timeoutMs / 1000} s` }),
      setPolicyCallMs: round(apiMs, 1),
      allNodesMs: round(ok ? Math.max(...lat) : NaN, 1),
      p50Ms: round(percentile(lat, 50), 1),
      p99Ms: round(percentile(lat, 99), 1),
    };
  });
}

/**
 * Restart the server under N live streams; time until every node has a new full map, counted
 * from the restart (the old process gone), so the new one's start-up is part of it.
 */
export async function reconnectStorm(server: ServerUnderTest, fleet: Fleet, timeoutMs: number): Promise<Measured> {
  await fleet.resetReconnects();
  const bytesBefore = (await fleet.status()).bytesRead;
  await server.stop('SIGTERM');
  const t0 = now();
  await server.start();
  const ready = now();
  const before = server.stats();
  const cpuBefore = cpuSeconds((await fleet.status()).cpu);
  const ok = await until(Date.now() + timeoutMs, async () => (await fleet.status()).reconnectedAt.length >= fleet.size);
  const status = await fleet.status();
  const after = server.stats();
  const back = status.reconnectedAt.map((t) => t - t0);
  return {
    completed: ok,
    ...(ok ? {} : { note: `${fleet.size - status.reconnectedAt.length} nodes not back within ${timeoutMs / 1000} s` }),
    restartSeconds: round((ready - t0) / 1000, 2),
    allBackSeconds: round(Math.max(...back, 0) / 1000, 2),
    backP50Seconds: round(percentile(back, 50) / 1000, 2),
    serverCpuSeconds: round(after.cpuSeconds - before.cpuSeconds, 2),
    clientCpuSeconds: round(cpuSeconds(status.cpu) - cpuBefore, 2),
    peakRssMiB: round(after.peakRssBytes / 2 ** 20, 0),
    bytesSentMiB: round((status.bytesRead - bytesBefore) / 2 ** 20, 1),
  };
}
