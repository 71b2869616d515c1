// Owns IPSet: an immutable set of addresses kept as sorted, merged, inclusive ranges per
// family. Used for resolved selectors, SrcIPs text, DstPorts prefixes and matchers.

import { type Addr, type Family, type Prefix, formatPrefixBare, formatRange, parseIPOrPrefix, prefixLast, rangeToPrefixes } from './ip.js';

/** Inclusive range [first, last]. */
export type Range = [bigint, bigint];

export class IPSetBuilder {
  #v4: Range[] = [];
  #v6: Range[] = [];

  addPrefix(p: Prefix): this {
    (p.family === 4 ? this.#v4 : this.#v6).push([p.value, prefixLast(p)]);
    return this;
  }

  addAddr(a: Addr): this {
    (a.family === 4 ? this.#v4 : this.#v6).push([a.value, a.value]);
    return this;
  }

  addRange(family: Family, first: bigint, last: bigint): this {
    (family === 4 ? this.#v4 : this.#v6).push([first, last]);
    return this;
  }

  addSet(s: IPSet): this {
    for (const r of s.v4) this.#v4.push(r);
    for (const r of s.v6) this.#v6.push(r);
    return this;
  }

  build(): IPSet {
    return new IPSet(normalize(this.#v4), normalize(this.#v6));
  }
}

function normalize(rs: Range[]): Range[] {
  if (rs.length <= 1) return rs.slice();
  rs.sort((a, b) => (a[0] < b[0] ? -1 : a[0] > b[0] ? 1 : 0));
  const out: Range[] = [];
  let cur: Range = [rs[0]![0], rs[0]![1]];
  for (let i = 1; i < rs.length; i++) {
    const r = rs[i]!;
    if (r[0] <= cur[1] + 1n) {
      if (r[1] > cur[1]) cur[1] = r[1];
    } else {
      out.push(cur);
      cur = [r[0], r[1]];
    }
  }
  out.push(cur);
  return out;
}

function findRange(rs: readonly Range[], v: bigint): number {
  let lo = 0;
  let hi = rs.length - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    const r = rs[mid]!;
    if (v < r[0]) hi = mid - 1;
    else if (v > r[1]) lo = mid + 1;
    else return mid;
  }
  return -1;
}

export class IPSet {
  readonly v4: readonly Range[];
  readonly v6: readonly Range[];
  #strings: string[] | undefined;

  constructor(v4: readonly Range[], v6: readonly Range[]) {
    this.v4 = v4;
    this.v6 = v6;
  }

  static readonly EMPTY = new IPSet([], []);

  static of(...texts: string[]): IPSet {
    const b = new IPSetBuilder();
    for (const t of texts) {
      const p = parseIPOrPrefix(t);
      if (!p) throw new Error(`bad prefix ${t}`);
      b.addPrefix(p);
    }
    return b.build();
  }

  isEmpty(): boolean {
    return this.v4.length === 0 && this.v6.length === 0;
  }

  ranges(family: Family): readonly Range[] {
    return family === 4 ? this.v4 : this.v6;
  }

  containsAddr(a: Addr): boolean {
    return findRange(this.ranges(a.family), a.value) >= 0;
  }

  /** True if the set has any address in [first, last]. */
  overlapsRange(family: Family, first: bigint, last: bigint): boolean {
    const rs = this.ranges(family);
    let lo = 0;
    let hi = rs.length - 1;
    while (lo <= hi) {
      const mid = (lo + hi) >> 1;
      const r = rs[mid]!;
      if (r[1] < first) lo = mid + 1;
      else if (r[0] > last) hi = mid - 1;
      else return true;
    }
    return false;
  }

  overlapsPrefix(p: Prefix): boolean {
    return this.overlapsRange(p.family, p.value, prefixLast(p));
  }

  /** True if every address of [first, last] is in the set. */
  coversRange(family: Family, first: bigint, last: bigint): boolean {
    const i = findRange(this.ranges(family), first);
    return i >= 0 && this.ranges(family)[i]![1] >= last;
  }

  coversPrefix(p: Prefix): boolean {
    return this.coversRange(p.family, p.value, prefixLast(p));
  }

  /** True if every range of `other` is inside this set. */
  coversSet(other: IPSet): boolean {
    for (const r of other.v4) if (!this.coversRange(4, r[0], r[1])) return false;
    for (const r of other.v6) if (!this.coversRange(6, r[0], r[1])) return false;
    return true;
  }

  overlapsSet(other: IPSet): boolean {
    for (const r of other.v4) if (this.overlapsRange(4, r[0], r[1])) return true;
    for (const r of other.v6) if (this.overlapsRange(6, r[0], r[1])) return true;
    return false;
  }

  subtract(other: IPSet): IPSet {
    return new IPSet(subtractRanges(this.v4, other.v4), subtractRanges(this.v6, other.v6));
  }

  /** Ranges as text, IPv4 first: bare IP, CIDR or "a-b" (the SrcIPs form). */
  strings(): string[] {
    if (this.#strings) return this.#strings;
    const out: string[] = [];
    for (const r of this.v4) out.push(formatRange(4, r[0], r[1]));
    for (const r of this.v6) out.push(formatRange(6, r[0], r[1]));
    this.#strings = out;
    return out;
  }

  /**
   * Every address on its own, IPv4 first, as SaaS lists device addresses in SrcIPs (two
   * adjacent devices are two entries, not a range). Ranges too large to list stay ranges.
   */
  addressStrings(): string[] {
    const out: string[] = [];
    for (const fam of [4, 6] as const) {
      for (const [a, b] of this.ranges(fam)) {
        if (b - a > 1024n) out.push(formatRange(fam, a, b));
        else for (let v = a; v <= b; v++) out.push(formatRange(fam, v, v));
      }
    }
    return out;
  }

  prefixes(): Prefix[] {
    const out: Prefix[] = [];
    for (const r of this.v4) out.push(...rangeToPrefixes(4, r[0], r[1]));
    for (const r of this.v6) out.push(...rangeToPrefixes(6, r[0], r[1]));
    return out;
  }

  /** Prefixes as DstPorts IPs (single addresses bare). */
  prefixStrings(): string[] {
    return this.prefixes().map(formatPrefixBare);
  }
}

function subtractRanges(a: readonly Range[], b: readonly Range[]): Range[] {
  const out: Range[] = [];
  let j = 0;
  for (const r of a) {
    let first = r[0];
    const last = r[1];
    while (j < b.length && b[j]![1] < first) j++;
    let k = j;
    while (k < b.length && b[k]![0] <= last && first <= last) {
      const s = b[k]!;
      if (s[0] > first) out.push([first, s[0] - 1n]);
      first = s[1] + 1n;
      k++;
    }
    if (first <= last) out.push([first, last]);
  }
  return out;
}
