// IP addresses and CIDR prefixes as the config needs them: parse "100.64.0.0/10" or
// "fd7a:115c:a1e0::/48", and tell whether one prefix lies inside another. Addresses are held as
// bigints so IPv4 and IPv6 share the arithmetic.

import { isIPv4, isIPv6 } from 'node:net';

export interface IpAddress {
  readonly family: 4 | 6;
  readonly value: bigint;
}

export interface IpPrefix extends IpAddress {
  readonly bits: number;
}

export function parseIp(text: string): IpAddress | undefined {
  if (isIPv4(text)) return { family: 4, value: ipv4Value(text) };
  if (isIPv6(text) && !text.includes('%')) return { family: 6, value: ipv6Value(text) };
  return undefined;
}

export function parsePrefix(text: string): IpPrefix | undefined {
  const slash = text.indexOf('/');
  if (slash < 0) return undefined;
  const addr = parseIp(text.slice(0, slash));
  const bitsText = text.slice(slash + 1);
  if (!addr || !/^(0|[1-9]\d{0,2})$/.test(bitsText)) return undefined;
  const bits = Number(bitsText);
  if (bits > (addr.family === 4 ? 32 : 128)) return undefined;
  return { ...addr, bits };
}

/** True when every address of `inner` is also in `outer`. */
export function prefixContains(outer: IpPrefix, inner: IpPrefix): boolean {
  if (outer.family !== inner.family || inner.bits < outer.bits) return false;
  return masked(outer.value, outer.bits, outer.family) === masked(inner.value, outer.bits, inner.family);
}

function masked(value: bigint, bits: number, family: 4 | 6): bigint {
  const width = BigInt(family === 4 ? 32 : 128);
  const host = width - BigInt(bits);
  return (value >> host) << host;
}

function ipv4Value(text: string): bigint {
  return text.split('.').reduce((acc, octet) => (acc << 8n) | BigInt(Number(octet)), 0n);
}

function ipv6Value(text: string): bigint {
  let source = text;
  const tail: bigint[] = [];
  if (source.includes('.')) {
    // An embedded IPv4 tail ("::ffff:192.0.2.1") stands for the last two groups.
    const cut = source.lastIndexOf(':');
    const v4 = ipv4Value(source.slice(cut + 1));
    tail.push(v4 >> 16n, v4 & 0xffffn);
    source = source.slice(0, cut + 1);
    if (!source.endsWith('::')) source = source.slice(0, -1);
  }
  const [head = '', rest] = source.split('::');
  const headGroups = head === '' ? [] : head.split(':');
  const restGroups = rest === undefined || rest === '' ? [] : rest.split(':');
  const zeros = rest === undefined ? 0 : 8 - tail.length - headGroups.length - restGroups.length;
  const groups = [...headGroups, ...Array<string>(zeros).fill('0'), ...restGroups];
  const values = [...groups.map((g) => BigInt(Number.parseInt(g, 16))), ...tail];
  return values.reduce((acc, g) => (acc << 16n) | g, 0n);
}

export const CGNAT_RANGE = parsePrefix('100.64.0.0/10') as IpPrefix;
export const TAILSCALE_ULA_RANGE = parsePrefix('fd7a:115c:a1e0::/48') as IpPrefix;
