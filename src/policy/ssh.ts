// Owns compiling the `ssh` section into one node's tailcfg.SSHPolicy (§5.2): principals per
// source address grouped by user (tagged nodes repeated per tag), sshUsers maps, localpart
// rules, autogroup:self, and check rules ordered before accept rules.

import { formatAddr } from './ip.js';
import type { IPSet } from './ipset.js';
import type { Policy, SshRule } from './model.js';
import type { Resolver } from './resolve.js';
import { type NodeInfo, nodeInSet } from './topology.js';
import type { SSHAction, SSHPolicy, SSHPrincipal, SSHRule } from './wire.js';

interface PreparedRule {
  rule: SshRule;
  src: IPSet;
  userIds: number[];
  byUser: Map<number, SSHPrincipal[]>;
  tagged: SSHPrincipal[];
  dstSelf: boolean;
  /** Nodes in the non-self destinations. */
  dstNodes: Set<NodeInfo>;
  hasOther: boolean;
  baseUsers: Record<string, string>;
  localparts: Map<number, string>;
  action: SSHAction;
}

function principalsOf(n: NodeInfo): SSHPrincipal[] {
  return n.addrs.map((a) => ({ nodeIP: formatAddr(a.family, a.value) }));
}

/** Prepares every SSH rule once; `forNode` then answers per destination. */
export class SshCompiler {
  readonly #rules: PreparedRule[] = [];

  constructor(pol: Policy, res: Resolver, serverUrl: string) {
    const topo = res.topology;
    for (const rule of pol.ssh ?? []) {
      const src = res.resolveAll(rule.src);
      if (src.isEmpty()) continue;
      const byUser = new Map<number, SSHPrincipal[]>();
      const tagged: SSHPrincipal[] = [];
      const srcNodes = new Set<NodeInfo>();
      topo.nodesWithAddrIn(src, srcNodes);
      const ordered = [...srcNodes].sort((a, b) => a.index - b.index);
      const userNodes = new Map<number, NodeInfo[]>();
      for (const n of ordered) {
        if (n.tagged) {
          for (let i = 0; i < n.node.tags.length; i++) tagged.push(...principalsOf(n));
        } else if (n.node.userId !== null) {
          const l = userNodes.get(n.node.userId) ?? [];
          l.push(n);
          userNodes.set(n.node.userId, l);
        }
      }
      for (const [uid, nodes] of userNodes) {
        // an IP set per user: addresses ascending, IPv4 first
        const addrs = nodes.flatMap((n) => n.addrs).sort((a, b) => (a.family !== b.family ? a.family - b.family : a.value < b.value ? -1 : a.value > b.value ? 1 : 0));
        byUser.set(uid, addrs.map((a) => ({ nodeIP: formatAddr(a.family, a.value) })));
      }
      const userIds = [...byUser.keys()].sort((a, b) => a - b);
      const others = rule.dst.filter((d) => !(d.kind === 'autogroup' && d.name === 'self'));
      const dstNodes = new Set<NodeInfo>();
      if (others.length > 0) topo.nodesWithAddrIn(res.resolveAll(others), dstNodes);
      const baseUsers: Record<string, string> = {};
      const lpDomains: string[] = [];
      for (const u of rule.users) {
        if (u === 'autogroup:nonroot') baseUsers['*'] = '=';
        else if (/^localpart:\*@[^@]+$/.test(u)) lpDomains.push(u.slice('localpart:*@'.length).toLowerCase());
      }
      baseUsers.root = rule.users.includes('root') ? 'root' : '';
      for (const u of rule.users) {
        if (u !== 'root' && u !== 'autogroup:nonroot' && !/^localpart:\*@[^@]+$/.test(u)) baseUsers[u] = u;
      }
      const localparts = new Map<number, string>();
      for (const d of lpDomains) {
        for (const user of topo.users) {
          const at = user.email.lastIndexOf('@');
          if (at > 0 && user.email.slice(at + 1).toLowerCase() === d) localparts.set(user.id, user.email.slice(0, at));
        }
      }
      const action: SSHAction =
        rule.action === 'accept'
          ? { accept: true, allowAgentForwarding: true, allowLocalPortForwarding: true, allowRemotePortForwarding: true }
          : { holdAndDelegate: `${serverUrl}/machine/ssh/action/$SRC_NODE_ID/to/$DST_NODE_ID?local_user=$LOCAL_USER` };
      this.#rules.push({ rule, src, userIds, byUser, tagged, dstSelf: others.length < rule.dst.length, dstNodes, hasOther: others.length > 0, baseUsers, localparts, action });
    }
  }

  forNode(n: NodeInfo): SSHPolicy {
    const rules: SSHRule[] = [];
    for (const p of this.#rules) {
      const hasLocalpart = p.localparts.size > 0 || p.rule.users.some((u) => /^localpart:\*@[^@]+$/.test(u));
      const emit = (principals: SSHPrincipal[], uid: number | null) => {
        const base: SSHRule = { principals, sshUsers: p.baseUsers, action: p.action };
        if (p.rule.acceptEnv && p.rule.acceptEnv.length > 0) base.acceptEnv = p.rule.acceptEnv;
        rules.push(base);
        const lp = uid === null ? undefined : p.localparts.get(uid);
        if (lp !== undefined) rules.push({ ...base, sshUsers: { [lp]: lp } });
      };
      const uid = n.tagged ? null : n.node.userId;
      if (p.dstSelf && uid !== null) {
        const own = p.byUser.get(uid);
        if (own && own.length > 0) emit(own, uid);
      }
      if (!p.hasOther) continue;
      if (p.dstNodes.has(n)) {
        if (hasLocalpart) {
          for (const u of p.userIds) emit(p.byUser.get(u)!, u);
          if (p.tagged.length > 0) emit(p.tagged, null);
        } else {
          const all = [...p.userIds.flatMap((u) => p.byUser.get(u)!), ...p.tagged];
          if (all.length > 0) emit(all, null);
        }
      } else if (hasLocalpart && nodeInSet(n, p.src)) {
        if (n.tagged) emit(principalsOf(n), null);
        else if (uid !== null) {
          const own = p.byUser.get(uid);
          if (own && own.length > 0) emit(own, uid);
        }
      }
    }
    const isCheck = (r: SSHRule) => r.action.holdAndDelegate !== undefined;
    return { rules: [...rules.filter(isCheck), ...rules.filter((r) => !isCheck(r))] };
  }
}
