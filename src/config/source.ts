// Reading a config document (YAML, or JSON, which is YAML too) into the keys the schema knows,
// each with the line and column it was written on. Values stay raw here (see RawValue); coerce.ts
// turns them into typed values. Keys are matched case-insensitively, as viper does for headscale.
// Old keys are set aside for removed.ts rules; anything else unknown becomes a warning.

import { isAlias, isMap, isScalar, isSeq, LineCounter, parseDocument, type Document, type Node } from 'yaml';
import { isGroupPath, specFor } from './schema.js';
import { isRemovedGroup, removedKeyFor, type RemovedKey } from './removed.js';
import type { Location, ProblemList } from './problems.js';

/** A value as written, before it is checked against its key's type. */
export type RawValue =
  | { readonly kind: 'scalar'; readonly value: string | number | boolean | null; readonly text: string; readonly loc: Location }
  | { readonly kind: 'seq'; readonly items: readonly RawValue[]; readonly loc: Location }
  | { readonly kind: 'map'; readonly entries: readonly RawEntry[]; readonly loc: Location };

export interface RawEntry {
  readonly key: string;
  readonly value: RawValue;
  readonly loc: Location;
}

/** A schema key found in the document. `loc` is where its name is written. */
export interface KeyHit {
  readonly path: string;
  readonly loc: Location;
  readonly value: RawValue;
}

export interface RemovedHit extends KeyHit {
  readonly key: RemovedKey;
}

export interface ScannedDocument {
  /** False when the text is not valid YAML (the syntax errors are in the problem list). */
  readonly parsed: boolean;
  readonly keys: Map<string, KeyHit>;
  readonly removed: RemovedHit[];
  readonly unknown: { readonly path: string; readonly loc: Location }[];
}

/**
 * Parses `text`; syntax errors and structural problems go to `problems`. With `withPositions`
 * false (the built-in document) values carry no location, since there is no file to point at.
 */
export function scanDocument(text: string, problems: ProblemList, withPositions = true): ScannedDocument {
  const lineCounter = new LineCounter();
  const doc = parseDocument(text, { lineCounter, prettyErrors: false, uniqueKeys: true });
  const scanned: ScannedDocument = { parsed: doc.errors.length === 0, keys: new Map(), removed: [], unknown: [] };
  const locate = (offset: number | undefined): Location => {
    if (offset === undefined || !withPositions) return undefined;
    const pos = lineCounter.linePos(offset);
    return { line: pos.line, column: pos.col };
  };

  if (doc.errors.length > 0) {
    for (const err of doc.errors) {
      problems.add('', locate(err.pos[0]), `YAML syntax error: ${err.message.split('\n')[0]}`);
    }
    return scanned;
  }
  const top = doc.contents;
  if (top === null || (isScalar(top) && top.value === null)) return scanned;
  if (!isMap(top)) {
    problems.add('', locate(top.range?.[0]), 'the document must be a mapping of configuration keys');
    return scanned;
  }

  const toRaw = (node: unknown): RawValue => {
    const resolved = isAlias(node) ? (node.resolve(doc as Document) ?? null) : node;
    const loc = locate((resolved as Node | null)?.range?.[0]);
    if (isMap(resolved)) {
      const entries: RawEntry[] = [];
      for (const pair of resolved.items) {
        entries.push({ key: keyText(pair.key), value: toRaw(pair.value), loc: locate((pair.key as Node | null)?.range?.[0]) });
      }
      return { kind: 'map', entries, loc };
    }
    if (isSeq(resolved)) return { kind: 'seq', items: resolved.items.map(toRaw), loc };
    if (isScalar(resolved)) {
      const v = resolved.value;
      const value = typeof v === 'string' || typeof v === 'number' || typeof v === 'boolean' ? v : null;
      const text = typeof v === 'string' ? v : (resolved.source ?? String(v));
      return { kind: 'scalar', value, text, loc };
    }
    return { kind: 'scalar', value: null, text: '', loc };
  };

  const walk = (map: RawValue & { kind: 'map' }, prefix: string): void => {
    for (const entry of map.entries) {
      const path = prefix === '' ? entry.key.toLowerCase() : `${prefix}.${entry.key.toLowerCase()}`;
      if (specFor(path)) {
        if (scanned.keys.has(path)) problems.add(path, entry.loc, 'is set twice (keys are not case-sensitive)');
        scanned.keys.set(path, { path, loc: entry.loc, value: entry.value });
        continue;
      }
      const removed = removedKeyFor(path);
      if (removed) {
        scanned.removed.push({ path, loc: entry.loc, value: entry.value, key: removed });
        continue;
      }
      if (isGroupPath(path) || isRemovedGroup(path)) {
        if (entry.value.kind === 'map') walk(entry.value, path);
        else if (!(entry.value.kind === 'scalar' && entry.value.value === null)) {
          problems.add(path, entry.loc, 'expected a mapping of keys');
        }
        continue;
      }
      scanned.unknown.push({ path, loc: entry.loc });
    }
  };

  const root = toRaw(top);
  if (root.kind === 'map') walk(root, '');
  return scanned;
}

function keyText(key: unknown): string {
  if (isScalar(key)) return String(key.value);
  return String(key);
}
