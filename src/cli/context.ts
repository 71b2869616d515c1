// What every command shares: the global flags, the configuration (loaded on first use), the
// admin client, and printing in the requested format.

import { loadConfig, type Config } from '../config/index.js';
import { describeError } from '../lib/errors.js';
import { socketClient, remoteClient, describeCallError, type AdminClient } from './client.js';
import { formatMachine, parseOutputFormat, type OutputFormat } from './output.js';

export interface GlobalFlags {
  config?: string;
  output?: string;
  force?: boolean;
  insecure?: boolean;
}

export class CliContext {
  /** What the process should exit with once the command has run. */
  exitCode = 0;
  readonly #flags: () => GlobalFlags;
  #config: Config | undefined;
  #out: (text: string) => void;
  #err: (text: string) => void;

  constructor(flags: () => GlobalFlags, io?: { out?: (t: string) => void; err?: (t: string) => void }) {
    this.#flags = flags;
    this.#out = io?.out ?? ((t) => process.stdout.write(t + '\n'));
    this.#err = io?.err ?? ((t) => process.stderr.write(t + '\n'));
  }

  get format(): OutputFormat {
    return parseOutputFormat(this.#flags().output);
  }

  get force(): boolean {
    return this.#flags().force === true;
  }

  config(): Config {
    if (!this.#config) {
      const loaded = loadConfig({ configPath: this.#flags().config });
      if (this.format === '') for (const w of loaded.warnings) this.#err(`warning: ${w}`);
      this.#config = loaded.config;
    }
    return this.#config;
  }

  /** Runs one admin call against the server, with errors turned into one readable line. */
  async call<T>(what: string, fn: (client: AdminClient) => Promise<T>): Promise<T> {
    const config = this.config();
    const timeoutMs = config.cli.timeout || 5000;
    const remote = config.cli.address || undefined;
    const client = remote
      ? remoteClient({ address: remote, apiKey: config.cli.api_key, insecure: config.cli.insecure || this.#flags().insecure === true, timeoutMs })
      : socketClient(config.unix_socket, timeoutMs);
    try {
      return await fn(client);
    } catch (err) {
      throw new Error(`${what}: ${describeError(describeCallError(err, config.unix_socket, remote))}`);
    }
  }

  /** Prints a result: `human` text by default, the value itself in a machine format. */
  print(value: unknown, human: string): void {
    const f = this.format;
    this.#out(f === '' ? human : formatMachine(value, f));
  }

  /** Prints a list: the table by default, the values in a machine format. */
  printList(values: unknown[], table: () => string): void {
    const f = this.format;
    this.#out(f === '' ? table() : formatMachine(values, f));
  }

  error(err: unknown): void {
    const message = describeError(err);
    let f: OutputFormat = '';
    try {
      f = this.format;
    } catch {
      // an invalid -o value: report in plain text
    }
    this.#err(f === '' ? `Error: ${message}` : formatMachine({ error: message }, f));
  }

  write(text: string): void {
    this.#out(text);
  }

  warn(text: string): void {
    this.#err(text);
  }
}
