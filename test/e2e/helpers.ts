// Shared steps of the real-client tests: join nodes with a key, wait for Running, read peers.

import assert from 'node:assert/strict';
import net from 'node:net';
import type { TestContext } from 'node:test';
import type { TailscaleNode, TailscaleStatus } from '../harness/tailscale.js';
import { netnsAvailable } from '../support/netns.js';

export interface PeerView {
  HostName: string;
  DNSName: string;
  TailscaleIPs: string[];
  Online: boolean;
  Relay?: string;
  CurAddr?: string;
}

export function peers(status: TailscaleStatus): PeerView[] {
  return Object.values((status as { Peer?: Record<string, PeerView> }).Peer ?? {});
}

export async function join(node: TailscaleNode, loginServer: string, authKey: string, hostname: string, extraArgs: string[] = []): Promise<void> {
  const res = await node.up({ loginServer, authKey, hostname, timeoutMs: 60_000, extraArgs, allowFailure: true });
  assert.equal(res.code, 0, `tailscale up for ${hostname} failed: ${res.stdout} ${res.stderr}`);
  await node.waitFor((s) => s.BackendState === 'Running', 60_000);
}

/** Waits until the node lists exactly these peer host names. */
export async function waitForPeers(node: TailscaleNode, hostnames: string[], timeoutMs = 30_000): Promise<PeerView[]> {
  const want = [...hostnames].sort().join(',');
  const found = await node.waitFor((s) => {
    const ps = peers(s);
    return ps.map((p) => p.HostName).sort().join(',') === want ? ps : undefined;
  }, timeoutMs);
  return found ?? [];
}

/** `tailscale ping` until a pong; returns the pong line. */
export async function ping(from: TailscaleNode, target: string, extra: string[] = []): Promise<string> {
  const res = await from.cli(['ping', '--until-direct=false', '-c', '10', '--timeout=5s', ...extra, target], { timeoutMs: 60_000, allowFailure: true });
  const line = res.stdout.split('\n').find((l) => l.startsWith('pong from'));
  assert.ok(line, `no pong from ${target}: ${res.stdout} ${res.stderr}`);
  return line;
}

/**
 * Opens a TCP connection from `from` into the tailnet through its SOCKS5 proxy, sends `send`
 * (if any) and returns what came back before the peer closed or `timeoutMs` passed ("" when the
 * connection was refused or blocked).
 */
export function socksExchange(from: TailscaleNode, ip: string, port: number, send?: string, timeoutMs = 5_000): Promise<string> {
  return new Promise((resolve) => {
    const sock = net.connect(from.socks5Port, '127.0.0.1');
    let stage = 0;
    let buf = Buffer.alloc(0);
    let reply = '';
    const done = () => {
      clearTimeout(timer);
      sock.destroy();
      resolve(reply);
    };
    const timer = setTimeout(done, timeoutMs);
    sock.on('error', done);
    sock.on('close', done);
    sock.on('connect', () => sock.write(Buffer.from([5, 1, 0])));
    sock.on('data', (d: Buffer) => {
      if (stage === 2) {
        reply += d.toString();
        return;
      }
      buf = Buffer.concat([buf, d]);
      if (stage === 0 && buf.length >= 2) {
        stage = 1;
        buf = buf.subarray(2);
        sock.write(Buffer.from([5, 1, 0, 1, ...ip.split('.').map(Number), port >> 8, port & 255]));
      }
      if (stage === 1 && buf.length >= 10) {
        if (buf[1] !== 0) return done();
        stage = 2;
        reply = buf.subarray(10).toString();
        if (send) sock.write(send);
      }
    });
  });
}

/** An HTTP GET to ip:8080 through the node's SOCKS5 proxy; '' when it does not get through. */
export function fetchVia(node: TailscaleNode, ip: string): Promise<string> {
  return socksExchange(node, ip, 8080, 'GET / HTTP/1.0\r\n\r\n', 4_000);
}

export async function eventually(what: string, fn: () => Promise<boolean>, timeoutMs: number): Promise<void> {
  const start = Date.now();
  while (!(await fn())) {
    if (Date.now() - start > timeoutMs) throw new Error(`not within ${timeoutMs} ms: ${what}`);
    await new Promise((r) => setTimeout(r, 250));
  }
}

/** False (and the test skipped loudly) when network namespaces cannot be made; fails under CI. */
export function netnsOrSkip(t: TestContext, what: string): boolean {
  const why = netnsAvailable();
  if (!why) return true;
  if (process.env.CI === 'true') throw new Error(why);
  process.stderr.write(`\n*** SKIPPING ${what}: ${why} ***\n`);
  t.skip(why);
  return false;
}
