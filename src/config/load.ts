// Loading the configuration, once, at start-up: find the file (locate.ts) or fall back to the
// built-in zero-config document (builtin.ts), read its keys with positions (source.ts), lay the
// SWITCHBOARD_/HEADSCALE_ environment over it (env.ts), apply the rules for old keys (removed.ts),
// type every value (coerce.ts), fill code defaults, resolve relative paths against the file's
// directory (paths.ts) and check the whole (validate.ts). Every problem is reported in one
// ERR_CONFIG_INVALID; softer findings come back as warnings.

import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { dirname, resolve } from 'node:path';
import { SwitchboardError } from '../lib/errors.js';
import { BUILTIN_CONFIG_YAML, BUILTIN_LABEL } from './builtin.js';
import { coerceValue } from './coerce.js';
import { readEnvOverrides, type Env } from './env.js';
import { locateConfigFile } from './locate.js';
import { resolveConfigPaths } from './paths.js';
import { describeLine, ProblemList } from './problems.js';
import { removedKeyError } from './removed.js';
import { SCHEMA, type ConfigValue } from './schema.js';
import { scanDocument, type KeyHit, type RemovedHit } from './source.js';
import { getAtPath, setAtPath, type Tree } from './tree.js';
import type { Config, LoadedConfig } from './types.js';
import { validateConfig, type Origins } from './validate.js';

export interface LoadConfigOptions {
  /** The CLI's --config; when given, the file must exist. */
  configPath?: string | undefined;
  /** Environment to read SWITCHBOARD_* / HEADSCALE_* from; defaults to process.env. */
  env?: Record<string, string | undefined> | undefined;
  /** Directory searched for config.yaml and used for the built-in defaults' relative paths. */
  cwd?: string | undefined;
  /** Last place searched; defaults to /etc/switchboard (tests point it elsewhere). */
  systemDir?: string | undefined;
}

export function loadConfig(opts: LoadConfigOptions = {}): LoadedConfig {
  const env = opts.env ?? process.env;
  const cwd = resolve(opts.cwd ?? process.cwd());
  const source = locateConfigFile({ configPath: opts.configPath, env, cwd, systemDir: opts.systemDir });
  if (source === null) {
    return loadConfigText(BUILTIN_CONFIG_YAML, { env, baseDir: cwd, label: BUILTIN_LABEL, source: null });
  }
  let text: string;
  try {
    text = readFileSync(source, 'utf8');
  } catch (err) {
    throw new SwitchboardError('ERR_CONFIG_NOT_FOUND', `cannot read config file ${source}: ${(err as Error).message}`, { cause: err });
  }
  return loadConfigText(text, { env, baseDir: dirname(source), label: source, source });
}

export interface LoadTextOptions {
  env: Env;
  /** Relative paths in the document are resolved against this directory. */
  baseDir: string;
  /** Names the document in the error's first line. */
  label: string;
  /** The file the text came from; null for the built-in document (its positions are not reported). */
  source: string | null;
}

/** The whole pipeline for a document already in memory. */
export function loadConfigText(text: string, opts: LoadTextOptions): LoadedConfig {
  const problems = new ProblemList();
  const warnings: string[] = [];
  const fromFile = opts.source !== null;

  const scanned = scanDocument(text, problems, fromFile);
  if (!scanned.parsed) problems.throwIfAny(opts.label); // nothing sensible can follow a syntax error
  for (const u of scanned.unknown) warnings.push(`unknown configuration key "${u.path}"${describeLine(u.loc)} is ignored`);

  const envOverrides = readEnvOverrides(opts.env);
  warnings.push(...envOverrides.warnings);
  const hits = new Map<string, KeyHit>(scanned.keys);
  for (const [path, hit] of envOverrides.keys) hits.set(path, hit);
  const explicit = new Set<string>([...(fromFile ? scanned.keys.keys() : []), ...envOverrides.keys.keys()]);
  const aliasOf = new Map<string, string>();
  applyRemovedKeys([...envOverrides.removed, ...scanned.removed], hits, explicit, aliasOf, problems, warnings);

  // Type every key, falling back to its default; remember which ones were bad.
  const tree: Tree = {};
  const bad = new Set<string>();
  for (const spec of SCHEMA) {
    const hit = hits.get(spec.path);
    const coerced = hit ? coerceValue({ ...spec, path: aliasOf.get(spec.path) ?? spec.path }, hit.value, problems) : undefined;
    let value: ConfigValue | undefined = coerced?.ok ? coerced.value : undefined;
    if (coerced && !coerced.ok && coerced.reason === 'invalid') bad.add(spec.path);
    if (value === undefined && !bad.has(spec.path) && spec.default === undefined) {
      problems.add(spec.path, hit?.loc, 'is required but not set');
      bad.add(spec.path);
    }
    value ??= spec.default === undefined ? '' : structuredClone(spec.default);
    setAtPath(tree, spec.path, value);
  }

  applyZeroMeansDefault(tree);
  const secretPath = getAtPath(tree, 'oidc.client_secret_path');
  if (typeof secretPath === 'string') setAtPath(tree, 'oidc.client_secret_path', expandEnv(secretPath, opts.env));
  const config = resolveConfigPaths(tree as unknown as Config, opts.baseDir);

  const origins: Origins = {
    loc: (path) => hits.get(path)?.loc,
    raw: (path) => hits.get(path)?.value,
    isDefault: (path) => !explicit.has(path),
    isValid: (path) => !bad.has(path),
    writtenAs: (path) => aliasOf.get(path) ?? path,
  };
  validateConfig(config, origins, problems, warnings);
  if (config.oidc.client_secret === '') readClientSecret(config, origins, problems); // both set: already an error
  problems.throwIfAny(opts.label);
  return { config, source: opts.source, warnings };
}

function applyRemovedKeys(
  removed: readonly RemovedHit[],
  hits: Map<string, KeyHit>,
  explicit: Set<string>,
  aliasOf: Map<string, string>,
  problems: ProblemList,
  warnings: string[],
): void {
  for (const hit of removed) {
    const key = hit.key;
    if (key.kind === 'fatal') {
      problems.add(hit.path, hit.loc, key.why);
      continue;
    }
    const where = `"${hit.path}"${describeLine(hit.loc)}`;
    if (explicit.has(key.to) && !aliasOf.has(key.to)) {
      warnings.push(`${where} is ignored: it was renamed "${key.to}", which is also set; delete the old key`);
    } else if (key.kind === 'renamed') {
      problems.add(hit.path, hit.loc, removedKeyError(key));
    } else if (!aliasOf.has(key.to)) {
      warnings.push(`${where} is deprecated; use "${key.to}" instead`);
      hits.set(key.to, { path: key.to, loc: hit.loc, value: hit.value });
      explicit.add(key.to);
      aliasOf.set(key.to, hit.path);
    }
  }
}

/** headscale treats 0 as "use the built-in value" for these tuning keys. */
function applyZeroMeansDefault(tree: Tree): void {
  if (getAtPath(tree, 'tuning.batcher_workers') === 0) {
    setAtPath(tree, 'tuning.batcher_workers', Math.max(1, Math.floor((availableParallelism() * 3) / 4)));
  }
  if (getAtPath(tree, 'tuning.register_cache_expiration') === 0) setAtPath(tree, 'tuning.register_cache_expiration', 15 * 60_000);
  if (getAtPath(tree, 'tuning.register_cache_max_entries') === 0) setAtPath(tree, 'tuning.register_cache_max_entries', 1024);
}

/** $VAR and ${VAR} from the given environment (unset ones become empty), as for systemd credentials. */
export function expandEnv(text: string, env: Env): string {
  return text.replace(/\$(?:\{([A-Za-z_][A-Za-z0-9_]*)\}|([A-Za-z_][A-Za-z0-9_]*))/g, (_, braced?: string, bare?: string) => {
    return env[braced ?? bare ?? ''] ?? '';
  });
}

/** oidc.client_secret_path is read at load time, like headscale does, into oidc.client_secret. */
function readClientSecret(config: Config, origins: Origins, problems: ProblemList): void {
  const path = config.oidc.client_secret_path;
  if (path === '') return;
  try {
    config.oidc.client_secret = readFileSync(path, 'utf8').trim();
  } catch (err) {
    const reason = (err as NodeJS.ErrnoException).code ?? (err as Error).message;
    problems.add('oidc.client_secret_path', origins.loc('oidc.client_secret_path'), `cannot read "${path}": ${reason}`);
  }
}
