// Owns reading and validating the `ssh` and `sshTests` sections (Tailscale SSH rules):
// actions, users (root, autogroup:nonroot, localpart:*@domain), checkPeriod, acceptEnv,
// and the source/destination combinations SaaS and HS allow.

import { formatGoDuration, parseGoDuration } from './duration.js';
import { parseIPOrPrefix } from './ip.js';
import type { Alias, Policy, SshRule, SshTest } from './model.js';
import type { Reader } from './reader.js';

type AliasFn = (raw: string, container: unknown, key: string | number) => Alias | null;

const MAX_CHECK = 168 * 3600e9;

export function readSshRule(r: Reader, v: unknown, i: number, alias: AliasFn): SshRule | null {
  const f = r.fields(v, ['action', 'src', 'dst', 'users', 'checkPeriod', 'acceptEnv'], `ssh[${i}]`);
  if (!f) return null;
  const fail = (msg: string, key?: string) => r.err('ERR_POLICY_SSH', msg, key === undefined ? v : f.obj, key === undefined ? undefined : r.keyOf(f.obj, key));
  const actionRaw = f.get('action');
  const action = typeof actionRaw === 'string' ? actionRaw.trim() : '';
  if (action === '') fail('action must be specified', 'action');
  else if (action !== 'accept' && action !== 'check') fail(`${JSON.stringify(action)} is not a valid action`, 'action');

  const srcRaw = f.get('src');
  const dstRaw = f.get('dst');
  const src = r.strings(srcRaw, f.obj, r.keyOf(f.obj, 'src'), 'src').flatMap((s, j) => {
    const a = alias(s, srcRaw, j);
    if (!a) return [];
    if (a.kind === 'wildcard' || a.kind === 'prefix' || a.kind === 'host') {
      r.err('ERR_POLICY_SSH', `alias not supported for SSH source: ${JSON.stringify(a.text)}`, srcRaw, j);
      return [];
    }
    if (a.kind === 'autogroup' && a.name !== 'member' && a.name !== 'tagged') {
      r.err('ERR_POLICY_SSH', `autogroup not supported for SSH sources: ${JSON.stringify(a.text)}`, srcRaw, j);
      return [];
    }
    return [a];
  });
  const dst = r.strings(dstRaw, f.obj, r.keyOf(f.obj, 'dst'), 'dst').flatMap((s, j) => {
    const t = s.trim();
    if (t === '*') {
      r.err('ERR_POLICY_SSH', "wildcard (*) is not supported as SSH destination; use 'autogroup:member' for all user-owned devices or 'autogroup:tagged' for all tagged devices", dstRaw, j);
      return [];
    }
    const a = alias(s, dstRaw, j);
    if (!a) return [];
    if (a.kind === 'host') {
      r.err('ERR_POLICY_SSH', `invalid dst ${JSON.stringify(a.text)}`, dstRaw, j);
      return [];
    }
    if (a.kind === 'prefix' || a.kind === 'group') {
      r.err('ERR_POLICY_SSH', `alias not supported for SSH destination: ${JSON.stringify(a.text)}`, dstRaw, j);
      return [];
    }
    if (a.kind === 'autogroup' && a.name !== 'member' && a.name !== 'tagged' && a.name !== 'self') {
      r.err('ERR_POLICY_SSH', `autogroup not supported for SSH destinations: ${JSON.stringify(a.text)}`, dstRaw, j);
      return [];
    }
    return [a];
  });
  const taggedSrc = src.some((s) => s.kind === 'tag' || (s.kind === 'autogroup' && s.name === 'tagged'));
  for (const d of dst) {
    if (d.kind === 'user') {
      if (taggedSrc) fail('tags in SSH source cannot access user-owned devices');
      else if (!(src.length === 1 && src[0]!.kind === 'user' && src[0]!.text === d.text)) fail(`user destination requires source to contain only that same user ${JSON.stringify(d.text)}`);
    } else if (d.kind === 'autogroup' && d.name === 'self' && taggedSrc) {
      fail('autogroup:self destination requires source to contain only users or groups, not tags or autogroup:tagged');
    } else if (d.kind === 'autogroup' && d.name === 'member' && taggedSrc) {
      fail('tags in SSH source cannot access autogroup:member (user-owned devices)');
    }
  }

  const usersRaw = f.get('users');
  const users = r.strings(usersRaw, f.obj, r.keyOf(f.obj, 'users'), 'users').map((u) => u.trim());
  if (users.length === 0) fail('users must be specified', f.has('users') ? 'users' : undefined);
  users.forEach((u, j) => {
    if (u === '' || u === '*') r.err('ERR_POLICY_SSH', `user ${JSON.stringify(u)} is not valid`, usersRaw, j);
  });

  let checkPeriod: number | undefined;
  const cp = f.get('checkPeriod');
  if (cp !== undefined && cp !== null) {
    if (action !== 'check') fail('checkPeriod is only valid with action "check"', 'checkPeriod');
    else if (typeof cp !== 'string') fail('checkPeriod: expected a string', 'checkPeriod');
    else if (cp.trim() === 'always') checkPeriod = 0;
    else {
      const ns = parseGoDuration(cp.trim());
      if (ns === null) fail(`time: invalid duration ${JSON.stringify(cp.trim())}`, 'checkPeriod');
      else if (ns > MAX_CHECK) fail(`checkPeriod ${formatGoDuration(ns)} is above the max (168h)`, 'checkPeriod');
      else if (ns < 0) fail(`checkPeriod ${formatGoDuration(ns)} must be a positive duration`, 'checkPeriod');
      else checkPeriod = ns;
    }
  }
  let acceptEnv: string[] | undefined;
  if (f.has('acceptEnv')) {
    const envRaw = f.get('acceptEnv');
    acceptEnv = r.strings(envRaw, f.obj, r.keyOf(f.obj, 'acceptEnv'), 'acceptEnv');
    acceptEnv.forEach((e, j) => {
      if (e.trim() === '') r.err('ERR_POLICY_SSH', 'acceptEnv values cannot be empty', envRaw, j);
    });
  }
  return { action: action === 'check' ? 'check' : 'accept', src, dst, users, checkPeriod, acceptEnv };
}

export function readSshTest(r: Reader, v: unknown, i: number, pol: Policy): SshTest | null {
  const f = r.fields(v, ['src', 'dst', 'accept', 'check', 'deny'], `sshTests[${i}]`);
  if (!f) return null;
  const src = (r.string(f.get('src'), f.obj, r.keyOf(f.obj, 'src'), 'src') ?? '').trim();
  if (src === '') r.err('ERR_POLICY_SSH', 'SSH tests entry must have a non-empty src', v);
  const dstRaw = f.get('dst');
  const dst = r.strings(dstRaw, f.obj, r.keyOf(f.obj, 'dst'), 'dst').map((d) => d.trim());
  if (dst.length === 0) r.err('ERR_POLICY_SSH', 'SSH tests entry must have at least one dst', v);
  dst.forEach((d, j) => {
    if (!d.includes('/') && parseIPOrPrefix(d)?.family === 6) {
      // SaaS accepts a bare IPv4 node address here but fails the tests for an IPv6 one
      r.err('ERR_POLICY_TESTS_FAILED', `test(s) failed\nSSH tests dst cannot be an IPv6 address: ${JSON.stringify(d)}`, dstRaw, j);
    } else if (!d.includes('/') && parseIPOrPrefix(d)) {
      // a node's IPv4 address: resolved to that node
    } else if (d === 'autogroup:internet' || parseIPOrPrefix(d)) {
      r.err('ERR_POLICY_SSH', `SSH tests dst contains disallowed element ${JSON.stringify(d)}`, dstRaw, j);
    } else if (d.startsWith('tag:') && !pol.tagOwners.has(d)) {
      r.err('ERR_POLICY_SSH', `SSH tests dst contains unknown tag ${JSON.stringify(d)}`, dstRaw, j);
    }
  });
  const list = (k: string) => r.strings(f.get(k), f.obj, r.keyOf(f.obj, k), k);
  const t = { src, dst, accept: list('accept'), check: list('check'), deny: list('deny') };
  if (t.accept.length + t.check.length + t.deny.length === 0) r.err('ERR_POLICY_TESTS_FAILED', 'test(s) failed\nSSH tests entry must have at least one of "accept", "check" or "deny"', v);
  return t;
}
