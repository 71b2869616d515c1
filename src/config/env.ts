// Environment overrides. Every scalar or list key can be set as SWITCHBOARD_<KEY> or, for drop-in
// use with existing deployments, HEADSCALE_<KEY>, where KEY is the dotted path upper-cased with dots
// turned into underscores (database.sqlite.path -> SWITCHBOARD_DATABASE_SQLITE_PATH). SWITCHBOARD_
// wins over HEADSCALE_, and both win over the file. Empty values count as unset. Map-typed keys
// are file-only. Old keys are looked for too, so a leftover HEADSCALE_RANDOMIZE_CLIENT_PORT is caught.

import { isFileOnly, SCHEMA } from './schema.js';
import { REMOVED_KEYS } from './removed.js';
import type { KeyHit, RemovedHit } from './source.js';

export const ENV_PREFIXES = ['SWITCHBOARD_', 'HEADSCALE_'] as const;

export type Env = Readonly<Record<string, string | undefined>>;

/** `dns.base_domain` -> `DNS_BASE_DOMAIN` (without a prefix). */
export function envKeyName(path: string): string {
  return path.toUpperCase().replaceAll('.', '_');
}

/** The first prefixed variable that is set and non-empty, with its name. */
export function lookupEnv(env: Env, path: string): { variable: string; value: string } | undefined {
  for (const prefix of ENV_PREFIXES) {
    const variable = prefix + envKeyName(path);
    const value = env[variable];
    if (value !== undefined && value !== '') return { variable, value };
  }
  return undefined;
}

export interface EnvOverrides {
  readonly keys: Map<string, KeyHit>;
  readonly removed: RemovedHit[];
  readonly warnings: string[];
}

export function readEnvOverrides(env: Env): EnvOverrides {
  const out: EnvOverrides = { keys: new Map(), removed: [], warnings: [] };
  for (const spec of SCHEMA) {
    const hit = lookupEnv(env, spec.path);
    if (!hit) continue;
    if (isFileOnly(spec)) {
      out.warnings.push(
        `environment variable ${hit.variable} is ignored: "${spec.path}" is a map or a list of records and can only be set in the config file`,
      );
      continue;
    }
    const loc = { env: hit.variable };
    out.keys.set(spec.path, { path: spec.path, loc, value: { kind: 'scalar', value: hit.value, text: hit.value, loc } });
  }
  for (const key of REMOVED_KEYS) {
    const hit = lookupEnv(env, key.path);
    if (!hit) continue;
    const loc = { env: hit.variable };
    out.removed.push({ path: key.path, key, loc, value: { kind: 'scalar', value: hit.value, text: hit.value, loc } });
  }
  return out;
}
