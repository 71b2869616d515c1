// The servers under load: Switchboard (the built `bin/switchboard.js serve`) and headscale
// v0.29.2 (built by scripts/build-headscale.sh), each started from the SAME headscale-style
// config.yaml in its own temp dir with SQLite, so the comparison is like for like. Also reads
// a server's CPU seconds and peak RSS from /proc, and drives it through its admin gRPC API on
// the unix socket (the same client for both, since Switchboard speaks headscale's API).

import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { socketClient, type AdminClient } from '../../src/cli/client.js';
import { freePort } from '../../test/support/ports.js';
import { procStats, type ProcStats } from '../lib/proc.js';

const REPO = fileURLToPath(new URL('../..', import.meta.url));
export type ServerKind = 'switchboard' | 'headscale';

function headscaleBinary(): string {
  const out = execFileSync('bash', [path.join(REPO, 'scripts/build-headscale.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] });
  return path.join(out.trim().split('\n').pop()!, 'headscale');
}

/** LOAD_CPU_PROFILE=DIR writes a V8 CPU profile of each Switchboard run there (on exit). */
function profileFlags(): string[] {
  const dir = process.env.LOAD_CPU_PROFILE;
  return dir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(dir)}`] : [];
}

export class ServerUnderTest {
  readonly kind: ServerKind;
  readonly dir: string;
  readonly port: number;
  readonly configPath: string;
  #child: ChildProcess | undefined;
  #log = '';
  #admin: AdminClient | undefined;

  private constructor(kind: ServerKind, dir: string, port: number) {
    this.kind = kind;
    this.dir = dir;
    this.port = port;
    this.configPath = path.join(dir, 'config.yaml');
  }

  static async create(kind: ServerKind): Promise<ServerUnderTest> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), `load-${kind}-`));
    const s = new ServerUnderTest(kind, dir, await freePort());
    // A DERP map with one region that nobody dials (the simulated nodes never relay).
    const region = { regionid: 900, regioncode: 'lo', regionname: 'loopback', nodes: [{ name: '900a', regionid: 900, hostname: '127.0.0.1', ipv4: '127.0.0.1', derpport: 1, stunport: -1 }] };
    fs.writeFileSync(path.join(dir, 'derp.yaml'), stringify({ regions: new Map([[900, region]]) }));
    fs.writeFileSync(s.configPath, stringify(s.#config(await freePort())));
    return s;
  }

  /** One headscale 0.29 config that both servers accept. */
  #config(metricsPort: number): Record<string, unknown> {
    const d = this.dir;
    return {
      server_url: `http://127.0.0.1:${this.port}`,
      listen_addr: `127.0.0.1:${this.port}`,
      metrics_listen_addr: `127.0.0.1:${metricsPort}`,
      grpc_listen_addr: '',
      noise: { private_key_path: path.join(d, 'noise_private.key') },
      prefixes: { v4: '100.64.0.0/10', v6: 'fd7a:115c:a1e0::/48', allocation: 'sequential' },
      derp: { server: { enabled: false }, urls: [], paths: [path.join(d, 'derp.yaml')], auto_update_enabled: false, update_frequency: '24h' },
      disable_check_updates: true,
      node: { ephemeral: { inactivity_timeout: '30m' } },
      database: { type: 'sqlite', sqlite: { path: path.join(d, 'db.sqlite'), write_ahead_log: true } },
      log: { level: 'warn', format: 'text' },
      policy: { mode: 'database', path: '' },
      dns: { magic_dns: true, base_domain: 'bench.test', override_local_dns: false, nameservers: { global: [] } },
      unix_socket: path.join(d, 'admin.sock'),
      unix_socket_permission: '0770',
      logtail: { enabled: false },
    };
  }

  get pid(): number {
    return this.#child!.pid!;
  }

  get log(): string {
    return this.#log;
  }

  async start(): Promise<void> {
    this.#log = '';
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^(SWITCHBOARD|HEADSCALE)_/.test(k)) delete env[k];
    const [cmd, args] =
      this.kind === 'switchboard'
        ? [process.execPath, [...profileFlags(), path.join(REPO, 'bin/switchboard.js'), '-c', this.configPath, 'serve']]
        : [headscaleBinary(), ['-c', this.configPath, 'serve']];
    const child = spawn(cmd, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    const keep = (d: Buffer): void => {
      this.#log = (this.#log + d.toString()).slice(-20_000);
    };
    child.stdout!.on('data', keep);
    child.stderr!.on('data', keep);
    const deadline = Date.now() + 60_000;
    while (!(await this.#listening())) {
      if (child.exitCode !== null) throw new Error(`${this.kind} exited with ${child.exitCode}:\n${this.#log}`);
      if (Date.now() > deadline) throw new Error(`${this.kind} did not start:\n${this.#log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  /**
   * Up: the admin socket is there and the main port accepts a TCP connection. The kernel accepts
   * while the server is too busy to answer HTTP (ten thousand nodes reconnecting at once kept a
   * /health request waiting over a minute), so this sees the restart, not the end of the storm.
   */
  async #listening(): Promise<boolean> {
    if (!fs.existsSync(path.join(this.dir, 'admin.sock'))) return false;
    return new Promise((resolve) => {
      const socket = net.connect(this.port, '127.0.0.1');
      const done = (up: boolean): void => {
        socket.destroy();
        resolve(up);
      };
      socket.once('connect', () => done(true));
      socket.once('error', () => done(false));
      socket.setTimeout(5000, () => done(false));
    });
  }

  async serverKey(): Promise<string> {
    const res = await fetch(`http://127.0.0.1:${this.port}/key?v=142`, { signal: AbortSignal.timeout(30_000) });
    const { publicKey } = (await res.json()) as { publicKey: string };
    return publicKey.replace(/^mkey:/, '');
  }

  /** The admin gRPC API on the unix socket (the CLI's own client: both servers speak it). */
  get admin(): AdminClient {
    this.#admin ??= socketClient(path.join(this.dir, 'admin.sock'), 600_000);
    return this.#admin;
  }

  /** A user and a reusable pre-auth key for the simulated nodes. */
  async authKey(): Promise<string> {
    const { user } = await this.admin.createUser({ name: 'load' });
    const { preAuthKey } = await this.admin.createPreAuthKey({ user: user!.id, reusable: true, expiration: { seconds: BigInt(Math.floor(Date.now() / 1000) + 86_400), nanos: 0 } });
    return preAuthKey!.key;
  }

  stats(): ProcStats {
    return procStats(this.pid);
  }

  async stop(signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    this.#admin = undefined;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    const timer = setTimeout(() => child.kill('SIGKILL'), 15_000);
    await exited;
    clearTimeout(timer);
  }

  async close(): Promise<void> {
    await this.stop('SIGTERM');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
