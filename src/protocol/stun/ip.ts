// IP address text <-> bytes for STUN's address attributes (node:net validates but has no
// byte conversion): IPv4 dotted quads, IPv6 with "::" and embedded IPv4, zone ids dropped,
// IPv4-mapped IPv6 (::ffff:a.b.c.d) unmapped the way Go's netip.Addr.Unmap does.

import net from 'node:net';
import { formatIp } from '../../lib/ip.js';

export function ipv4ToBytes(ip: string): Buffer {
  const parts = ip.split('.').map(Number);
  if (!net.isIPv4(ip) || parts.length !== 4) throw new RangeError(`not an IPv4 address: ${ip}`);
  return Buffer.from(parts);
}

export function ipv6ToBytes(text: string): Buffer {
  const ip = text.replace(/%.*$/, '');
  if (!net.isIPv6(ip)) throw new RangeError(`not an IPv6 address: ${text}`);
  // Embedded IPv4 in the last 32 bits: rewrite it as two hex groups first.
  const v4At = ip.lastIndexOf(':') + 1;
  const text6 = ip.includes('.')
    ? (() => {
        const v4 = ipv4ToBytes(ip.slice(v4At));
        return `${ip.slice(0, v4At)}${v4.readUInt16BE(0).toString(16)}:${v4.readUInt16BE(2).toString(16)}`;
      })()
    : ip;
  const [left = '', right] = text6.split('::');
  const parse = (s: string) => (s === '' ? [] : s.split(':').map((g) => parseInt(g, 16)));
  const head = parse(left);
  const rest = right === undefined ? [] : parse(right);
  const groups = right === undefined ? head : [...head, ...new Array<number>(8 - head.length - rest.length).fill(0), ...rest];
  const out = Buffer.alloc(16);
  for (let i = 0; i < 8; i++) out.writeUInt16BE(groups[i] ?? 0, 2 * i);
  return out;
}

/** Bytes (4 or 16) to text; IPv6 in RFC 5952 form (longest zero run compressed, lower case). */
export function bytesToIp(b: Uint8Array): string {
  if (b.length === 4) return Array.from(b).join('.');
  if (b.length !== 16) throw new RangeError(`IP address must be 4 or 16 bytes, got ${b.length}`);
  let value = 0n;
  for (const byte of b) value = (value << 8n) | BigInt(byte);
  return formatIp(6, value);
}

/** "::ffff:1.2.3.4" -> "1.2.3.4"; other addresses unchanged (zone id dropped). */
export function unmapIp(ip: string): string {
  const bare = ip.replace(/%.*$/, '');
  if (!net.isIPv6(bare)) return bare;
  const b = ipv6ToBytes(bare);
  const mapped = b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff;
  return mapped ? bytesToIp(b.subarray(12)) : bare;
}
