// How the CLI prints: a human table or message by default, or machine output with -o json
// (tab-indented), json-line or yaml. Machine output has the shape headscale 0.29's CLI prints,
// Go's encoding/json of the protobuf structs: snake_case field names, zero values left out,
// timestamps as {seconds, nanos}, 64-bit IDs as numbers, enums as numbers, empty lists as null.

import { createRegistry, isMessage, type Message } from '@bufbuild/protobuf';
import { file_headscale_v1_headscale } from '../gen/headscale/v1/headscale_pb.js';
import { file_headscale_v1_user } from '../gen/headscale/v1/user_pb.js';
import { file_headscale_v1_node } from '../gen/headscale/v1/node_pb.js';
import { file_headscale_v1_preauthkey } from '../gen/headscale/v1/preauthkey_pb.js';
import { file_headscale_v1_apikey } from '../gen/headscale/v1/apikey_pb.js';
import { file_headscale_v1_auth } from '../gen/headscale/v1/auth_pb.js';
import { file_headscale_v1_policy } from '../gen/headscale/v1/policy_pb.js';
import { stringify as toYaml } from 'yaml';
import { SwitchboardError } from '../lib/errors.js';

export type OutputFormat = '' | 'json' | 'json-line' | 'yaml';

export function parseOutputFormat(text: string | undefined): OutputFormat {
  const f = text ?? '';
  if (f === '' || f === 'json' || f === 'json-line' || f === 'yaml') return f;
  throw new SwitchboardError('ERR_ARGUMENT', `unknown output format "${f}": use json, json-line or yaml`);
}

const registry = createRegistry(
  file_headscale_v1_headscale,
  file_headscale_v1_user,
  file_headscale_v1_node,
  file_headscale_v1_preauthkey,
  file_headscale_v1_apikey,
  file_headscale_v1_auth,
  file_headscale_v1_policy,
);

/** A protobuf message (or list of them) as Go's encoding/json would have written it. */
export function toGoJson(value: unknown): unknown {
  if (Array.isArray(value)) return value.length === 0 ? null : value.map(toGoJson);
  if (typeof value === 'bigint') return Number(value);
  if (!value || typeof value !== 'object') return value;
  if (!isMessage(value)) return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, toGoJson(v)]));
  const msg = value as Message & Record<string, unknown>;
  const out: Record<string, unknown> = {};
  if (msg.$typeName === 'google.protobuf.Timestamp') {
    const ts = msg as unknown as { seconds: bigint; nanos: number };
    if (ts.seconds !== 0n) out.seconds = Number(ts.seconds);
    if (ts.nanos !== 0) out.nanos = ts.nanos;
    return out;
  }
  const schema = registry.getMessage(msg.$typeName);
  if (!schema) throw new Error(`no schema for ${msg.$typeName}`);
  for (const field of schema.fields) {
    const v = msg[field.localName];
    if (!isZero(v)) out[field.name] = toGoJson(v);
  }
  return out;
}

function isZero(v: unknown): boolean {
  return (
    v === undefined || v === null || v === 0 || v === 0n || v === false || v === '' ||
    (Array.isArray(v) && v.length === 0) || (v instanceof Uint8Array && v.length === 0)
  );
}

export function formatMachine(value: unknown, format: Exclude<OutputFormat, ''>): string {
  const plain = toGoJson(value);
  if (format === 'json') return JSON.stringify(plain, null, '\t');
  if (format === 'json-line') return JSON.stringify(plain);
  return toYaml(plain).trimEnd();
}

/** Renders rows like headscale's tables: columns padded and separated by " | ". */
export function renderTable(rows: string[][]): string {
  // A cell holding several lines spreads its row over several lines.
  const expanded: string[][] = [];
  for (const row of rows) {
    const cells = row.map((c) => c.split('\n'));
    const height = Math.max(1, ...cells.map((c) => c.length));
    for (let i = 0; i < height; i++) expanded.push(cells.map((c) => c[i] ?? ''));
  }
  const widths: number[] = [];
  for (const row of expanded) row.forEach((c, i) => (widths[i] = Math.max(widths[i] ?? 0, visibleLength(c))));
  return expanded
    .map((row) => row.map((c, i) => c + ' '.repeat((widths[i] ?? 0) - visibleLength(c))).join(' | ').trimEnd())
    .join('\n');
}

function visibleLength(s: string): number {
  // eslint-disable-next-line no-control-regex
  return s.replace(/\x1b\[[0-9;]*m/g, '').length;
}

/** "2006-01-02 15:04:05" in UTC, the layout headscale prints. */
export function formatTime(d: Date): string {
  return d.toISOString().slice(0, 19).replace('T', ' ');
}

export function colour(text: string, code: 'red' | 'green'): string {
  if (!process.stdout.isTTY || process.env.NO_COLOR) return text;
  return `\x1b[${code === 'red' ? 91 : 92}m${text}\x1b[0m`;
}

/** An expiry time, red when it has passed and green when it is ahead. */
export function colourTime(d: Date): string {
  return colour(formatTime(d), d.getTime() < Date.now() ? 'red' : 'green');
}
