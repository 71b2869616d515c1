// Owns turning ACLs and grants into compiled rules: ACL → grant conversion (with HS's
// ordering), SrcIPs text (§3.3), DstPorts (§3.4), CapGrant and companion caps (§3.6),
// merging (§3.7). Self and via grants are kept as deferred per-node data.

import type { FilterRule, NetPortRange, PortRange } from '../tailcfg/types.js';
import { formatAddr, formatPrefix, parseIPOrPrefix } from './ip.js';
import { IPSet, IPSetBuilder } from './ipset.js';
import type { Alias, Grant, IPCap, Policy } from './model.js';
import { ALL_IPS, INTERNET, type Resolver } from './resolve.js';

/** A FilterRule plus what matchers and reduction need, computed once. */
export interface CompiledRule {
  rule: FilterRule;
  /** Source addresses (the parsed SrcIPs). */
  src: IPSet;
  /** Every destination address (DstPorts IPs and CapGrant Dsts). */
  dst: IPSet;
  /** Per DstPorts entry: its address set, or null for "*". */
  entries: Array<IPSet | null>;
  /** Per CapGrant element and Dsts entry: the prefix set. */
  capDsts: IPSet[][];
}

export interface SelfGrant {
  src: IPSet[];
  ip: IPCap[];
  app: Record<string, unknown[]> | null;
}

export interface ViaGrant {
  via: string[];
  srcIPs: string[];
  src: IPSet;
  /** Non-internet destination sets, each with its alias text. */
  dsts: IPSet[];
  internet: boolean;
  ip: IPCap[];
}

export interface CompiledGrants {
  /** Merged global rules. */
  rules: CompiledRule[];
  self: SelfGrant[];
  via: ViaGrant[];
}

/** The internet set as SaaS writes DstPorts: ranges, never CIDRs. */
export const INTERNET_RANGE_STRINGS: string[] = [
  ...INTERNET.v4.map(([a, b]) => `${formatAddr(4, a)}-${formatAddr(4, b)}`),
  ...INTERNET.v6.map(([a, b]) => `${formatAddr(6, a)}-${formatAddr(6, b)}`),
];

/** ACLs as grants, after the real grants (HS order; self grants last when mixed). */
export function allGrants(pol: Policy): Grant[] {
  const out: Grant[] = [...(pol.grants ?? [])];
  for (const acl of pol.acls ?? []) {
    const per = acl.dst.map((d) => ({ src: acl.src, dst: [d.alias], ip: [{ proto: acl.proto, ports: d.ports }], app: null, via: [] }) as Grant);
    const isSelf = (g: Grant) => g.dst[0]!.kind === 'autogroup' && (g.dst[0] as { name: string }).name === 'self';
    if (acl.dst.some((d) => d.alias.kind !== 'autogroup')) out.push(...per.filter((g) => !isSelf(g)), ...per.filter(isSelf));
    else out.push(...per);
  }
  return out;
}

export function compileGrants(pol: Policy, res: Resolver, keys: MergeKeys): CompiledGrants {
  const raw: CompiledRule[] = [];
  const self: SelfGrant[] = [];
  const via: ViaGrant[] = [];
  // grants with the same sources share their resolved sets and SrcIPs text (and so merge cheaply)
  const srcMemo = new Map<string, SourceInfo>();
  for (const g of allGrants(pol)) {
    if (g.src.length === 0 || g.dst.length === 0) continue;
    const srcId = g.src.map((a) => a.text).join('\n');
    let info = srcMemo.get(srcId);
    if (!info) srcMemo.set(srcId, (info = sourceInfo(g.src, res)));
    const { resolved, srcSet, wildcard, dangerAll } = info;
    if (g.via.length > 0) {
      // kept without `ip` too: an app-only via grant adds no rule but still steers and shows routers
      if (srcSet.isEmpty()) continue;
      const internet = g.dst.some(isInternet);
      via.push({ via: g.via, srcIPs: srcStrings(resolved, srcSet, [], wildcard, dangerAll, res), src: matcherSrc(srcSet, wildcard, dangerAll, res), dsts: g.dst.filter((d) => !isInternet(d)).map((d) => res.resolve(d)), internet, ip: g.ip });
      continue;
    }
    if (resolved.length === 0 && g.app === null) continue;
    const { srcIPs, src } = info;
    const others = g.dst.filter((d) => !(d.kind === 'autogroup' && d.name === 'self'));
    if (others.length < g.dst.length) self.push({ src: resolved.map((x) => x.set), ip: g.ip, app: g.app });
    if (others.length === 0) continue;
    if (srcIPs.length > 0) {
      for (const cap of g.ip) {
        const entries: Array<IPSet | null> = [];
        const dstPorts = destPorts(others, cap.ports, res, entries);
        if (dstPorts.length === 0) continue;
        const rule: FilterRule = { SrcIPs: srcIPs, DstPorts: dstPorts };
        if (cap.proto) rule.IPProto = cap.proto;
        raw.push({ rule, src, dst: unionSets(entries.map((e) => e ?? ALL_IPS)), entries, capDsts: [] });
      }
    }
    if (g.app) raw.push(...appRules(g.app, others, srcIPs, src, resolved.map((x) => x.set), res));
  }
  return { rules: mergeRules(raw, keys), self, via };
}

interface SourceInfo {
  resolved: Array<{ a: Alias; set: IPSet }>;
  srcSet: IPSet;
  wildcard: boolean;
  dangerAll: boolean;
  srcIPs: string[];
  src: IPSet;
}

function sourceInfo(aliases: Alias[], res: Resolver): SourceInfo {
  const resolved = aliases.map((a) => ({ a, set: res.resolve(a) })).filter((x) => !x.set.isEmpty());
  const srcSet = unionSets(resolved.length > 0 ? resolved.map((x) => x.set) : [IPSet.EMPTY]);
  const wildcard = aliases.some((a) => a.kind === 'wildcard');
  const dangerAll = aliases.some((a) => a.kind === 'autogroup' && a.name === 'danger-all');
  const nonWild = resolved.filter((x) => x.a.kind !== 'wildcard').map((x) => aliasStrings(x.a, x.set));
  const srcIPs = resolved.length === 0 ? [] : srcStrings(resolved, srcSet, nonWild, wildcard, dangerAll, res);
  return { resolved, srcSet, wildcard, dangerAll, srcIPs, src: matcherSrc(srcSet, wildcard, dangerAll, res) };
}

function isInternet(a: Alias): boolean {
  return a.kind === 'autogroup' && a.name === 'internet';
}

export function unionSets(sets: IPSet[]): IPSet {
  if (sets.length === 1) return sets[0]!;
  const b = new IPSetBuilder();
  for (const s of sets) b.addSet(s);
  return b.build();
}

/** How SaaS writes one source's addresses: devices one by one, CIDRs and hosts as prefixes. */
export function aliasStrings(a: Alias, set: IPSet): string[] {
  if (a.kind === 'wildcard') return [...set.strings()];
  if (a.kind === 'prefix' || a.kind === 'host') return set.prefixStrings();
  return set.addressStrings();
}

/** The union of several sources' strings, deduplicated, in address order (IPv4 first). */
function unionStrings(parts: Array<{ a: Alias; set: IPSet }>): string[] {
  if (parts.length === 1) return aliasStrings(parts[0]!.a, parts[0]!.set);
  if (parts.every((x) => x.a.kind !== 'wildcard' && x.a.kind !== 'prefix' && x.a.kind !== 'host')) {
    return unionSets(parts.map((x) => x.set)).addressStrings();
  }
  const seen = new Map<string, { fam: number; v: bigint; bits: number }>();
  for (const { a, set } of parts) {
    for (const t of aliasStrings(a, set)) {
      if (seen.has(t)) continue;
      const first = t.split('-')[0]!;
      const p = parseIPOrPrefix(first);
      seen.set(t, { fam: p?.family ?? 9, v: p?.value ?? 0n, bits: p?.bits ?? 0 });
    }
  }
  return [...seen].sort(([, x], [, y]) => x.fam - y.fam || (x.v < y.v ? -1 : x.v > y.v ? 1 : x.bits - y.bits)).map(([t]) => t);
}

/** SrcIPs text (§3.3). */
export function srcStrings(parts: Array<{ a: Alias; set: IPSet }>, union: IPSet, nonWild: string[][], wildcard: boolean, dangerAll: boolean, res: Resolver): string[] {
  if (dangerAll) return ['*'];
  // with `*` the merged set is written as ranges (devices absorbed), then the routes, then
  // each other source's own strings again (SaaS keeps them)
  const out = wildcard ? [...union.strings()] : [...unionStrings(parts)];
  if (!wildcard) return out;
  const seen = new Set(out);
  for (const r of res.topology.approvedSubnetRoutes) {
    out.push(r);
    seen.add(r);
  }
  for (const s of nonWild) {
    for (const t of s) {
      if (!seen.has(t)) {
        seen.add(t);
        out.push(t);
      }
    }
  }
  return out;
}

function matcherSrc(set: IPSet, wildcard: boolean, dangerAll: boolean, res: Resolver): IPSet {
  if (dangerAll) return ALL_IPS;
  if (!wildcard || res.topology.approvedSubnetRoutes.length === 0) return set;
  return unionSets([set, IPSet.of(...res.topology.approvedSubnetRoutes)]);
}

function destPorts(dsts: Alias[], ports: PortRange[], res: Resolver, entries: Array<IPSet | null>): NetPortRange[] {
  const out: NetPortRange[] = [];
  for (const d of dsts) {
    if (d.kind === 'wildcard') {
      for (const p of ports) {
        out.push({ IP: '*', Ports: { ...p } });
        entries.push(null);
      }
      continue;
    }
    if (isInternet(d)) {
      const sets = [...INTERNET.v4.map((r) => new IPSet([r], [])), ...INTERNET.v6.map((r) => new IPSet([], [r]))];
      INTERNET_RANGE_STRINGS.forEach((ip, i) => {
        for (const p of ports) {
          out.push({ IP: ip, Ports: { ...p } });
          entries.push(sets[i]!);
        }
      });
      continue;
    }
    const set = res.resolve(d);
    for (const pref of set.prefixes()) {
      const text = formatPrefixBareOf(pref);
      const ps = new IPSetBuilder().addPrefix(pref).build();
      for (const p of ports) {
        out.push({ IP: text, Ports: { ...p } });
        entries.push(ps);
      }
    }
  }
  return out;
}

function formatPrefixBareOf(p: { family: 4 | 6; value: bigint; bits: number }): string {
  return p.bits === (p.family === 4 ? 32 : 128) ? formatAddr(p.family, p.value) : formatPrefix(p);
}

function appRules(app: Record<string, unknown[]>, dsts: Alias[], srcIPs: string[], src: IPSet, srcSets: IPSet[], res: Resolver): CompiledRule[] {
  const capDsts: IPSet[][] = [];
  const dstStrings: string[] = [];
  const sets = dsts.map((d) => res.resolve(d));
  const grants = sets.map((set) => {
    const prefixes = set.prefixes();
    capDsts.push(prefixes.map((p) => new IPSetBuilder().addPrefix(p).build()));
    dstStrings.push(...set.strings());
    return { Dsts: prefixes.map(formatPrefix), CapMap: { ...app } };
  });
  const dstAll = unionSets(sets);
  const out: CompiledRule[] = [{ rule: { SrcIPs: srcIPs, CapGrant: grants }, src, dst: dstAll, entries: [], capDsts }];
  if (dsts.some((d) => d.kind === 'wildcard')) dstStrings.push(...res.topology.approvedSubnetRoutes);
  const companions: Array<[string, string]> = [
    ['tailscale.com/cap/drive', 'tailscale.com/cap/drive-sharer'],
    ['tailscale.com/cap/relay', 'tailscale.com/cap/relay-target'],
  ];
  const srcPrefixes = srcSets.flatMap((s) => s.prefixes());
  const srcAll = unionSets(srcSets.length > 0 ? srcSets : [IPSet.EMPTY]);
  for (const [cap, companion] of companions) {
    if (!(cap in app)) continue;
    out.push({
      rule: { SrcIPs: dstStrings, CapGrant: [{ Dsts: srcPrefixes.map(formatPrefix), CapMap: { [companion]: null as unknown as unknown[] } }] },
      src: unionSets([dstAll, ...(dstStrings.length > 0 ? [] : [])]),
      dst: srcAll,
      entries: [],
      capDsts: [srcPrefixes.map((p) => new IPSetBuilder().addPrefix(p).build())],
    });
  }
  return out;
}

/**
 * Short merge keys for SrcIPs lists: equal lists get the same number. Computed once per list
 * object, so large lists are not re-hashed for every node. One instance per compile.
 */
export class MergeKeys {
  readonly #byList = new WeakMap<string[], number>();
  readonly #byText = new Map<string, number>();

  get size(): number {
    return this.#byText.size;
  }

  of(srcIPs: string[]): number {
    let k = this.#byList.get(srcIPs);
    if (k === undefined) {
      const text = srcIPs.join(',');
      k = this.#byText.get(text);
      if (k === undefined) {
        k = this.#byText.size;
        this.#byText.set(text, k);
      }
      this.#byList.set(srcIPs, k);
    }
    return k;
  }
}

/** Merge rules with the same SrcIPs and IPProto (§3.7); CapGrant rules pass through. */
export function mergeRules(rules: CompiledRule[], keys: MergeKeys = new MergeKeys()): CompiledRule[] {
  const out: CompiledRule[] = [];
  const byKey = new Map<string, CompiledRule>();
  const pending = new Map<CompiledRule, IPSet[]>();
  for (const r of rules) {
    if (r.rule.CapGrant) {
      out.push(r);
      continue;
    }
    const key = `${keys.of(r.rule.SrcIPs)}|${(r.rule.IPProto ?? []).join(',')}`;
    const prev = byKey.get(key);
    if (!prev) {
      const copy: CompiledRule = { ...r, rule: { ...r.rule, DstPorts: [...(r.rule.DstPorts ?? [])] }, entries: [...r.entries] };
      byKey.set(key, copy);
      out.push(copy);
      continue;
    }
    prev.rule.DstPorts!.push(...(r.rule.DstPorts ?? []));
    prev.entries.push(...r.entries);
    const parts = pending.get(prev) ?? [prev.dst];
    parts.push(r.dst);
    pending.set(prev, parts);
  }
  for (const [rule, parts] of pending) rule.dst = unionSets(parts);
  return out;
}
