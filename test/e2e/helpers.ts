// Shared steps of the real-client tests: join nodes with a key, wait for Running, read peers.

import assert from 'node:assert/strict';
import type { TailscaleNode, TailscaleStatus } from '../harness/tailscale.js';

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
