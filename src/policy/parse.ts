// Owns parsePolicy: HuJSON text → validated Policy (model.ts). Structure is read with
// reader.ts; every error is collected (HS reports a multi-error) with line/column, using
// Tailscale's/headscale's texts. Cross-references (tags, groups, hosts) are checked here.

import { parseAlias } from './alias.js';
import { PolicyError, type PolicyErrorCode } from './errors.js';
import { parseHuJSON } from './hujson.js';
import type { AclRule, Alias, Grant, NodeAttr, Policy, PolicyTest, SshRule, SshTest } from './model.js';
import { checkSelf, readAcl, readGrant } from './parse-rules.js';
import { readAutoApprovers, readGroups, readHosts, readNodeAttr, readTagOwners, readTest } from './parse-sections.js';
import { readSshRule, readSshTest } from './parse-ssh.js';
import { type AliasFn, Reader, type RefCtx } from './reader.js';

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
  ctx: RefCtx;
  raw: string;
}

function readPolicy(r: Reader): { policy: Policy; refs: Ref[] } | null {
  const top = r.fields(r.doc.value, TOP, 'policy');
  if (!top) return null;
  const refs: Ref[] = [];
  const alias: AliasFn = (raw, container, key, ctx = 'plain') => {
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

const UNDEF_CODE: Record<string, PolicyErrorCode> = { tag: 'ERR_POLICY_UNKNOWN_TAG', group: 'ERR_POLICY_UNKNOWN_GROUP', host: 'ERR_POLICY_UNKNOWN_HOST' };

function validateReferences(r: Reader, pol: Policy, refs: Ref[]): void {
  for (const ref of refs) {
    const a = ref.alias;
    let msg: string | null = null;
    if (a.kind === 'tag' && !pol.tagOwners.has(a.text)) msg = `tag not found: ${JSON.stringify(a.text)}`;
    else if (a.kind === 'group' && !pol.groups.has(a.text)) msg = `group not defined in policy: ${JSON.stringify(a.text)}`;
    // a nodeAttrs target that is neither a known host nor an address: SaaS's wording
    else if (a.kind === 'host' && !pol.hosts.has(a.text)) msg = ref.ctx === 'node-attr' ? `${JSON.stringify(a.text)}: invalid address` : `host not defined in policy: ${JSON.stringify(a.text)}`;
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
