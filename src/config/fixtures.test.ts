// Shared fixtures for the config tests: a minimal valid document, loaders that never read the
// real environment, and helpers for rejected configs. Named *.test.ts only so the build leaves it
// out; it registers no tests of its own (importing it must not repeat tests in every file).

import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { isSwitchboardError } from '../lib/errors.js';
import { loadConfigText } from './load.js';
import type { LoadedConfig } from './types.js';

export const FILE = '/srv/switchboard/config.yaml';

/** The smallest document headscale 0.29 accepts: required keys plus what its defaults demand. */
export const BASE_YAML = `server_url: https://hs.example.com
listen_addr: 127.0.0.1:8080
noise:
  private_key_path: noise.key
prefixes:
  v4: 100.64.0.0/10
database:
  type: sqlite
  sqlite:
    path: db.sqlite
dns:
  base_domain: tailnet.internal
  nameservers:
    global: [1.1.1.1]
`;

/** Loads `yaml` as if it were /srv/switchboard/config.yaml, with only `env` as environment. */
export function loadYaml(yaml: string, env: Record<string, string> = {}): LoadedConfig {
  return loadConfigText(yaml, { env, baseDir: '/srv/switchboard', label: FILE, source: FILE });
}

/** The message of the ERR_CONFIG_INVALID that loading `yaml` must throw. */
export function invalidMessage(yaml: string, env: Record<string, string> = {}): string {
  try {
    loadYaml(yaml, env);
  } catch (err) {
    assert.ok(isSwitchboardError(err, 'ERR_CONFIG_INVALID'), `expected ERR_CONFIG_INVALID, got ${String(err)}`);
    return err.message;
  }
  assert.fail('expected the config to be rejected');
}

/** The problem lines (after the heading) of a rejected config. */
export function problemLines(yaml: string, env: Record<string, string> = {}): string[] {
  const [heading, ...lines] = invalidMessage(yaml, env).split('\n');
  assert.equal(heading, `invalid configuration in ${FILE}:`);
  return lines;
}

const created: string[] = [];
process.on('exit', () => {
  for (const dir of created) rmSync(dir, { recursive: true, force: true });
});

/** A fresh temporary directory (removed when the process exits), optionally with files in it. */
export function tempDir(files: Record<string, string> = {}): string {
  const dir = mkdtempSync(join(tmpdir(), 'switchboard-config-'));
  created.push(dir);
  for (const [name, content] of Object.entries(files)) writeFileSync(join(dir, name), content);
  return dir;
}
