// The effective configuration as YAML, for `switchboard dump-config` and the debug page: every
// key of the schema in schema order, durations in Go's notation ("2m0s"), file modes as octal
// text ("0770"), and every non-empty secret replaced by a mask. The output loads back as a config.

import { stringify } from 'yaml';
import { formatDuration } from '../lib/duration.js';
import { SCHEMA } from './schema.js';
import { getAtPath, setAtPath, type Tree } from './tree.js';
import type { Config } from './types.js';

export const SECRET_MASK = '********';

export function dumpConfig(config: Config): string {
  const tree: Tree = {};
  for (const spec of SCHEMA) {
    let value = getAtPath(config, spec.path);
    if (spec.secret && typeof value === 'string' && value !== '') value = SECRET_MASK;
    else if (spec.type === 'duration' && typeof value === 'number') value = formatDuration(value);
    else if (spec.type === 'file_mode' && typeof value === 'number') value = formatFileMode(value);
    setAtPath(tree, spec.path, value);
  }
  return stringify(tree, { lineWidth: 0 });
}

/** 0o770 -> "0770" */
export function formatFileMode(mode: number): string {
  return `0${mode.toString(8).padStart(3, '0')}`;
}
