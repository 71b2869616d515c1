// Owns parsePolicy: HuJSON text → validated Policy (model.ts). Structure is read with
// reader.ts; every error is collected (HS reports a multi-error) with line/column, using
// Tailscale's/headscale's texts. Cross-references (tags, groups, hosts) are checked here.

import { AliasError, checkProtoPorts, isTailscaleCapAllowed, parseAlias, parseIPCap, parsePorts, parseProto, splitHostPort } from './alias.js';
import { PolicyError, type PolicyErrorCode } from './errors.js';
import { parseHuJSON } from './hujson.js';
import { parsePrefix, parseIPOrPrefix } from './ip.js';
import type { AclRule, Alias, Grant, NodeAttr, Policy, PolicyTest, SshRule, SshTest } from './model.js';
import { type Obj, Reader } from './reader.js';
import { readSshRule, readSshTest } from './parse-ssh.js';

const TOP = ['groups', 'hosts', 'tagOwners', 'acls', 'grants', 'ssh', 'autoApprovers', 'nodeAttrs', 'tests', 'sshTests', 'randomizeClientPort'] as const;

/** Parse and validate a policy. Throws PolicyError (a multi-error lists every problem). */
export function parsePolicy(text: string): Policy {
  const doc = parseHuJSON(text);
  const r = new Reader(doc);
  const pol = readPolicy(r);
  if (pol) validateReferences(r, pol.policy, pol.refs);
  if (r.errors.length > 0 || !pol) throw PolicyError.combine(r.errors);
  return pol.policy;
}

/** An alias together with where it was written, for reference checks after reading. */
interface Ref {
  alias: Alias;
  container: unknown;
  key: string | number;
  /** How to phrase an undefined-tag error here. */
  ctx: 'acl-src' | 'acl-dst' | 'plain';
  raw: string;
}

function readPolicy(r: Reader): { policy: Policy; refs: Ref[] } | null {
  const top = r.fields(r.doc.value, TOP, 'policy');
  if (!top) return null;
  const refs: Ref[] = [];
  const alias = (raw: string, container: unknown, key: string | number, ctx: Ref['ctx'] = 'plain'): Alias | null => {
    try {
      const a = parseAlias(raw);
      refs.push({ alias: a, container, key, ctx, raw });
      return a;
    } catch (e) {
      r.err('ERR_POLICY_ALIAS', (e as Error).message, container, key);
      return null;
    }
  };
  const policy: Policy = {
    groups: readGroups(r, top.get('groups')),
    hosts: readHosts(r, top.get('hosts')),
    tagOwners: new Map(),
    acls: null,
    grants: null,
    ssh: null,
    autoApprovers: { routes: [], exitNode: [] },
    nodeAttrs: [],
    tests: [],
    sshTests: [],
    randomizeClientPort: false,
  };
  readTagOwners(r, top.get('tagOwners'), policy, alias);
  const acls = r.array(top.get('acls'), top.obj, r.keyOf(top.obj, 'acls'), 'acls');
  if (acls) policy.acls = acls.map((v, i) => readAcl(r, v, i, alias)).filter((x): x is AclRule => x !== null);
  const grants = r.array(top.get('grants'), top.obj, r.keyOf(top.obj, 'grants'), 'grants');
  if (grants) policy.grants = grants.map((v, i) => readGrant(r, v, i, alias)).filter((x): x is Grant => x !== null);
  const ssh = r.array(top.get('ssh'), top.obj, r.keyOf(top.obj, 'ssh'), 'ssh');
  if (ssh) policy.ssh = ssh.map((v, i) => readSshRule(r, v, i, alias)).filter((x): x is SshRule => x !== null);
  readAutoApprovers(r, top.get('autoApprovers'), policy, alias);
  const na = r.array(top.get('nodeAttrs'), top.obj, r.keyOf(top.obj, 'nodeAttrs'), 'nodeAttrs');
  if (na) policy.nodeAttrs = na.map((v, i) => readNodeAttr(r, v, i, alias)).filter((x): x is NodeAttr => x !== null);
  const tests = r.array(top.get('tests'), top.obj, r.keyOf(top.obj, 'tests'), 'tests');
  if (tests) policy.tests = tests.map((v, i) => readTest(r, v, i)).filter((x): x is PolicyTest => x !== null);
  const sshTests = r.array(top.get('sshTests'), top.obj, r.keyOf(top.obj, 'sshTests'), 'sshTests');
  if (sshTests) policy.sshTests = sshTests.map((v, i) => readSshTest(r, v, i, policy)).filter((x): x is SshTest => x !== null);
  const rcp = top.get('randomizeClientPort');
  if (rcp !== undefined && rcp !== null) {
    if (typeof rcp !== 'boolean') r.err('ERR_POLICY_INVALID', 'randomizeClientPort: expected a boolean', top.obj, r.keyOf(top.obj, 'randomizeClientPort'));
    else policy.randomizeClientPort = rcp;
  }
  return { policy, refs };
}

function readGroups(r: Reader, v: unknown): Map<string, string[]> {
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

function readHosts(r: Reader, v: unknown): Policy['hosts'] {
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

type AliasFn = (raw: string, container: unknown, key: string | number, ctx?: Ref['ctx']) => Alias | null;

function readTagOwners(r: Reader, v: unknown, pol: Policy, alias: AliasFn): void {
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

function readAcl(r: Reader, v: unknown, i: number, alias: AliasFn): AclRule | null {
  const f = r.fields(v, ['action', 'src', 'dst', 'proto'], `acls[${i}]`, true);
  if (!f) return null;
  const action = f.get('action');
  if (action !== 'accept') {
    r.err('ERR_POLICY_INVALID', `action=${JSON.stringify(typeof action === 'string' ? action : '')} is not supported`, f.obj, f.has('action') ? r.keyOf(f.obj, 'action') : undefined);
  }
  const srcRaw = f.get('src');
  const src = r.strings(srcRaw, f.obj, r.keyOf(f.obj, 'src'), 'src').map((s, j) => alias(s, srcRaw, j, 'acl-src')).filter((a): a is Alias => a !== null);
  let proto: number[] | undefined;
  const protoText = r.string(f.get('proto'), f.obj, r.keyOf(f.obj, 'proto'), 'proto') ?? '';
  try {
    proto = parseProto(protoText);
  } catch (e) {
    r.err('ERR_POLICY_PROTO', (e as Error).message, f.obj, r.keyOf(f.obj, 'proto'));
  }
  const dstRaw = f.get('dst');
  const dst: AclRule['dst'] = [];
  r.strings(dstRaw, f.obj, r.keyOf(f.obj, 'dst'), 'dst').forEach((d, j) => {
    try {
      const { host, ports: portText } = splitHostPort(d);
      let a: Alias;
      try {
        a = parseAlias(host);
      } catch (e) {
        throw new AliasError(`dst=${JSON.stringify(d)}: ${(e as Error).message}`);
      }
      let ports;
      try {
        ports = parsePorts(portText);
        checkProtoPorts(protoText, proto, ports);
      } catch (e) {
        throw new AliasError(`dst=${JSON.stringify(d)}: ${(e as Error).message}`);
      }
      dst.push({ alias: a, ports });
      alias(host, dstRaw, j, 'acl-dst');
    } catch (e) {
      r.err('ERR_POLICY_PORTS', (e as Error).message.startsWith('dst=') ? (e as Error).message : `dst=${JSON.stringify(d)}: ${(e as Error).message}`, dstRaw, j);
    }
  });
  return { src, dst, proto };
}

function readGrant(r: Reader, v: unknown, i: number, alias: AliasFn): Grant | null {
  const f = r.fields(v, ['src', 'dst', 'ip', 'app', 'via'], `grants[${i}]`);
  if (!f) return null;
  const srcRaw = f.get('src');
  const dstRaw = f.get('dst');
  const src = r.strings(srcRaw, f.obj, r.keyOf(f.obj, 'src'), 'src').map((s, j) => alias(s, srcRaw, j, 'acl-src')).filter((a): a is Alias => a !== null);
  const dst = r.strings(dstRaw, f.obj, r.keyOf(f.obj, 'dst'), 'dst').map((s, j) => alias(s, dstRaw, j)).filter((a): a is Alias => a !== null);
  const ipRaw = f.get('ip');
  let ipErrors = 0;
  const ip = r.strings(ipRaw, f.obj, r.keyOf(f.obj, 'ip'), 'ip').flatMap((s, j) => {
    try {
      return [parseIPCap(s)];
    } catch (e) {
      ipErrors++;
      r.err('ERR_POLICY_PORTS', (e as Error).message, ipRaw, j);
      return [];
    }
  });
  let app: Record<string, unknown[]> | null = null;
  const appRaw = f.get('app');
  if (appRaw !== undefined && appRaw !== null) {
    if (typeof appRaw !== 'object' || Array.isArray(appRaw)) {
      r.err('ERR_POLICY_INVALID', 'app: expected an object', f.obj, r.keyOf(f.obj, 'app'));
    } else {
      app = {};
      for (const [name, val] of Object.entries(appRaw as Obj)) {
        if (name.includes('://') || !/^[^/]+\.[^/]+\/.+/.test(name)) r.err('ERR_POLICY_INVALID', 'capability name must have the form {domain}/{path}', appRaw, name);
        else if (name.startsWith('tailscale.com/') && !isTailscaleCapAllowed(name)) r.err('ERR_POLICY_INVALID', 'capability name must not be in the tailscale.com domain', appRaw, name);
        else if (!Array.isArray(val)) r.err('ERR_POLICY_INVALID', `app[${JSON.stringify(name)}]: expected an array`, appRaw, name);
        else app[name] = val;
      }
    }
  }
  if (ip.length === 0 && ipErrors === 0 && (app === null || Object.keys(app).length === 0)) {
    r.err('ERR_POLICY_INVALID', 'ip and app can not both be empty', v);
  }
  const viaRaw = f.get('via');
  const via: string[] = [];
  r.strings(viaRaw, f.obj, r.keyOf(f.obj, 'via'), 'via').forEach((s, j) => {
    const t = s.trim();
    if (!t.startsWith('tag:')) r.err('ERR_POLICY_INVALID', 'via can only be a tag', viaRaw, j);
    else via.push(t);
  });
  for (const [j, d] of dst.entries()) {
    if (app && d.kind === 'autogroup' && d.name === 'internet') r.err('ERR_POLICY_INVALID', 'cannot use app grants with autogroup:internet', dstRaw, j);
    if (d.kind === 'prefix' && d.prefix.bits === 0) r.err('ERR_POLICY_INVALID', `dst ${JSON.stringify(d.text)}: to allow all IP addresses, use "*" or "autogroup:internet"`, dstRaw, j);
  }
  checkSelf(r, src, dst.some((d) => d.kind === 'autogroup' && d.name === 'self'), false, f.obj);
  return { src, dst, ip, app, via };
}

/** Sources allowed with an autogroup:self destination (grants also reject `*`). */
export function checkSelf(r: Reader, src: Alias[], hasSelf: boolean, allowWildcard: boolean, where: unknown): void {
  if (!hasSelf) return;
  const ok = src.every((s) => s.kind === 'user' || s.kind === 'group' || (s.kind === 'autogroup' && s.name === 'member') || (allowWildcard && s.kind === 'wildcard'));
  if (!ok) r.err('ERR_POLICY_INVALID', 'autogroup:self can only be used with users, groups, or supported autogroups', where);
}

function readAutoApprovers(r: Reader, v: unknown, pol: Policy, alias: AliasFn): void {
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

function readNodeAttr(r: Reader, v: unknown, i: number, alias: AliasFn): NodeAttr | null {
  const f = r.fields(v, ['target', 'attr', 'ipPool'], `nodeAttrs[${i}]`);
  if (!f) return null;
  if (f.has('ipPool')) r.err('ERR_POLICY_INVALID', 'nodeAttrs ipPool requires the IP allocator (https://github.com/juanfont/headscale/issues/2912)', f.obj, r.keyOf(f.obj, 'ipPool'));
  const tRaw = f.get('target');
  const target = r.strings(tRaw, f.obj, r.keyOf(f.obj, 'target'), 'target').flatMap((s, j) => {
    const a = alias(s, tRaw, j);
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

function readTest(r: Reader, v: unknown, i: number): PolicyTest | null {
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

const UNDEF_CODE: Record<string, PolicyErrorCode> = { tag: 'ERR_POLICY_UNKNOWN_TAG', group: 'ERR_POLICY_UNKNOWN_GROUP', host: 'ERR_POLICY_UNKNOWN_HOST' };

function validateReferences(r: Reader, pol: Policy, refs: Ref[]): void {
  for (const ref of refs) {
    const a = ref.alias;
    let msg: string | null = null;
    if (a.kind === 'tag' && !pol.tagOwners.has(a.text)) msg = `tag not found: ${JSON.stringify(a.text)}`;
    else if (a.kind === 'group' && !pol.groups.has(a.text)) msg = `group not defined in policy: ${JSON.stringify(a.text)}`;
    else if (a.kind === 'host' && !pol.hosts.has(a.text)) msg = `host not defined in policy: ${JSON.stringify(a.text)}`;
    if (msg === null) continue;
    if (ref.ctx === 'acl-src') msg = `src=${msg}`;
    else if (ref.ctx === 'acl-dst') msg = `dst=${JSON.stringify(ref.raw.trim())}: ${msg}`;
    r.err(UNDEF_CODE[a.kind]!, msg, ref.container, ref.key);
  }
  // tag owners that are tags must exist
  for (const [tag, owners] of pol.tagOwners) {
    for (const o of owners) if (o.kind === 'tag' && !pol.tagOwners.has(o.text)) r.err('ERR_POLICY_UNKNOWN_TAG', `tag ${JSON.stringify(tag)} references undefined tag ${JSON.stringify(o.text)}`);
  }
  for (const g of pol.grants ?? []) {
    for (const t of g.via) if (!pol.tagOwners.has(t)) r.err('ERR_POLICY_UNKNOWN_TAG', `tag ${JSON.stringify(t)} not found`);
  }
  placement(r, pol);
}

function placement(r: Reader, pol: Policy): void {
  const srcCheck = (src: Alias[]) => {
    for (const s of src) {
      if (s.kind !== 'autogroup') continue;
      if (s.name === 'internet') r.err('ERR_POLICY_INVALID', 'autogroup:internet can only be used in ACL destinations');
      else if (s.name === 'self') r.err('ERR_POLICY_INVALID', '"autogroup:self" not valid on the src side of a rule');
      else if (s.name === 'nonroot') r.err('ERR_POLICY_INVALID', `autogroup not supported for ACL sources: ${JSON.stringify(s.text)}`);
    }
  };
  const dstCheck = (d: Alias) => {
    if (d.kind !== 'autogroup') return;
    if (d.name === 'danger-all') r.err('ERR_POLICY_INVALID', 'cannot use autogroup:danger-all as a dst');
    else if (d.name === 'nonroot') r.err('ERR_POLICY_INVALID', `autogroup not supported for ACL destinations: ${JSON.stringify(d.text)}`);
  };
  for (const acl of pol.acls ?? []) {
    srcCheck(acl.src);
    acl.dst.forEach((d) => dstCheck(d.alias));
    checkSelf(r, acl.src, acl.dst.some((d) => d.alias.kind === 'autogroup' && d.alias.name === 'self'), true, undefined);
  }
  for (const g of pol.grants ?? []) {
    srcCheck(g.src);
    g.dst.forEach(dstCheck);
  }
}
