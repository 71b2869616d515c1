// Relative filesystem paths in the config are resolved against the directory of the config file
// (for the built-in defaults: the working directory), so a service started from anywhere finds
// the same files. The schema marks which keys are paths (KeySpec.isPath).

import { isAbsolute, resolve } from 'node:path';
import { SCHEMA } from './schema.js';
import { getAtPath, setAtPath, type Tree } from './tree.js';
import type { Config } from './types.js';

/** Empty stays empty (it means "not set"); SQLite's ":memory:" and "file:" URIs are left alone. */
export function resolveConfigPath(value: string, baseDir: string): string {
  if (value === '' || isAbsolute(value) || value.startsWith(':memory:') || value.startsWith('file:')) return value;
  return resolve(baseDir, value);
}

/** A copy of `config` with every path-typed key made absolute against `baseDir`. */
export function resolveConfigPaths(config: Config, baseDir: string): Config {
  const copy = structuredClone(config) as unknown as Tree;
  for (const spec of SCHEMA) {
    if (!spec.isPath) continue;
    const value = getAtPath(copy, spec.path);
    if (typeof value === 'string') setAtPath(copy, spec.path, resolveConfigPath(value, baseDir));
    else if (Array.isArray(value)) {
      setAtPath(copy, spec.path, value.map((v: unknown) => (typeof v === 'string' ? resolveConfigPath(v, baseDir) : v)));
    }
  }
  return copy as unknown as Config;
}
