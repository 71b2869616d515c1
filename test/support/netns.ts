// Test hosts in network namespaces (ip netns, veth pairs, a bridge), for routes and exit nodes.
// Every name carries a random prefix; teardown removes the namespaces (and so their links and
// processes' sockets) and kills the helper processes started in them. Needs root and iproute2.

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import crypto from 'node:crypto';

function ip(...args: string[]): void {
  execFileSync('ip', args, { stdio: ['ignore', 'ignore', 'pipe'] });
}

export function netnsAvailable(): string | undefined {
  if (process.getuid?.() !== 0) return 'network namespaces need root';
  try {
    execFileSync('ip', ['netns', 'list'], { stdio: 'ignore' });
    return undefined;
  } catch {
    return 'iproute2 (ip netns) is not available';
  }
}

export class TestNetwork {
  readonly prefix = `sb${crypto.randomBytes(3).toString('hex')}`;
  readonly #namespaces: string[] = [];
  readonly #rootLinks: string[] = [];
  readonly #children: ChildProcess[] = [];
  readonly #blackholes: string[] = [];
  #links = 0;

  /**
   * Makes the root namespace refuse a prefix, so nothing on this machine outside our
   * namespaces (a SOCKS5 fallback dial, say) ever sends a packet towards it.
   */
  blackhole(prefix: string): void {
    ip('route', 'replace', 'blackhole', prefix); // replace: a run that crashed may have left it
    this.#blackholes.push(prefix);
  }

  ns(name: string): string {
    const full = `${this.prefix}-${name}`;
    ip('netns', 'add', full);
    this.#namespaces.push(full);
    ip('-n', full, 'link', 'set', 'lo', 'up');
    return full;
  }

  /** A veth pair between two namespaces (undefined = the root namespace), addresses in CIDR form. */
  link(a: { ns: string | undefined; addr?: string; bridge?: string }, b: { ns: string | undefined; addr?: string; bridge?: string }): void {
    const n = this.#links++; // a counter, not a random number: two links of one network never share a name
    const ia = `${this.prefix}a${n}`.slice(0, 15);
    const ib = `${this.prefix}b${n}`.slice(0, 15);
    ip('link', 'add', ia, 'type', 'veth', 'peer', 'name', ib);
    for (const [end, name] of [[a, ia], [b, ib]] as const) {
      if (end.ns) ip('link', 'set', name, 'netns', end.ns);
      else this.#rootLinks.push(name);
      const pre = end.ns ? ['-n', end.ns] : [];
      if (end.bridge) ip(...pre, 'link', 'set', name, 'master', end.bridge);
      if (end.addr) ip(...pre, 'addr', 'add', end.addr, 'dev', name);
      ip(...pre, 'link', 'set', name, 'up');
    }
  }

  bridge(ns: string, name: string, addr: string): void {
    ip('-n', ns, 'link', 'add', name, 'type', 'bridge');
    ip('-n', ns, 'addr', 'add', addr, 'dev', name);
    ip('-n', ns, 'link', 'set', name, 'up');
  }

  defaultRoute(ns: string, via: string): void {
    ip('-n', ns, 'route', 'add', 'default', 'via', via);
  }

  /** A tiny HTTP server inside a namespace answering `marker` on every request. */
  async httpServer(ns: string, host: string, port: number, marker: string): Promise<void> {
    const code = `require('http').createServer((q,r)=>r.end(${JSON.stringify(marker)})).listen(${port},${JSON.stringify(host)},()=>console.log('ready'))`;
    const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '-e', code], { stdio: ['ignore', 'pipe', 'inherit'] });
    this.#children.push(child);
    await new Promise<void>((resolve, reject) => {
      child.stdout!.once('data', () => resolve());
      child.once('exit', (c) => reject(new Error(`http server in ${ns} exited with ${c}`)));
    });
  }

  close(): void {
    for (const c of this.#children) c.kill('SIGKILL');
    for (const p of this.#blackholes) {
      try {
        ip('route', 'del', 'blackhole', p);
      } catch {
        // already gone
      }
    }
    for (const l of this.#rootLinks) {
      try {
        ip('link', 'del', l);
      } catch {
        // gone with its namespace
      }
    }
    for (const n of this.#namespaces) {
      try {
        ip('netns', 'del', n);
      } catch {
        // already gone
      }
    }
  }
}
