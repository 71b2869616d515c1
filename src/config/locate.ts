// Which config file to read. In order: the CLI's --config, $SWITCHBOARD_CONFIG, $HEADSCALE_CONFIG,
// config.yaml (or config.json) in the working directory, then in /etc/switchboard. A file named
// explicitly (the first three) must exist; the searched places are simply skipped when empty.

import { statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { SwitchboardError } from '../lib/errors.js';
import type { Env } from './env.js';

export const SYSTEM_CONFIG_DIR = '/etc/switchboard';
const FILE_NAMES = ['config.yaml', 'config.json'] as const;

export interface LocateOptions {
  configPath?: string | undefined;
  env: Env;
  cwd: string;
  systemDir?: string | undefined;
}

/** Absolute path of the file to read, or null when the built-in defaults apply. */
export function locateConfigFile(opts: LocateOptions): string | null {
  const named = [opts.configPath, opts.env.SWITCHBOARD_CONFIG, opts.env.HEADSCALE_CONFIG].find((p) => p !== undefined && p !== '');
  if (named !== undefined) {
    const path = resolve(opts.cwd, named);
    const kind = fileKind(path);
    if (kind === 'missing') throw new SwitchboardError('ERR_CONFIG_NOT_FOUND', `config file not found: ${path}`);
    if (kind === 'dir') throw new SwitchboardError('ERR_CONFIG_NOT_FOUND', `config file not found: ${path} is a directory`);
    return path;
  }
  for (const dir of [opts.cwd, opts.systemDir ?? SYSTEM_CONFIG_DIR]) {
    for (const name of FILE_NAMES) {
      const path = resolve(join(dir, name));
      if (fileKind(path) === 'file') return path;
    }
  }
  return null;
}

function fileKind(path: string): 'file' | 'dir' | 'missing' {
  try {
    return statSync(path).isDirectory() ? 'dir' : 'file';
  } catch {
    return 'missing';
  }
}
