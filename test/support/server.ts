// The in-process server tier: a whole Switchboard on 127.0.0.1 port 0 with its own temp dir,
// config file, database (SQLite or a fresh PostgreSQL database) and admin socket, plus a way to
// run CLI commands against it in the same process.

import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { stringify } from 'yaml';
import { CommanderError } from 'commander';
import { loadConfig } from '../../src/config/index.js';
import { startServer, type RunningServer } from '../../src/app.js';
import { silentLogger } from '../../src/lib/logger.js';
import { buildProgram } from '../../src/cli/program.js';
import { testDatabase, type Backend } from './databases.js';

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export interface TestServer {
  server: RunningServer;
  dir: string;
  configPath: string;
  /** Runs `switchboard -c <config> ...args` in this process. */
  cli(...args: string[]): Promise<CliResult>;
  close(): Promise<void>;
}

/** A config file for a test server; `extra` is merged over the defaults (one level deep). */
export async function writeTestConfig(dir: string, backend: Backend, extra: Record<string, unknown> = {}) {
  const db = await testDatabase(backend);
  const database =
    db.options.type === 'sqlite'
      ? { type: 'sqlite', sqlite: { path: db.options.path } }
      : {
          type: 'postgres',
          postgres: {
            host: db.options.host,
            port: db.options.port,
            name: db.options.name,
            user: db.options.user,
            pass: db.options.pass,
          },
        };
  const config = {
    server_url: 'http://127.0.0.1:8080',
    listen_addr: '127.0.0.1:0',
    metrics_listen_addr: '',
    noise: { private_key_path: path.join(dir, 'noise_private.key') },
    unix_socket: path.join(dir, 'sb.sock'),
    prefixes: { v4: '100.64.0.0/10', v6: 'fd7a:115c:a1e0::/48' },
    database,
    dns: { magic_dns: true, base_domain: 'tailnet.test', override_local_dns: false },
    log: { level: 'error' },
    ...extra,
  };
  const configPath = path.join(dir, 'config.yaml');
  fs.writeFileSync(configPath, stringify(config));
  return { configPath, drop: db.drop };
}

export async function runCli(args: string[]): Promise<CliResult> {
  const out: string[] = [];
  const err: string[] = [];
  const { program, ctx } = buildProgram({ out: (t) => out.push(t), err: (t) => err.push(t) });
  let code: number;
  try {
    await program.parseAsync(['node', 'switchboard', ...args]);
    code = ctx.exitCode;
  } catch (e) {
    if (!(e instanceof CommanderError)) throw e;
    code = e.exitCode;
  }
  return { code, stdout: out.join('\n'), stderr: err.join('\n') };
}

export async function startTestServer(backend: Backend = 'sqlite', extra: Record<string, unknown> = {}): Promise<TestServer> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-srv-'));
  const { configPath, drop } = await writeTestConfig(dir, backend, extra);
  const { config } = loadConfig({ configPath });
  const server = await startServer(config, silentLogger);
  return {
    server,
    dir,
    configPath,
    cli: (...args) => runCli(['-c', configPath, ...args]),
    close: async () => {
      await server.close();
      await drop();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
