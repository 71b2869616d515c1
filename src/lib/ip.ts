// IPv4 and IPv6 addresses and prefixes as big integers, for allocation and containment checks,
// and the one RFC 5952 text form of an address (used by the policy engine and STUN too).

import net from 'node:net';

export interface Prefix {
  family: 4 | 6;
  base: bigint; // network address
  bits: number;
}

export function parseIp(text: string): { family: 4 | 6; value: bigint } | undefined {
  const family = net.isIP(text);
  if (family === 4) {
    const parts = text.split('.').map(Number);
    return { family: 4, value: BigInt(((parts[0]! << 24) >>> 0) + (parts[1]! << 16) + (parts[2]! << 8) + parts[3]!) };
  }
  if (family === 6) {
    if (text.includes('.')) return undefined; // v4-mapped forms are not used for tailnet addresses
    const [head, tail] = text.split('::') as [string, string | undefined];
    const h = head ? head.split(':') : [];
    const t = tail === undefined ? [] : tail ? tail.split(':') : [];
    const groups = tail === undefined ? h : [...h, ...Array(8 - h.length - t.length).fill('0'), ...t];
    let value = 0n;
    for (const g of groups) value = (value << 16n) + BigInt(parseInt(g || '0', 16));
    return { family: 6, value };
  }
  return undefined;
}

export function formatIp(family: 4 | 6, value: bigint): string {
  if (family === 4) {
    return [24n, 16n, 8n, 0n].map((s) => String((value >> s) & 255n)).join('.');
  }
  const groups: string[] = [];
  for (let i = 7; i >= 0; i--) groups.push(((value >> BigInt(i * 16)) & 0xffffn).toString(16));
  // Compress the longest run of zero groups (RFC 5952).
  let best = -1;
  let bestLen = 1;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLen) {
      best = i;
      bestLen = j - i;
    }
    i = j;
  }
  if (best < 0) return groups.join(':');
  return `${groups.slice(0, best).join(':')}::${groups.slice(best + bestLen).join(':')}`;
}

export function parsePrefix(text: string): Prefix | undefined {
  const [addr, len] = text.split('/');
  if (!addr || len === undefined || !/^\d+$/.test(len)) return undefined;
  const ip = parseIp(addr);
  if (!ip) return undefined;
  const bits = Number(len);
  const width = ip.family === 4 ? 32 : 128;
  if (bits > width) return undefined;
  const hostBits = BigInt(width - bits);
  return { family: ip.family, base: (ip.value >> hostBits) << hostBits, bits };
}

export function prefixSize(p: Prefix): bigint {
  return 1n << BigInt((p.family === 4 ? 32 : 128) - p.bits);
}

export function prefixContains(p: Prefix, family: 4 | 6, value: bigint): boolean {
  return family === p.family && value >= p.base && value < p.base + prefixSize(p);
}
