// Subnet and exit routes as the admin API handles them: parsing and canonical text of CIDR
// prefixes, the ordering Go's netip.Prefix.Compare gives (IPv4 before IPv6, then shorter prefix
// first, then address), and the rule that the two exit routes always travel together.

import { formatIp, parseIp } from '../lib/ip.js';
import { SwitchboardError } from '../lib/errors.js';

export const EXIT_V4 = '0.0.0.0/0';
export const EXIT_V6 = '::/0';

interface Parsed {
  family: 4 | 6;
  value: bigint;
  bits: number;
  text: string;
}

/** A prefix such as "10.0.0.0/24" or "fd00::/64"; undefined when it is not one. */
export function parseRoute(text: string): Parsed | undefined {
  const m = /^([^/\s]+)\/(\d{1,3})$/.exec(text.trim());
  if (!m) return undefined;
  const ip = parseIp(m[1] as string);
  const bits = Number(m[2]);
  if (!ip || bits > (ip.family === 4 ? 32 : 128)) return undefined;
  return { ...ip, bits, text: `${formatIp(ip.family, ip.value)}/${bits}` };
}

function compare(a: Parsed, b: Parsed): number {
  if (a.family !== b.family) return a.family - b.family;
  if (a.bits !== b.bits) return a.bits - b.bits;
  return a.value < b.value ? -1 : a.value > b.value ? 1 : 0;
}

/**
 * Validates and normalises routes to approve: each must be a CIDR prefix; an exit route brings
 * its other-family twin (clients expect both to mark an exit node); sorted, duplicates removed.
 */
export function normalizeApprovedRoutes(routes: readonly string[]): string[] {
  const parsed: Parsed[] = [];
  for (const r of routes) {
    const p = parseRoute(r);
    if (!p) throw new SwitchboardError('ERR_ARGUMENT', `parsing route: "${r}" is not a CIDR prefix such as 10.0.0.0/24`);
    if (p.bits === 0 && p.value === 0n) {
      parsed.push(parseRoute(EXIT_V4) as Parsed, parseRoute(EXIT_V6) as Parsed);
    } else {
      parsed.push(p);
    }
  }
  parsed.sort(compare);
  const out: string[] = [];
  for (const p of parsed) if (out[out.length - 1] !== p.text) out.push(p.text);
  return out;
}

/** The routes a node announces (Hostinfo.RoutableIPs), canonical and sorted; junk dropped. */
export function announcedRoutes(hostinfo: Record<string, unknown> | null): string[] {
  const raw = hostinfo?.RoutableIPs;
  if (!Array.isArray(raw)) return [];
  const parsed = raw.flatMap((r) => (typeof r === 'string' ? [parseRoute(r)] : [])).filter((p): p is Parsed => !!p);
  parsed.sort(compare);
  const out: string[] = [];
  for (const p of parsed) if (out[out.length - 1] !== p.text) out.push(p.text);
  return out;
}

/** Routes a node may serve: approved and announced (the double opt-in). */
export function servedRoutes(approved: readonly string[], announced: readonly string[]): string[] {
  const a = new Set(approved.map((r) => parseRoute(r)?.text ?? r));
  return announced.filter((r) => a.has(r));
}
