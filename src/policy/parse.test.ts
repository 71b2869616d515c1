// parsePolicy: every section, selector classification and error text from the reference.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { PolicyError } from './errors.js';
import { parsePolicy } from './parse.js';

const BASE = `"groups": {"group:dev": ["alice@example.com"], "group:empty": []},
  "tagOwners": {"tag:server": ["group:dev"], "tag:router": ["alice@example.com", "tag:server"]},
  "hosts": {"internal": "10.0.0.0/8", "box": "100.64.0.9"}`;

function pol(body: string): string {
  return `{${BASE}${body ? `, ${body}` : ''}}`;
}

function errorOf(text: string): PolicyError {
  try {
    parsePolicy(text);
  } catch (e) {
    assert.ok(e instanceof PolicyError, String(e));
    return e;
  }
  assert.fail('expected the policy to be rejected');
}

function rejects(text: string, message: string | RegExp): PolicyError {
  const e = errorOf(text);
  if (typeof message === 'string') assert.ok(e.message.includes(message), `${JSON.stringify(e.message)} should contain ${JSON.stringify(message)}`);
  else assert.match(e.message, message);
  return e;
}

test('absent, empty and present sections', () => {
  const p = parsePolicy('{}');
  assert.equal(p.acls, null);
  assert.equal(p.grants, null);
  assert.equal(p.ssh, null);
  assert.deepEqual(parsePolicy('{"acls": []}').acls, []);
  assert.deepEqual(parsePolicy('{"grants": []}').grants, []);
  assert.equal(parsePolicy('{"acls": null}').acls, null);
});

test('HuJSON comments and trailing commas in a policy', () => {
  const p = parsePolicy(`{
    // who may use what
    "acls": [
      {"action": "accept", "src": ["*"], "dst": ["*:*"],}, /* all */
    ],
  }`);
  assert.equal(p.acls!.length, 1);
});

test('field names match without regard to case; # keys in ACLs are dropped', () => {
  const p = parsePolicy('{"ACLs": [{"Action": "accept", "SRC": ["*"], "dst": ["*:22"], "#meta": {"x": 1}}]}');
  assert.equal(p.acls![0]!.dst[0]!.ports[0]!.First, 22);
});

test('unknown fields are refused with their position', () => {
  const e = rejects('{\n  "derpMap": {}\n}', 'unknown field: "derpMap"');
  assert.equal(e.code, 'ERR_POLICY_UNKNOWN_FIELD');
  assert.equal(e.line, 2);
  assert.equal(e.column, 3);
  for (const k of ['postures', 'defaultSrcPosture', 'ipsets', 'disableIPv4', 'OneCGNATRoute']) rejects(`{"${k}": null}`, `unknown field: "${k}"`);
  rejects('{"acls": [{"action": "accept", "users": ["*"], "ports": ["*:*"]}]}', 'unknown field: "users"');
  rejects('{"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"], "srcPosture": []}]}', 'unknown field: "srcPosture"');
  rejects('{"autoApprovers": {"services": {}}}', 'unknown field: "services"');
  rejects('{"nodeAttrs": [{"target": ["*"], "attr": ["x"], "app": {}}]}', 'unknown field: "app"');
  rejects('{"tests": [{"src": "a@", "accept": ["b:1"], "allow": []}]}', 'unknown field: "allow"');
});

test('groups', () => {
  const p = parsePolicy(pol(''));
  assert.deepEqual(p.groups.get('group:dev'), ['alice@example.com']);
  assert.deepEqual(p.groups.get('group:empty'), []);
  rejects('{"groups": {"group:a": ["x@"], "group:b": ["group:a"]}}', 'groups["group:b"]: "group:a": group members cannot be recursive');
  rejects('{"groups": {"dev": ["x@"]}}', "group must start with 'group:'");
  rejects('{"groups": {"group:a": ["bob"]}}', 'username must contain @, got: "bob"');
  rejects('{"groups": {"group:a": "x@"}}', 'group value must be an array of users');
});

test('hosts', () => {
  const p = parsePolicy(pol(''));
  assert.equal(p.hosts.get('internal')!.bits, 8);
  rejects('{"hosts": {"x": "not-an-ip"}}', 'hostname contains invalid IP address: hostname "x" address "not-an-ip"');
  rejects('{"hosts": {"a@b": "10.0.0.1"}}', 'invalid hostname');
  rejects('{"hosts": {"a:b": "10.0.0.1"}}', 'invalid hostname');
});

test('tagOwners', () => {
  rejects('{"tagOwners": {"tag:сервер": []}}', `tagOwners["tag:сервер"]: tag names must start with a letter, after 'tag:'`);
  rejects('{"tagOwners": {"tag:1x": []}}', 'tag names must start with a letter');
  rejects('{"tagOwners": {"server": []}}', "tag must start with 'tag:'");
  rejects('{"tagOwners": {"tag:a": ["autogroup:member"]}}', 'invalid owner format: "autogroup:member"');
  rejects('{"tagOwners": {"tag:a": ["tag:x"]}}', 'tag "tag:a" references undefined tag "tag:x"');
  const p = parsePolicy('{"tagOwners": {"tag:a": []}}');
  assert.deepEqual(p.tagOwners.get('tag:a'), []);
});

test('acls: action, ports, proto', () => {
  rejects(pol('"acls": [{"action": "deny", "src": ["*"], "dst": ["*:*"]}]'), 'action="deny" is not supported');
  rejects(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["tag:server:ssh"]}]'), 'dst="tag:server:ssh": port range "ssh": invalid first integer');
  rejects(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["tag:server:0"]}]'), `port range "0": first port must be >0, or use '*' for wildcard`);
  rejects(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["tag:server:70000"]}]'), 'port number out of range');
  rejects(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["tag:server:90-80"]}]'), 'invalid port range: first port is greater than last port');
  rejects(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["tag:server"]}]'), 'port range "server": invalid first integer');
  rejects(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["autogroup:self"]}]'), 'dst="autogroup:self": port range "self": invalid first integer');
  rejects(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["box"]}]'), 'hostport must contain a colon');
  rejects(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["[10.0.0.1]:80"]}]'), 'square brackets are only valid around IPv6 addresses');
  rejects(pol('"acls": [{"action": "accept", "proto": "icmp", "src": ["*"], "dst": ["*:22"]}]'), 'protocol does not support specific ports: "icmp", only "*" is allowed');
  rejects(pol('"acls": [{"action": "accept", "proto": "0", "src": ["*"], "dst": ["*:*"]}]'), 'leading 0 not permitted in protocol number');
  rejects(pol('"acls": [{"action": "accept", "proto": "*", "src": ["*"], "dst": ["*:*"]}]'), 'proto name "*" not known; use protocol number 0-255 or protocol name (icmp, tcp, udp, etc.)');
  const p = parsePolicy(pol(`"acls": [{"action": "accept", "proto": "TCP", "src": [" tag:server "], "dst": ["[fd7a::1]:80,443,8000-8100", "internal:*", "autogroup:internet:*", "[fd7a::/64]:22"]}]`));
  const acl = p.acls![0]!;
  assert.deepEqual(acl.proto, [6]);
  assert.equal(acl.src[0]!.text, 'tag:server');
  assert.deepEqual(acl.dst[0]!.ports, [{ First: 80, Last: 80 }, { First: 443, Last: 443 }, { First: 8000, Last: 8100 }]);
  assert.deepEqual(acl.dst[1]!.ports, [{ First: 0, Last: 65535 }]);
  assert.equal(acl.dst[2]!.alias.kind, 'autogroup');
  assert.equal(acl.dst[3]!.alias.kind, 'prefix');
  assert.deepEqual(parsePolicy(pol('"acls": [{"action": "accept", "proto": "58", "src": ["*"], "dst": ["*:*"]}]')).acls![0]!.proto, [58]);
});

test('selectors: classification and undefined references', () => {
  rejects(pol('"acls": [{"action": "accept", "src": ["tag:nonexistent"], "dst": ["*:*"]}]'), 'src=tag not found: "tag:nonexistent"');
  rejects(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["tag:nonexistent:22"]}]'), 'dst="tag:nonexistent": tag not found: "tag:nonexistent"');
  rejects(pol('"acls": [{"action": "accept", "src": ["group:nope"], "dst": ["*:*"]}]'), 'group not defined in policy: "group:nope"');
  rejects(pol('"acls": [{"action": "accept", "src": ["nohost"], "dst": ["*:*"]}]'), 'host not defined in policy: "nohost"');
  rejects(pol('"acls": [{"action": "accept", "src": ["autogroup:admin"], "dst": ["*:*"]}]'), 'invalid autogroup: got "autogroup:admin", must be one of [autogroup:internet autogroup:member autogroup:nonroot autogroup:tagged autogroup:self autogroup:danger-all]');
  rejects(pol('"acls": [{"action": "accept", "src": ["svc:web"], "dst": ["*:*"]}]'), 'invalid alias format');
  const e = rejects(pol('"grants": [{"src": ["tag:nonexistent"], "dst": ["tag:nope"], "ip": ["*"]}]'), 'src=tag not found: "tag:nonexistent"');
  assert.ok(e.message.includes('tag not found: "tag:nope"'), 'every error is reported');
  assert.equal(e.code, 'ERR_POLICY_MULTIPLE');
  assert.equal(e.errors.length, 2);
  // a user that matches nobody is not an error
  parsePolicy(pol('"acls": [{"action": "accept", "src": ["nobody@example.com", "user:*@example.com"], "dst": ["*:*"]}]'));
});

test('autogroup placement', () => {
  rejects(pol('"acls": [{"action": "accept", "src": ["autogroup:internet"], "dst": ["*:*"]}]'), 'autogroup:internet can only be used in ACL destinations');
  rejects(pol('"acls": [{"action": "accept", "src": ["autogroup:self"], "dst": ["*:*"]}]'), '"autogroup:self" not valid on the src side of a rule');
  rejects(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["autogroup:danger-all:*"]}]'), 'cannot use autogroup:danger-all as a dst');
  rejects(pol('"acls": [{"action": "accept", "src": ["tag:server"], "dst": ["autogroup:self:*"]}]'), 'autogroup:self can only be used with users, groups, or supported autogroups');
  rejects(pol('"acls": [{"action": "accept", "src": ["box"], "dst": ["autogroup:self:*"]}]'), 'autogroup:self can only be used with users, groups, or supported autogroups');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["autogroup:self"], "ip": ["*"]}]'), 'autogroup:self can only be used with users, groups, or supported autogroups');
  // ACLs allow * with self; grants allow users, groups and member
  parsePolicy(pol('"acls": [{"action": "accept", "src": ["*"], "dst": ["autogroup:self:*"]}]'));
  parsePolicy(pol('"grants": [{"src": ["group:dev", "alice@example.com", "autogroup:member"], "dst": ["autogroup:self"], "ip": ["*"]}]'));
  parsePolicy(pol('"acls": [{"action": "accept", "src": ["autogroup:danger-all", "autogroup:tagged", "autogroup:member"], "dst": ["autogroup:internet:*", "autogroup:tagged:22"]}]'));
});

test('grants: ip, app, via', () => {
  const p = parsePolicy(pol('"grants": [{"src": ["*"], "dst": ["tag:server"], "ip": ["*", "22", "tcp:80-90", "icmp:*", "udp:53,5353"], "app": {"example.com/cap/x": [{"a": 1}]}, "via": ["tag:router"]}]'));
  const g = p.grants![0]!;
  assert.deepEqual(g.ip.map((c) => c.proto), [undefined, undefined, [6], [1], [17]]);
  assert.deepEqual(g.via, ['tag:router']);
  assert.deepEqual(g.app, { 'example.com/cap/x': [{ a: 1 }] });
  rejects(pol('"grants": [{"src": ["*"], "dst": ["*"]}]'), 'ip and app can not both be empty');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["*"], "ip": ["tcp:22:33"]}]'), 'expected only one colon in Internet protocol and port type');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["*"], "ip": ["icmp"]}]'), 'port range "icmp": invalid first integer');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["*"], "ip": ["icmp:22"]}]'), 'protocol does not support specific ports');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["*"], "app": {"https://example.com/cap/x": [{}]}}]'), 'capability name must have the form {domain}/{path}');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["*"], "app": {"tailscale.com/cap/ingress": [{}]}}]'), 'capability name must not be in the tailscale.com domain');
  parsePolicy(pol('"grants": [{"src": ["*"], "dst": ["*"], "app": {"tailscale.com/cap/drive": [{}]}}]'));
  rejects(pol('"grants": [{"src": ["*"], "dst": ["autogroup:internet"], "app": {"example.com/cap/x": [{}]}}]'), 'cannot use app grants with autogroup:internet');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["0.0.0.0/0"], "ip": ["*"]}]'), 'dst "0.0.0.0/0": to allow all IP addresses, use "*" or "autogroup:internet"');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["::/0"], "ip": ["*"]}]'), 'dst "::/0": to allow all IP addresses');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"], "via": ["group:dev"]}]'), 'via can only be a tag');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["*"], "ip": ["*"], "via": ["tag:nonexistent"]}]'), 'tag "tag:nonexistent" not found');
  rejects(pol('"grants": [{"src": ["*"], "dst": ["tag:x"], "ip": ["*"]}]'), 'tag not found: "tag:x"');
  // empty src/dst lists are valid
  parsePolicy(pol('"grants": [{"src": [], "dst": [], "ip": ["*"]}]'));
});

test('ssh rules', () => {
  const ok = parsePolicy(pol('"ssh": [{"action": "check", "src": ["group:dev"], "dst": ["tag:server", "autogroup:self"], "users": ["root", "autogroup:nonroot", "localpart:*@example.com"], "checkPeriod": "1h30m", "acceptEnv": ["GIT_*"]}]'));
  const r = ok.ssh![0]!;
  assert.equal(r.action, 'check');
  assert.equal(r.checkPeriod, 5400e9);
  assert.equal(parsePolicy(pol('"ssh": [{"action": "check", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root"], "checkPeriod": "always"}]')).ssh![0]!.checkPeriod, 0);
  const ssh = (rule: string) => pol(`"ssh": [${rule}]`);
  rejects(ssh('{"src": ["group:dev"], "dst": ["tag:server"], "users": ["root"]}'), 'action must be specified');
  rejects(ssh('{"action": "deny", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root"]}'), '"deny" is not a valid action');
  rejects(ssh('{"action": "Accept", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root"]}'), '"Accept" is not a valid action');
  rejects(ssh('{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"]}'), 'users must be specified');
  rejects(ssh('{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"], "users": []}'), 'users must be specified');
  rejects(ssh('{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"], "users": ["*"]}'), 'user "*" is not valid');
  rejects(ssh('{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"], "users": [""]}'), 'user "" is not valid');
  rejects(ssh('{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root"], "acceptEnv": [""]}'), 'acceptEnv values cannot be empty');
  rejects(ssh('{"action": "accept", "src": ["group:dev"], "dst": ["box"], "users": ["root"]}'), 'invalid dst "box"');
  rejects(ssh('{"action": "accept", "src": ["group:dev"], "dst": ["*"], "users": ["root"]}'), 'wildcard (*) is not supported as SSH destination');
  rejects(ssh('{"action": "accept", "src": ["*"], "dst": ["tag:server"], "users": ["root"]}'), 'alias not supported for SSH source');
  rejects(ssh('{"action": "accept", "src": ["tag:server"], "dst": ["alice@example.com"], "users": ["root"]}'), 'tags in SSH source cannot access user-owned devices');
  rejects(ssh('{"action": "accept", "src": ["tag:server"], "dst": ["autogroup:self"], "users": ["root"]}'), 'autogroup:self destination requires source to contain only users or groups, not tags or autogroup:tagged');
  rejects(ssh('{"action": "accept", "src": ["autogroup:tagged"], "dst": ["autogroup:member"], "users": ["root"]}'), 'tags in SSH source cannot access autogroup:member (user-owned devices)');
  rejects(ssh('{"action": "accept", "src": ["group:dev"], "dst": ["alice@example.com"], "users": ["root"]}'), 'user destination requires source to contain only that same user "alice@example.com"');
  parsePolicy(ssh('{"action": "accept", "src": ["alice@example.com"], "dst": ["alice@example.com"], "users": ["root"]}'));
  rejects(ssh('{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root"], "checkPeriod": "1h"}'), 'checkPeriod is only valid with action "check"');
  rejects(ssh('{"action": "check", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root"], "checkPeriod": "168h0m1s"}'), 'checkPeriod 168h0m1s is above the max (168h)');
  rejects(ssh('{"action": "check", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root"], "checkPeriod": "-1m"}'), 'checkPeriod -1m0s must be a positive duration');
  rejects(ssh('{"action": "check", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root"], "checkPeriod": "abc"}'), 'time: invalid duration "abc"');
  rejects(ssh('{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root"], "srcPosture": []}'), 'unknown field: "srcPosture"');
});

test('autoApprovers', () => {
  const p = parsePolicy(pol('"autoApprovers": {"routes": {"10.0.0.0/8": ["tag:router", "group:dev"]}, "exitNode": ["alice@example.com"]}'));
  assert.equal(p.autoApprovers.routes[0]!.approvers.length, 2);
  rejects(pol('"autoApprovers": {"exitNode": ["autogroup:tagged"]}'), 'invalid auto approver format: "autogroup:tagged"');
  rejects(pol('"autoApprovers": {"routes": {"nope": ["tag:router"]}}'), 'invalid prefix');
});

test('nodeAttrs', () => {
  const p = parsePolicy(pol('"nodeAttrs": [{"target": ["tag:server", "autogroup:member", "100.64.0.0/10"], "attr": ["magicdns-aaaa"]}]'));
  assert.deepEqual(p.nodeAttrs[0]!.attr, ['magicdns-aaaa']);
  rejects(pol('"nodeAttrs": [{"target": ["*"], "attr": ["funnel"]}]'), 'nodeAttrs uses a feature headscale does not yet support');
  rejects(pol('"nodeAttrs": [{"target": ["*"], "ipPool": ["100.100.0.0/24"]}]'), 'nodeAttrs ipPool requires the IP allocator');
  rejects(pol('"nodeAttrs": [{"target": ["autogroup:self"], "attr": ["x"]}]'), 'nodeAttrs target does not support this autogroup');
});

test('tests and sshTests shapes', () => {
  const p = parsePolicy(pol('"tests": [{"src": "alice@example.com", "proto": "tcp", "accept": ["tag:server:22"], "deny": ["box:80"]}], "sshTests": [{"src": "alice@example.com", "dst": ["tag:server"], "accept": ["root"], "check": [], "deny": ["bob"]}]'));
  assert.equal(p.tests[0]!.proto, 6);
  assert.equal(p.sshTests[0]!.dst[0], 'tag:server');
  rejects(pol('"tests": [{"src": "alice@example.com"}]'), 'test(s) failed');
  rejects(pol('"tests": [{"src": "alice@example.com", "proto": "icmp", "accept": ["box:1"]}]'), 'test(s) failed');
  rejects(pol('"sshTests": [{"src": "alice@example.com", "dst": ["autogroup:internet"], "accept": ["root"]}]'), 'SSH tests dst contains disallowed element "autogroup:internet"');
  rejects(pol('"sshTests": [{"src": "alice@example.com", "dst": ["10.0.0.0/8"], "accept": ["root"]}]'), 'SSH tests dst contains disallowed element "10.0.0.0/8"');
  rejects(pol('"sshTests": [{"src": "alice@example.com", "dst": ["tag:server:22"], "accept": ["root"]}]'), 'SSH tests dst contains unknown tag "tag:server:22"');
});

test('randomizeClientPort', () => {
  assert.equal(parsePolicy('{"randomizeClientPort": true}').randomizeClientPort, true);
  rejects('{"randomizeClientPort": "yes"}', 'randomizeClientPort: expected a boolean');
});

test('syntax errors carry line and column', () => {
  const e = errorOf('{\n  "acls": [\n    {action: "accept"}\n  ]\n}');
  assert.equal(e.code, 'ERR_POLICY_SYNTAX');
  assert.equal(e.line, 3);
  assert.equal(e.column, 6);
});

test('validation errors point at the member', () => {
  const e = errorOf('{\n  "tagOwners": {"tag:a": []},\n  "acls": [\n    {"action": "accept", "src": ["tag:b"], "dst": ["*:*"]}\n  ]\n}');
  assert.equal(e.line, 4);
  assert.equal(e.column, 34);
});
