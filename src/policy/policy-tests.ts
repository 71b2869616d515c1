// Owns evaluating the policy's `tests` and `sshTests` (§6.3) against the compiled result:
// every source address must reach (accept) or not reach (deny) each single host:port; SSH
// tests walk each destination's SSH policy as tailssh would (first match wins).

import type { FilterRule } from '../tailcfg/types.js';
import { AliasError, parseAlias, splitHostPort } from './alias.js';
import type { CompiledPolicy } from './compiled.js';
import { type Addr, formatAddr, parseAddr, parseIPOrPrefix } from './ip.js';
import { IPSet, IPSetBuilder } from './ipset.js';
import type { Policy } from './model.js';
import type { Resolver } from './resolve.js';
import type { NodeInfo } from './topology.js';

export interface TestFailure {
  kind: 'test' | 'sshTest';
  index: number;
  message: string;
}

const srcCache = new WeakMap<string[], IPSet>();

function srcSet(srcIPs: string[]): IPSet {
  let s = srcCache.get(srcIPs);
  if (s) return s;
  const b = new IPSetBuilder();
  for (const t of srcIPs) {
    if (t === '*') b.addSet(IPSet.of('0.0.0.0/0', '::/0'));
    else if (t.includes('-')) {
      const [x, y] = t.split('-');
      const a = parseAddr(x!);
      const z = parseAddr(y!);
      if (a && z) b.addRange(a.family, a.value, z.value);
    } else {
      const p = parseIPOrPrefix(t);
      if (p) b.addPrefix(p);
    }
  }
  s = b.build();
  srcCache.set(srcIPs, s);
  return s;
}

function allows(rules: FilterRule[], src: Addr, dst: Addr, port: number, proto: number | undefined): boolean {
  for (const r of rules) {
    if (!r.DstPorts) continue;
    if (proto !== undefined && r.IPProto && !r.IPProto.includes(proto)) continue;
    if (proto !== undefined && !r.IPProto && ![6, 17, 1, 58].includes(proto)) continue;
    if (!srcSet(r.SrcIPs).containsAddr(src)) continue;
    for (const d of r.DstPorts) {
      if (port < d.Ports.First || port > d.Ports.Last) continue;
      if (d.IP === '*' || srcSet([d.IP]).containsAddr(dst)) return true;
    }
  }
  return false;
}

export function runPolicyTests(pol: Policy, compiled: CompiledPolicy, res: Resolver): TestFailure[] {
  const failures: TestFailure[] = [];
  const topo = compiled.topology;
  const nodeByAddr = (a: Addr): NodeInfo | undefined => topo.infos.find((n) => n.addrs.some((x) => x.family === a.family && x.value === a.value));
  pol.tests.forEach((t, index) => {
    const fail = (message: string) => failures.push({ kind: 'test', index, message });
    let srcs: Addr[];
    try {
      srcs = addrsOf(res.resolve(parseAlias(t.src)));
    } catch (e) {
      return fail((e as Error).message);
    }
    if (srcs.length === 0) return fail(`test src ${JSON.stringify(t.src)} resolves to no addresses`);
    for (const [want, list] of [[true, t.accept], [false, t.deny]] as const) {
      for (const d of list) {
        let dsts: Addr[];
        let port: number;
        try {
          const hp = splitHostPort(d);
          if (!/^\d+$/.test(hp.ports)) throw new AliasError('test destination port must be a single port');
          port = Number(hp.ports);
          if (hp.host.includes('/')) throw new AliasError('test destination must be a single host, not a CIDR range');
          const a = parseAlias(hp.host);
          if (a.kind === 'autogroup' && a.name === 'internet') throw new AliasError('autogroup:internet not valid as a test destination');
          if (a.kind === 'autogroup' && a.name === 'self') throw new AliasError('autogroup:self not valid as a test destination');
          if ((a.kind === 'tag' && !pol.tagOwners.has(a.text)) || (a.kind === 'group' && !pol.groups.has(a.text)) || (a.kind === 'host' && !pol.hosts.has(a.text))) {
            throw new AliasError(`unknown test destination ${JSON.stringify(hp.host)}`);
          }
          const set = res.resolve(a);
          if ((a.kind === 'prefix' || a.kind === 'host') && set.prefixes().some((p) => p.bits < (p.family === 4 ? 32 : 128))) throw new AliasError('test destination must be a single host, not a CIDR range');
          if (a.kind === 'wildcard') throw new AliasError('test destination must be a single host, not a CIDR range');
          dsts = addrsOf(set);
          if (dsts.length === 0) throw new AliasError('test destination resolves to no addresses');
        } catch (e) {
          fail(`${d}: ${(e as Error).message}`);
          continue;
        }
        for (const s of srcs) {
          for (const dst of dsts) {
            const node = nodeByAddr(dst);
            const rules = node ? compiled.packetFilterFor(node.node.id) : compiled.globalFilter();
            const ok = allows(rules, s, dst, port, t.proto);
            if (ok !== want) {
              fail(`${formatAddr(s.family, s.value)} -> ${d} (${formatAddr(dst.family, dst.value)}): expected ${want ? 'accept' : 'deny'}, got ${ok ? 'accept' : 'deny'}`);
            }
          }
        }
      }
    }
  });
  pol.sshTests.forEach((t, index) => {
    const fail = (message: string) => failures.push({ kind: 'sshTest', index, message });
    let srcNodes: Set<NodeInfo>;
    try {
      srcNodes = new Set();
      topo.nodesWithAddrIn(res.resolve(parseAlias(t.src)), srcNodes);
    } catch (e) {
      return fail((e as Error).message);
    }
    for (const d of t.dst) {
      const dn = new Set<NodeInfo>();
      try {
        topo.nodesWithAddrIn(res.resolve(parseAlias(d)), dn);
      } catch (e) {
        fail((e as Error).message);
        continue;
      }
      for (const node of dn) {
        const ssh = compiled.sshPolicyFor(node.node.id);
        for (const src of srcNodes) {
          const check = (user: string): 'accept' | 'check' | 'deny' => {
            const ips = src.addrs.map((a) => formatAddr(a.family, a.value));
            for (const r of ssh?.rules ?? []) {
              if (!r.principals.some((p) => p.any || (p.nodeIP !== undefined && ips.includes(p.nodeIP)))) continue;
              let mapped = r.sshUsers[user];
              if (mapped === undefined) mapped = r.sshUsers['*'];
              if (mapped === undefined || mapped === '') continue;
              if (mapped === '=' && user === 'root') continue;
              return r.action.holdAndDelegate ? 'check' : r.action.accept ? 'accept' : 'deny';
            }
            return 'deny';
          };
          const name = src.node.name;
          for (const u of t.accept) if (check(u) === 'deny') fail(`${name} -> ${node.node.name} as ${u}: expected accept, got deny`);
          for (const u of t.check) if (check(u) !== 'check') fail(`${name} -> ${node.node.name} as ${u}: expected check, got ${check(u)}`);
          for (const u of t.deny) if (check(u) !== 'deny') fail(`${name} -> ${node.node.name} as ${u}: expected deny, got ${check(u)}`);
        }
      }
    }
  });
  return failures;
}

function addrsOf(set: IPSet): Addr[] {
  const out: Addr[] = [];
  for (const fam of [4, 6] as const) {
    for (const [a, b] of set.ranges(fam)) {
      if (b - a > 1024n) continue;
      for (let v = a; v <= b; v++) out.push({ family: fam, value: v });
    }
  }
  return out;
}
