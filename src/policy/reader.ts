// Owns the structural reading of a HuJSON document: case-insensitive known fields,
// `unknown field` rejection, typed getters, and errors positioned at the offending member.

import { PolicyError, type PolicyErrorCode } from './errors.js';
import type { HuJSONDocument } from './hujson.js';
import type { Alias } from './model.js';

export type Obj = Record<string, unknown>;

/** Where an alias was written, for the wording of undefined-reference errors. */
export type RefCtx = 'acl-src' | 'acl-dst' | 'node-attr' | 'plain';

/** Parse an alias written at container[key], recording it for reference checks. */
export type AliasFn = (raw: string, container: unknown, key: string | number, ctx?: RefCtx) => Alias | null;

export class Reader {
  readonly doc: HuJSONDocument;
  readonly errors: PolicyError[] = [];

  constructor(doc: HuJSONDocument) {
    this.doc = doc;
  }

  err(code: PolicyErrorCode, message: string, container?: unknown, key?: string | number): void {
    const pos = container === undefined ? undefined : key === undefined ? this.doc.positionOfContainer(container) : this.doc.positionOf(container, key);
    this.errors.push(new PolicyError(code, message, pos));
  }

  /**
   * Read an object's fields by their canonical names (matched without regard to case).
   * Unknown fields are reported. Keys starting with `#` are dropped when `dropHash`.
   */
  fields(value: unknown, known: readonly string[], where: string, dropHash = false): { get(name: string): unknown; has(name: string): boolean; obj: Obj } | null {
    if (typeof value !== 'object' || value === null || Array.isArray(value)) {
      this.err('ERR_POLICY_INVALID', `${where}: expected an object`, value);
      return null;
    }
    const obj = value as Obj;
    const map = new Map<string, string>();
    for (const k of Object.keys(obj)) {
      if (dropHash && k.startsWith('#')) continue;
      const canon = known.find((n) => n.toLowerCase() === k.toLowerCase());
      if (canon === undefined) {
        this.err('ERR_POLICY_UNKNOWN_FIELD', `unknown field: ${JSON.stringify(k)}`, obj, k);
        continue;
      }
      map.set(canon, k);
    }
    return {
      obj,
      has: (name) => map.has(name),
      get: (name) => {
        const k = map.get(name);
        return k === undefined ? undefined : obj[k];
      },
    };
  }

  /** Position key of a canonical field inside an object (the raw key as written). */
  keyOf(obj: Obj, name: string): string {
    return Object.keys(obj).find((k) => k.toLowerCase() === name.toLowerCase()) ?? name;
  }

  strings(value: unknown, container: unknown, key: string | number, where: string): string[] {
    if (value === undefined || value === null) return [];
    if (!Array.isArray(value)) {
      this.err('ERR_POLICY_INVALID', `${where}: expected an array of strings`, container, key);
      return [];
    }
    const out: string[] = [];
    value.forEach((v, i) => {
      if (typeof v !== 'string') this.err('ERR_POLICY_INVALID', `${where}: expected a string, got ${JSON.stringify(v)}`, value, i);
      else out.push(v);
    });
    return out;
  }

  string(value: unknown, container: unknown, key: string | number, where: string): string | undefined {
    if (value === undefined || value === null) return undefined;
    if (typeof value !== 'string') {
      this.err('ERR_POLICY_INVALID', `${where}: expected a string`, container, key);
      return undefined;
    }
    return value;
  }

  array(value: unknown, container: unknown, key: string | number, where: string): unknown[] | null {
    if (value === undefined || value === null) return null;
    if (!Array.isArray(value)) {
      this.err('ERR_POLICY_INVALID', `${where}: expected an array`, container, key);
      return null;
    }
    return value;
  }
}
