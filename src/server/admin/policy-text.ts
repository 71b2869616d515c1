// The admin API's view of the access policy text until the policy engine is wired in: where the
// text lives (policy.mode database: the newest `policies` row; file mode: policy.path) and a
// well-formedness check of HuJSON (JSON with // and /* */ comments and trailing commas).

import fs from 'node:fs';
import { Code, ConnectError } from '@connectrpc/connect';
import { SwitchboardError } from '../../lib/errors.js';

export interface PolicySource {
  mode: 'file' | 'database';
  /** policy.path, used in file mode. */
  path: string;
}

/**
 * The hook the policy engine replaces: throws a SwitchboardError (kind "invalid") when the text
 * is not a valid policy.
 * TODO(policy): point this at the engine in src/policy/ (parse, validate against users and nodes).
 */
export function validatePolicy(text: string): void {
  checkHuJson(text);
}

/** Throws ERR_ARGUMENT with the line and column of the first syntax error. */
export function checkHuJson(text: string): void {
  let plain: string;
  try {
    plain = standardize(text);
  } catch (err) {
    throw new SwitchboardError('ERR_ARGUMENT', `parsing policy: ${(err as Error).message}`);
  }
  if (plain.trim() === '') throw new SwitchboardError('ERR_ARGUMENT', 'parsing policy: the policy is empty');
  try {
    JSON.parse(plain);
  } catch (err) {
    const m = /position (\d+)/.exec((err as Error).message);
    const where = m ? ` at ${lineCol(text, Number(m[1]))}` : '';
    throw new SwitchboardError('ERR_ARGUMENT', `parsing policy: invalid HuJSON${where}: ${(err as Error).message}`);
  }
}

function lineCol(text: string, pos: number): string {
  const before = text.slice(0, pos);
  const line = before.split('\n').length;
  return `line ${line}, column ${pos - before.lastIndexOf('\n')}`;
}

/**
 * HuJSON to JSON of the same length (so positions still match): comments become spaces and a
 * comma followed only by blanks before `]` or `}` becomes a space.
 */
function standardize(text: string): string {
  const out = text.split('');
  let i = 0;
  let lastComma = -1;
  let prev = ''; // the last significant character (a string counts as '"')
  while (i < text.length) {
    const c = text[i] as string;
    if (c === '"') {
      lastComma = -1;
      prev = '"';
      i++;
      while (i < text.length && text[i] !== '"') i += text[i] === '\\' ? 2 : 1;
      if (i >= text.length) throw new Error(`unterminated string at ${lineCol(text, text.length)}`);
      i++;
      continue;
    }
    if (c === '/' && text[i + 1] === '/') {
      while (i < text.length && text[i] !== '\n') out[i++] = ' ';
      continue;
    }
    if (c === '/' && text[i + 1] === '*') {
      const end = text.indexOf('*/', i + 2);
      if (end < 0) throw new Error(`unterminated comment at ${lineCol(text, i)}`);
      for (; i < end + 2; i++) if (text[i] !== '\n') out[i] = ' ';
      continue;
    }
    if (c === ',') {
      // Only a comma after a value may trail; "{,}" and "[1,,]" stay errors.
      lastComma = prev === '{' || prev === '[' || prev === ',' ? -1 : i;
    } else if (c === ']' || c === '}') {
      if (lastComma >= 0) out[lastComma] = ' ';
      lastComma = -1;
    } else if (!/\s/.test(c)) {
      lastComma = -1;
    }
    if (!/\s/.test(c)) prev = c;
    i++;
  }
  return out.join('');
}

/** The policy text in force, with when it was stored (database mode only). */
export async function readPolicy(
  source: PolicySource,
  latest: () => Promise<{ data: string; updatedAt: Date } | undefined>,
): Promise<{ policy: string; updatedAt?: Date }> {
  if (source.mode === 'database') {
    const row = await latest();
    if (!row) throw new ConnectError('no policy has been stored in the database yet', Code.NotFound);
    return { policy: row.data, updatedAt: row.updatedAt };
  }
  if (!source.path) {
    throw new SwitchboardError('ERR_ARGUMENT', 'no policy file is configured (policy.path is empty)');
  }
  try {
    return { policy: fs.readFileSync(source.path, 'utf8') };
  } catch (err) {
    throw new SwitchboardError('ERR_ARGUMENT', `reading policy from path "${source.path}": ${(err as NodeJS.ErrnoException).code ?? 'failed'}`);
  }
}
