// Switchboard as its own process (the built `bin/switchboard.js serve`), for tests that stop,
// kill -9 and restart the server under live clients. Config and data stay in one temp dir
// across restarts; the port is fixed so clients find the server again.

import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { stringify } from 'yaml';
import { runCli, type CliResult } from './server.js';
import { freePort } from './ports.js';

const BIN = fileURLToPath(new URL('../../bin/switchboard.js', import.meta.url));

/** A config for a server with the embedded DERP relay, on a fixed loopback port. */
export function e2eConfig(dir: string, port: number, extra: Record<string, unknown> = {}, host = '127.0.0.1'): Record<string, unknown> {
  return {
    server_url: `http://${host}:${port}`,
    listen_addr: `${host}:${port}`,
    metrics_listen_addr: '',
    noise: { private_key_path: path.join(dir, 'noise_private.key') },
    unix_socket: path.join(dir, 'sb.sock'),
    prefixes: { v4: '100.64.0.0/10', v6: 'fd7a:115c:a1e0::/48' },
    database: { type: 'sqlite', sqlite: { path: path.join(dir, 'db.sqlite') } },
    dns: { magic_dns: true, base_domain: 'tailnet.test', override_local_dns: false },
    derp: {
      server: {
        enabled: true,
        region_id: 999,
        region_code: 'sb',
        region_name: 'Switchboard Test DERP',
        stun_listen_addr: `${host}:0`,
        private_key_path: path.join(dir, 'derp_server_private.key'),
        verify_clients: true,
      },
      urls: [],
    },
    log: { level: 'info' },
    ...extra,
  };
}

export class ServerProcess {
  readonly dir: string;
  readonly port: number;
  readonly host: string;
  readonly configPath: string;
  #child: ChildProcess | undefined;
  log = '';

  private constructor(dir: string, port: number, configPath: string, host: string) {
    this.dir = dir;
    this.host = host;
    this.port = port;
    this.configPath = configPath;
  }

  static async start(extra: Record<string, unknown> = {}, host = '127.0.0.1'): Promise<ServerProcess> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-proc-'));
    const port = await freePort();
    const configPath = path.join(dir, 'config.yaml');
    fs.writeFileSync(configPath, stringify(e2eConfig(dir, port, extra, host)));
    const p = new ServerProcess(dir, port, configPath, host);
    await p.spawn();
    return p;
  }

  get url(): string {
    return `http://${this.host}:${this.port}`;
  }

  async spawn(): Promise<void> {
    const env = { ...process.env };
    for (const k of Object.keys(env)) if (/^(SWITCHBOARD|HEADSCALE)_/.test(k)) delete env[k];
    env.SWITCHBOARD_DEBUG_PEER_BLOCK_SIZE = '1'; // every full map is many zstd frames: real clients must decode them
    const child = spawn(process.execPath, [BIN, '-c', this.configPath, 'serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
    this.#child = child;
    child.stdout!.on('data', (d) => (this.log += d));
    child.stderr!.on('data', (d) => (this.log += d));
    const deadline = Date.now() + 20_000;
    while (!(await this.#healthy())) {
      if (child.exitCode !== null) throw new Error(`server exited with ${child.exitCode}:\n${this.log}`);
      if (Date.now() > deadline) throw new Error(`server did not start:\n${this.log}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  }

  async #healthy(): Promise<boolean> {
    try {
      return (await fetch(`${this.url}/health`)).ok;
    } catch {
      return false;
    }
  }

  /** Stops the server: SIGTERM for a clean stop, SIGKILL for a crash. */
  async stop(signal: 'SIGTERM' | 'SIGKILL' = 'SIGTERM'): Promise<void> {
    const child = this.#child;
    if (!child || child.exitCode !== null || child.signalCode !== null) return;
    const exited = new Promise<void>((r) => child.once('exit', () => r()));
    child.kill(signal);
    await exited;
  }

  cli(...args: string[]): Promise<CliResult> {
    return runCli(['-c', this.configPath, ...args]);
  }

  async close(): Promise<void> {
    await this.stop('SIGKILL');
    fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
