// Owns selector syntax: classifying an alias string (HS order: IP/CIDR, *, user, group,
// tag, autogroup, host), `selector:ports` splitting, port lists and protocol names.

import type { PortRange } from '../tailcfg/types.js';
import { parseIPOrPrefix } from './ip.js';
import { AUTOGROUPS, type Alias, type AutogroupName, type IPCap } from './model.js';

export class AliasError extends Error {}

export function parseAlias(raw: string): Alias {
  const s = raw.trim();
  const p = parseIPOrPrefix(s);
  if (p) return { kind: 'prefix', text: s, prefix: p };
  if (s === '*') return { kind: 'wildcard', text: '*' };
  if (s.includes('@')) return { kind: 'user', text: s };
  if (s.startsWith('group:')) return { kind: 'group', text: s };
  if (s.startsWith('tag:')) return { kind: 'tag', text: s };
  if (s.startsWith('autogroup:')) {
    const name = s.slice('autogroup:'.length) as AutogroupName;
    if (!AUTOGROUPS.includes(name)) {
      throw new AliasError(`invalid autogroup: got ${JSON.stringify(s)}, must be one of [${AUTOGROUPS.map((a) => `autogroup:${a}`).join(' ')}]`);
    }
    return { kind: 'autogroup', text: s, name };
  }
  if (s !== '' && !s.includes(':')) return { kind: 'host', text: s };
  throw new AliasError(`invalid alias format: ${JSON.stringify(s)}`);
}

export const PORT_ANY: PortRange = { First: 0, Last: 65535 };

function parsePort(s: string, which: 'first' | 'last'): number {
  if (!/^\d+$/.test(s)) throw new AliasError(`invalid ${which} integer`);
  const n = Number(s);
  if (n > 65535) throw new AliasError('port number out of range');
  return n;
}

/** Parse `*`, `22`, `1000-2000`, `80,443,8000-8100`. Errors name the whole list. */
export function parsePorts(text: string): PortRange[] {
  try {
    if (text === '*') return [{ ...PORT_ANY }];
    const out: PortRange[] = [];
    for (const part of text.split(',')) {
      const dash = part.indexOf('-');
      if (dash < 0) {
        const n = parsePort(part, 'first');
        if (n === 0) throw new AliasError("first port must be >0, or use '*' for wildcard");
        out.push({ First: n, Last: n });
      } else {
        const first = parsePort(part.slice(0, dash), 'first');
        const last = parsePort(part.slice(dash + 1), 'last');
        if (first > last) throw new AliasError('invalid port range: first port is greater than last port');
        out.push({ First: first, Last: last });
      }
    }
    return out;
  } catch (e) {
    throw new AliasError(`port range ${JSON.stringify(text)}: ${(e as Error).message}`);
  }
}

/** Split an ACL dst `selector:ports` at the last colon, handling `[v6]:ports` and `[v6]/len:ports`. */
export function splitHostPort(raw: string): { host: string; ports: string } {
  const s = raw.trim();
  const i = s.lastIndexOf(':');
  if (i < 0) throw new AliasError('hostport must contain a colon');
  if (i === 0 || i === s.length - 1) throw new AliasError(`hostport must contain a colon: ${JSON.stringify(s)}`);
  let host = s.slice(0, i);
  if (host.startsWith('[')) {
    const close = host.indexOf(']');
    if (close < 0) throw new AliasError('square brackets are only valid around IPv6 addresses');
    const inner = host.slice(1, close);
    const rest = host.slice(close + 1);
    const a = parseIPOrPrefix(inner);
    if (!a || a.family !== 6 || (rest !== '' && !/^\/\d+$/.test(rest))) {
      throw new AliasError('square brackets are only valid around IPv6 addresses');
    }
    host = inner + rest;
  } else if (host.includes('[') || host.includes(']')) {
    throw new AliasError('square brackets are only valid around IPv6 addresses');
  }
  return { host, ports: s.slice(i + 1) };
}

const PROTOS: Record<string, number> = {
  icmp: 1,
  igmp: 2,
  ipv4: 4,
  'ip-in-ip': 4,
  tcp: 6,
  egp: 8,
  igp: 9,
  udp: 17,
  gre: 47,
  esp: 50,
  ah: 51,
  'ipv6-icmp': 58,
  sctp: 132,
  fc: 133,
};

/** Parse an ACL `proto` or grant protocol: a name or decimal number. Empty means default. */
export function parseProto(raw: string): number[] | undefined {
  const s = raw.trim().toLowerCase();
  if (s === '') return undefined;
  if (/^\d+$/.test(s)) {
    if (s.startsWith('0')) throw new AliasError(`leading 0 not permitted in protocol number: ${JSON.stringify(raw)}`);
    const n = Number(s);
    if (n > 255) throw new AliasError(`protocol number out of range (0-255): ${JSON.stringify(raw)}`);
    return [n];
  }
  const n = PROTOS[s];
  if (n === undefined) {
    throw new AliasError(`proto name ${JSON.stringify(raw)} not known; use protocol number 0-255 or protocol name (icmp, tcp, udp, etc.)`);
  }
  return [n];
}

/** Only TCP, UDP and SCTP (or the default) may name specific ports. */
export function checkProtoPorts(protoText: string, proto: number[] | undefined, ports: PortRange[]): void {
  if (proto === undefined) return;
  const p = proto[0]!;
  if (p === 6 || p === 17 || p === 132) return;
  if (ports.length === 1 && ports[0]!.First === 0 && ports[0]!.Last === 65535) return;
  throw new AliasError(`protocol does not support specific ports: ${JSON.stringify(protoText)}, only "*" is allowed`);
}

/** Parse a grant `ip` entry: `*`, `<ports>`, `<proto>:*`, `<proto>:<ports>`. */
export function parseIPCap(raw: string): IPCap {
  const s = raw.trim();
  if (s === '*') return { proto: undefined, ports: [{ ...PORT_ANY }] };
  const parts = s.split(':');
  if (parts.length > 2) throw new AliasError(`expected only one colon in Internet protocol and port type, got: [${parts.join(' ')}](${parts.length})`);
  if (parts.length === 1) return { proto: undefined, ports: parsePorts(s) };
  const proto = parseProto(parts[0]!);
  const ports = parsePorts(parts[1]!);
  checkProtoPorts(parts[0]!, proto, ports);
  return { proto, ports };
}

export function portsEqual(a: PortRange, b: PortRange): boolean {
  return a.First === b.First && a.Last === b.Last;
}

export function isTailscaleCapAllowed(name: string): boolean {
  return ['tailscale.com/cap/drive', 'tailscale.com/cap/relay', 'tailscale.com/cap/webui', 'tailscale.com/cap/kubernetes', 'tailscale.com/cap/tsidp', 'tailscale.com/cap/secrets'].includes(name);
}
