// Owns reading the definition sections of a policy: groups, hosts, tagOwners, autoApprovers,
// nodeAttrs and tests (the ACL test entries), with Tailscale's/headscale's error texts.

import { parseIPOrPrefix, parsePrefix } from './ip.js';
import { IPSet } from './ipset.js';
import type { Alias, NodeAttr, Policy, PolicyTest } from './model.js';
import { type AliasFn, type Obj, type Reader } from './reader.js';

export function readGroups(r: Reader, v: unknown): Map<string, string[]> {
  const out = new Map<string, string[]>();
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) {
    r.err('ERR_POLICY_INVALID', 'groups: expected an object', v);
    return out;
  }
  for (const [key, val] of Object.entries(v as Obj)) {
    if (!key.startsWith('group:')) {
      r.err('ERR_POLICY_INVALID', `group must start with 'group:', got: ${JSON.stringify(key)}`, v, key);
      continue;
    }
    if (!Array.isArray(val)) {
      r.err('ERR_POLICY_INVALID', `group value must be an array of users: group ${JSON.stringify(key)} got ${typeof val === 'string' ? `string: ${JSON.stringify(val)}` : JSON.stringify(val)}`, v, key);
      continue;
    }
    const members: string[] = [];
    val.forEach((m, i) => {
      if (typeof m !== 'string') {
        r.err('ERR_POLICY_INVALID', `invalid group member type: group ${JSON.stringify(key)} expected string but got ${JSON.stringify(m)}`, val, i);
      } else if (m.trim().startsWith('group:')) {
        r.err('ERR_POLICY_INVALID', `groups[${JSON.stringify(key)}]: ${JSON.stringify(m)}: group members cannot be recursive`, val, i);
      } else if (!m.includes('@')) {
        r.err('ERR_POLICY_INVALID', `username must contain @, got: ${JSON.stringify(m)}`, val, i);
      } else {
        members.push(m.trim());
      }
    });
    out.set(key, members);
  }
  return out;
}

export function readHosts(r: Reader, v: unknown): Policy['hosts'] {
  const out: Policy['hosts'] = new Map();
  if (v === undefined || v === null) return out;
  if (typeof v !== 'object' || Array.isArray(v)) {
    r.err('ERR_POLICY_INVALID', 'hosts: expected an object', v);
    return out;
  }
  for (const [key, val] of Object.entries(v as Obj)) {
    if (key.includes('@') || key.includes(':') || key === '') {
      r.err('ERR_POLICY_INVALID', `invalid hostname: ${JSON.stringify(key)}`, v, key);
      continue;
    }
    const p = typeof val === 'string' ? parseIPOrPrefix(val) : null;
    if (!p) {
      r.err('ERR_POLICY_INVALID', `hostname contains invalid IP address: hostname ${JSON.stringify(key)} address ${JSON.stringify(typeof val === 'string' ? val : JSON.stringify(val))}`, v, key);
      continue;
    }
    out.set(key, p);
  }
  return out;
}

export function readTagOwners(r: Reader, v: unknown, pol: Policy, alias: AliasFn): void {
  if (v === undefined || v === null) return;
  if (typeof v !== 'object' || Array.isArray(v)) return r.err('ERR_POLICY_INVALID', 'tagOwners: expected an object', v);
  for (const [key, val] of Object.entries(v as Obj)) {
    if (!key.startsWith('tag:')) {
      r.err('ERR_POLICY_INVALID', `tag must start with 'tag:', got: ${JSON.stringify(key)}`, v, key);
      continue;
    }
    if (!/^tag:[A-Za-z]/.test(key)) {
      r.err('ERR_POLICY_INVALID', `tagOwners[${JSON.stringify(key)}]: tag names must start with a letter, after 'tag:'`, v, key);
      continue;
    }
    const owners: Alias[] = [];
    const list = r.strings(val, v, key, `tagOwners[${JSON.stringify(key)}]`);
    list.forEach((o, i) => {
      const a = alias(o, val, i);
      if (!a) return;
      if (a.kind !== 'user' && a.kind !== 'group' && a.kind !== 'tag') r.err('ERR_POLICY_INVALID', `invalid owner format: ${JSON.stringify(o)}`, val, i);
      else owners.push(a);
    });
    pol.tagOwners.set(key, owners);
  }
}

export function readAutoApprovers(r: Reader, v: unknown, pol: Policy, alias: AliasFn): void {
  if (v === undefined || v === null) return;
  const f = r.fields(v, ['routes', 'exitNode'], 'autoApprovers');
  if (!f) return;
  const approvers = (list: unknown, container: unknown, key: string): Alias[] =>
    r.strings(list, container, key, 'autoApprovers').flatMap((s, j) => {
      const a = alias(s, list, j);
      if (!a) return [];
      if (a.kind !== 'user' && a.kind !== 'group' && a.kind !== 'tag') {
        r.err('ERR_POLICY_INVALID', `invalid auto approver format: ${JSON.stringify(s)}`, list, j);
        return [];
      }
      return [a];
    });
  const routes = f.get('routes');
  if (routes !== undefined && routes !== null) {
    if (typeof routes !== 'object' || Array.isArray(routes)) r.err('ERR_POLICY_INVALID', 'autoApprovers.routes: expected an object', f.obj, r.keyOf(f.obj, 'routes'));
    else
      for (const [cidr, list] of Object.entries(routes as Obj)) {
        const p = parsePrefix(cidr);
        if (!p) r.err('ERR_POLICY_INVALID', `invalid prefix: ${JSON.stringify(cidr)}`, routes, cidr);
        else pol.autoApprovers.routes.push({ prefix: p, approvers: approvers(list, routes, cidr) });
      }
  }
  pol.autoApprovers.exitNode = approvers(f.get('exitNode'), f.obj, r.keyOf(f.obj, 'exitNode'));
}

/** Addresses an IP pool may not use: the Quad100 service address and the ChromeOS VM range. */
const RESERVED_V4 = [IPSet.of('100.100.100.100/32'), IPSet.of('100.115.92.0/23')];

export function readNodeAttr(r: Reader, v: unknown, i: number, alias: AliasFn): NodeAttr | null {
  const f = r.fields(v, ['target', 'attr', 'ipPool'], `nodeAttrs[${i}]`);
  if (!f) return null;
  if (f.has('ipPool')) {
    r.err('ERR_POLICY_INVALID', 'nodeAttrs ipPool requires the IP allocator (https://github.com/juanfont/headscale/issues/2912)', f.obj, r.keyOf(f.obj, 'ipPool'));
    const pools = f.get('ipPool');
    if (Array.isArray(pools)) {
      pools.forEach((t, j) => {
        const p = typeof t === 'string' ? parsePrefix(t) : null;
        if (p && RESERVED_V4.some((x) => x.overlapsPrefix(p))) r.err('ERR_POLICY_INVALID', `IPPool(${t as string}): network within reserved range`, pools, j);
      });
    }
  }
  const tRaw = f.get('target');
  const target = r.strings(tRaw, f.obj, r.keyOf(f.obj, 'target'), 'target').flatMap((s, j) => {
    const a = alias(s, tRaw, j, 'node-attr');
    if (!a) return [];
    if (a.kind === 'autogroup' && a.name !== 'member' && a.name !== 'tagged') {
      r.err('ERR_POLICY_INVALID', `nodeAttrs target does not support this autogroup: ${JSON.stringify(a.text)}`, tRaw, j);
      return [];
    }
    return [a];
  });
  const aRaw = f.get('attr');
  const attr = r.strings(aRaw, f.obj, r.keyOf(f.obj, 'attr'), 'attr');
  attr.forEach((s, j) => {
    if (s === 'funnel') r.err('ERR_POLICY_INVALID', `nodeAttrs uses a feature headscale does not yet support: ${JSON.stringify(s)}`, aRaw, j);
  });
  return { target, attr };
}

export function readTest(r: Reader, v: unknown, i: number): PolicyTest | null {
  const f = r.fields(v, ['src', 'proto', 'accept', 'deny'], `tests[${i}]`);
  if (!f) return null;
  const src = r.string(f.get('src'), f.obj, r.keyOf(f.obj, 'src'), 'src') ?? '';
  const accept = r.strings(f.get('accept'), f.obj, r.keyOf(f.obj, 'accept'), 'accept');
  const deny = r.strings(f.get('deny'), f.obj, r.keyOf(f.obj, 'deny'), 'deny');
  // SaaS answers every malformed test with "test(s) failed"; the detail follows on a new line.
  if (accept.length === 0 && deny.length === 0) r.err('ERR_POLICY_TESTS_FAILED', 'test(s) failed\ntest entry must have at least one of "accept" or "deny"', v);
  let proto: number | undefined;
  const pt = (r.string(f.get('proto'), f.obj, r.keyOf(f.obj, 'proto'), 'proto') ?? '').trim().toLowerCase();
  if (pt !== '') {
    const n = pt === 'tcp' ? 6 : pt === 'udp' ? 17 : pt === 'sctp' ? 132 : /^[1-9]\d{0,2}$/.test(pt) && Number(pt) <= 255 ? Number(pt) : undefined;
    if (n === undefined) r.err('ERR_POLICY_TESTS_FAILED', `test(s) failed\ntest protocol must be tcp, udp, sctp, or empty: ${JSON.stringify(pt)}`, f.obj, r.keyOf(f.obj, 'proto'));
    proto = n;
  }
  return { src, proto, accept, deny };
}

