// Owns IP addresses, prefixes and ranges for the policy engine: parsing, canonical text
// (RFC 5952 for IPv6) and the arithmetic the compiler needs. Addresses are bigints; the
// family is carried alongside (4 or 6) so the two spaces never mix.

import { formatIp } from '../lib/ip.js';

export type Family = 4 | 6;

export interface Addr {
  family: Family;
  value: bigint;
}

export interface Prefix {
  family: Family;
  /** First address (host bits masked). */
  value: bigint;
  bits: number;
}

export const MAX: Record<Family, bigint> = { 4: (1n << 32n) - 1n, 6: (1n << 128n) - 1n };
export const WIDTH: Record<Family, number> = { 4: 32, 6: 128 };

export function parseAddr(s: string): Addr | null {
  if (s.includes(':')) {
    const v = parseIPv6(s);
    return v === null ? null : { family: 6, value: v };
  }
  const v = parseIPv4(s);
  return v === null ? null : { family: 4, value: v };
}

function parseIPv4(s: string): bigint | null {
  const parts = s.split('.');
  if (parts.length !== 4) return null;
  let v = 0n;
  for (const p of parts) {
    if (!/^(0|[1-9]\d{0,2})$/.test(p)) return null;
    const n = Number(p);
    if (n > 255) return null;
    v = (v << 8n) | BigInt(n);
  }
  return v;
}

function parseIPv6(s: string): bigint | null {
  if (s.includes('%')) return null;
  let tail4: bigint | null = null;
  let str = s;
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    tail4 = parseIPv4(s.slice(lastColon + 1));
    if (tail4 === null) return null;
    str = s.slice(0, lastColon + 1) + '0:0';
  }
  const dbl = str.indexOf('::');
  if (dbl !== str.lastIndexOf('::')) return null;
  let groups: string[];
  if (dbl >= 0) {
    const head = str.slice(0, dbl) === '' ? [] : str.slice(0, dbl).split(':');
    const tail = str.slice(dbl + 2) === '' ? [] : str.slice(dbl + 2).split(':');
    const fill = 8 - head.length - tail.length;
    if (fill < 1) return null;
    groups = [...head, ...Array<string>(fill).fill('0'), ...tail];
  } else {
    groups = str.split(':');
  }
  if (groups.length !== 8) return null;
  let v = 0n;
  for (const g of groups) {
    if (!/^[0-9a-fA-F]{1,4}$/.test(g)) return null;
    v = (v << 16n) | BigInt(parseInt(g, 16));
  }
  if (tail4 !== null) v = (v & ~0xffffffffn) | tail4;
  return v;
}

/** Parse "a.b.c.d/n" or "x::/n". Host bits are masked (as HS does when building sets). */
export function parsePrefix(s: string): Prefix | null {
  const slash = s.indexOf('/');
  if (slash < 0) return null;
  const a = parseAddr(s.slice(0, slash));
  const bitsText = s.slice(slash + 1);
  if (!a || !/^(0|[1-9]\d{0,2})$/.test(bitsText)) return null;
  const bits = Number(bitsText);
  if (bits > WIDTH[a.family]) return null;
  return { family: a.family, value: a.value & prefixMask(a.family, bits), bits };
}

/** An IP or a CIDR as a prefix (a bare IP is /32 or /128). */
export function parseIPOrPrefix(s: string): Prefix | null {
  if (s.includes('/')) return parsePrefix(s);
  const a = parseAddr(s);
  return a ? { family: a.family, value: a.value, bits: WIDTH[a.family] } : null;
}

export function prefixMask(family: Family, bits: number): bigint {
  const w = BigInt(WIDTH[family]);
  return (MAX[family] >> (w - BigInt(bits))) << (w - BigInt(bits)) & MAX[family];
}

export function prefixLast(p: Prefix): bigint {
  return p.value | (MAX[p.family] >> BigInt(p.bits)) ;
}

const v6Text = new Map<bigint, string>();

export function formatAddr(family: Family, v: bigint): string {
  if (family === 6) {
    let t = v6Text.get(v);
    if (t === undefined) {
      t = formatIp(6, v);
      if (v6Text.size > 1_000_000) v6Text.clear();
      v6Text.set(v, t);
    }
    return t;
  }
  {
    const n = Number(v);
    return `${(n >>> 24) & 255}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  }
}

export function formatPrefix(p: Prefix): string {
  return `${formatAddr(p.family, p.value)}/${p.bits}`;
}

/** A prefix as HS writes a DstPorts IP: a single address without its length. */
export function formatPrefixBare(p: Prefix): string {
  return p.bits === WIDTH[p.family] ? formatAddr(p.family, p.value) : formatPrefix(p);
}

/** The CIDR blocks that exactly cover [first, last], ascending. */
export function rangeToPrefixes(family: Family, first: bigint, last: bigint): Prefix[] {
  const out: Prefix[] = [];
  const w = WIDTH[family];
  let cur = first;
  while (cur <= last) {
    let bits = w;
    // grow the block while aligned and within range
    while (bits > 0) {
      const size = 1n << BigInt(w - bits + 1);
      if ((cur & (size - 1n)) !== 0n || cur + size - 1n > last) break;
      bits--;
    }
    out.push({ family, value: cur, bits });
    cur += 1n << BigInt(w - bits);
  }
  return out;
}

/** Text for a range as Tailscale writes it: bare IP, CIDR, or "first-last". */
export function formatRange(family: Family, first: bigint, last: bigint): string {
  if (first === last) return formatAddr(family, first);
  const size = last - first + 1n;
  if ((size & (size - 1n)) === 0n && (first & (size - 1n)) === 0n) {
    // exactly one CIDR block
    let bits = WIDTH[family];
    for (let s = size; s > 1n; s >>= 1n) bits--;
    return formatPrefix({ family, value: first, bits });
  }
  return `${formatAddr(family, first)}-${formatAddr(family, last)}`;
}
