// Turning one raw value (from the file or from an environment variable) into the typed value its
// schema entry asks for. Env values arrive as plain strings and go through the same rules as a
// string written in the file: "true"/"false"/"1"/"0" for booleans, whitespace-separated lists,
// "30s"/"90d" durations. Problems are recorded against the key (or list item) that caused them.

import { parseDuration } from '../lib/duration.js';
import { describeType, type ConfigValue, type KeySpec } from './schema.js';
import type { ProblemList } from './problems.js';
import type { RawValue } from './source.js';
import type { DnsRecord } from './types.js';

/** `absent`: written as null/empty, so the default applies. `invalid`: a problem was recorded. */
export type Coerced = { readonly ok: true; readonly value: ConfigValue } | { readonly ok: false; readonly reason: 'absent' | 'invalid' };

const ABSENT: Coerced = { ok: false, reason: 'absent' };
const INVALID: Coerced = { ok: false, reason: 'invalid' };

export function coerceValue(spec: KeySpec, raw: RawValue, problems: ProblemList): Coerced {
  if (raw.kind === 'scalar' && raw.value === null) return ABSENT;
  const fail = (why: string, path = spec.path, loc = raw.loc): Coerced => {
    problems.add(path, loc, why);
    return INVALID;
  };
  const ok = (value: ConfigValue): Coerced => ({ ok: true, value });

  switch (spec.type) {
    case 'string_list': {
      const list = coerceList(raw, spec.path, problems);
      return list ? ok(list) : INVALID;
    }
    case 'string_map':
      return coerceStringMap(spec.path, raw, problems);
    case 'string_list_map': {
      if (raw.kind !== 'map') return fail(`expected ${describeType(spec)}, got ${kindName(raw)}`);
      const out: Record<string, string[]> = {};
      let good = true;
      for (const entry of raw.entries) {
        if (entry.value.kind === 'scalar' && entry.value.value === null) {
          out[entry.key] = [];
          continue;
        }
        const list = coerceList(entry.value, `${spec.path}.${entry.key}`, problems);
        if (list) out[entry.key] = list;
        else good = false;
      }
      return good ? ok(out) : INVALID;
    }
    case 'dns_records':
      return coerceRecords(spec.path, raw, problems);
    default:
      break;
  }

  if (raw.kind !== 'scalar') return fail(`expected ${describeType(spec)}, got ${kindName(raw)}`);
  const text = raw.text.trim();
  switch (spec.type) {
    case 'string':
      return ok(raw.text);
    case 'bool_or_string':
      return ok(typeof raw.value === 'boolean' ? String(raw.value) : raw.text);
    case 'bool': {
      if (typeof raw.value === 'boolean') return ok(raw.value);
      const lower = text.toLowerCase();
      if (lower === 'true' || lower === '1') return ok(true);
      if (lower === 'false' || lower === '0') return ok(false);
      return fail(`expected true or false, got "${raw.text}"`);
    }
    case 'int': {
      const n = typeof raw.value === 'number' ? raw.value : /^[+-]?\d+$/.test(text) ? Number(text) : Number.NaN;
      if (!Number.isSafeInteger(n)) return fail(`expected an integer, got "${raw.text}"`);
      if (spec.min !== undefined && n < spec.min) return fail(`must be at least ${spec.min}, got ${n}`);
      if (spec.max !== undefined && n > spec.max) return fail(`must be at most ${spec.max}, got ${n}`);
      return ok(n);
    }
    case 'duration': {
      if (typeof raw.value === 'number' && raw.value !== 0) {
        return fail(`"${raw.text}" has no unit; write a duration such as 30s, 15m or 90d`);
      }
      const ms = parseDuration(text);
      if (ms === undefined) return fail(`"${raw.text}" is not a duration (use forms like 30s, 1h30m or 90d)`);
      if (ms < 0) return fail(`must not be negative, got "${raw.text}"`);
      return ok(ms);
    }
    case 'enum': {
      const values = spec.values ?? [];
      if (!values.includes(text)) return fail(`"${raw.text}" is not allowed; expected ${describeType(spec)}`);
      return ok(spec.aliases?.[text] ?? text);
    }
    case 'file_mode': {
      const m = /^(?:0o|0)?([0-7]{1,4})$/i.exec(text);
      if (!m) return fail(`"${raw.text}" is not an octal file mode such as "0770"`);
      return ok(Number.parseInt(m[1] as string, 8));
    }
  }
  return fail(`unsupported type ${spec.type}`);
}

/** A YAML sequence of scalars, or one string split on whitespace (viper's rule, used for env). */
function coerceList(raw: RawValue, path: string, problems: ProblemList): string[] | undefined {
  if (raw.kind === 'scalar') {
    if (raw.value === null) return [];
    return raw.text.split(/\s+/).filter((s) => s !== '');
  }
  if (raw.kind === 'map') {
    problems.add(path, raw.loc, 'expected a list of strings, got a mapping');
    return undefined;
  }
  const out: string[] = [];
  let good = true;
  raw.items.forEach((item, i) => {
    if (item.kind !== 'scalar' || item.value === null) {
      problems.add(`${path}[${i}]`, item.loc, `expected a string, got ${kindName(item)}`);
      good = false;
    } else {
      out.push(item.text);
    }
  });
  return good ? out : undefined;
}

function coerceStringMap(path: string, raw: RawValue, problems: ProblemList): Coerced {
  if (raw.kind !== 'map') {
    problems.add(path, raw.loc, `expected a map of strings, got ${kindName(raw)}`);
    return INVALID;
  }
  const out: Record<string, string> = {};
  let good = true;
  for (const entry of raw.entries) {
    if (entry.value.kind !== 'scalar') {
      problems.add(`${path}.${entry.key}`, entry.loc, `expected a string, got ${kindName(entry.value)}`);
      good = false;
    } else {
      out[entry.key] = entry.value.value === null ? '' : entry.value.text;
    }
  }
  return good ? { ok: true, value: out } : INVALID;
}

const RECORD_FIELDS = ['name', 'type', 'value'] as const;

function coerceRecords(path: string, raw: RawValue, problems: ProblemList): Coerced {
  if (raw.kind !== 'seq') {
    problems.add(path, raw.loc, `expected a list of {name, type, value} records, got ${kindName(raw)}`);
    return INVALID;
  }
  const out: DnsRecord[] = [];
  let good = true;
  raw.items.forEach((item, i) => {
    const at = `${path}[${i}]`;
    if (item.kind !== 'map') {
      problems.add(at, item.loc, `expected a {name, type, value} record, got ${kindName(item)}`);
      good = false;
      return;
    }
    const record: Partial<Record<(typeof RECORD_FIELDS)[number], string>> = {};
    for (const entry of item.entries) {
      const field = entry.key.toLowerCase();
      if (!(RECORD_FIELDS as readonly string[]).includes(field)) {
        problems.add(`${at}.${entry.key}`, entry.loc, 'is not a record field (expected name, type, value)');
        good = false;
      } else if (entry.value.kind !== 'scalar' || entry.value.value === null || entry.value.text.trim() === '') {
        problems.add(`${at}.${field}`, entry.loc, 'must be a non-empty string');
        good = false;
      } else {
        record[field as (typeof RECORD_FIELDS)[number]] = entry.value.text;
      }
    }
    const missing = RECORD_FIELDS.filter((f) => !item.entries.some((e) => e.key.toLowerCase() === f));
    if (missing.length > 0) {
      problems.add(at, item.loc, `is missing ${missing.map((f) => `"${f}"`).join(', ')}`);
      good = false;
    }
    if (record.name !== undefined && record.type !== undefined && record.value !== undefined) {
      out.push({ name: record.name, type: record.type, value: record.value });
    }
  });
  return good ? { ok: true, value: out } : INVALID;
}

function kindName(raw: RawValue): string {
  if (raw.kind === 'seq') return 'a list';
  if (raw.kind === 'map') return 'a mapping';
  if (raw.value === null) return 'nothing';
  return `"${raw.text}"`;
}
