// sshPolicyFor: principals, sshUsers, actions, self, localpart, check ordering, negatives.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy } from './compiled.js';
import { OWNERS, TOPO, ids } from './fixture.test-helper.js';
import { parsePolicy } from './parse.js';

const ACCEPT = { accept: true, allowAgentForwarding: true, allowLocalPortForwarding: true, allowRemotePortForwarding: true };

function compile(ssh: string, opts = {}) {
  return compilePolicy(parsePolicy(`{${OWNERS}, "acls": [], "ssh": [${ssh}]}`), TOPO, opts);
}

test('accept rule: principals per source address, users map with root blocked', () => {
  const c = compile('{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"], "users": ["autogroup:nonroot", "ubuntu"]}');
  assert.deepEqual(c.sshPolicyFor(ids.server), {
    rules: [
      {
        principals: [{ nodeIP: '100.64.0.1' }, { nodeIP: '100.64.0.2' }, { nodeIP: 'fd7a:115c:a1e0::1' }, { nodeIP: 'fd7a:115c:a1e0::2' }],
        sshUsers: { '*': '=', root: '', ubuntu: 'ubuntu' },
        action: ACCEPT,
      },
    ],
  });
  // not a destination: a policy with no rules; bob is not a source anywhere
  assert.deepEqual(c.sshPolicyFor(ids.laptop), { rules: [] });
  assert.deepEqual(c.sshPolicyFor(ids.router), { rules: [] });
});

test('root listed gives "root": "root"', () => {
  const c = compile('{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root", "autogroup:nonroot"]}');
  assert.deepEqual(c.sshPolicyFor(ids.server)!.rules[0]!.sshUsers, { '*': '=', root: 'root' });
});

test('no ssh section: null (nothing to send)', () => {
  const c = compilePolicy(parsePolicy(`{${OWNERS}}`), TOPO);
  assert.equal(c.sshPolicyFor(ids.server), null);
});

test('users grouped by user id, tagged sources repeated per tag', () => {
  const topo = { users: TOPO.users, nodes: TOPO.nodes.map((n) => (n.id === ids.router ? { ...n, tags: ['tag:router', 'tag:server'] } : n)) };
  const c = compilePolicy(parsePolicy(`{${OWNERS}, "ssh": [{"action": "accept", "src": ["autogroup:tagged", "bob@example.org", "alice@example.com"], "dst": ["tag:exit"], "users": ["root"]}]}`), topo);
  const p = c.sshPolicyFor(ids.exit)!.rules[0]!.principals.map((x) => x.nodeIP);
  assert.deepEqual(p, [
    '100.64.0.1', '100.64.0.2', 'fd7a:115c:a1e0::1', 'fd7a:115c:a1e0::2', // alice (user 1)
    '100.64.0.3', 'fd7a:115c:a1e0::3', // bob (user 2)
    '100.64.0.4', 'fd7a:115c:a1e0::4', // server, one tag
    '100.64.0.5', 'fd7a:115c:a1e0::5', '100.64.0.5', 'fd7a:115c:a1e0::5', // router, two tags
    '100.64.0.6', 'fd7a:115c:a1e0::6',
  ]);
});

test('autogroup:self: a node gets its own user\'s source devices', () => {
  const c = compile('{"action": "accept", "src": ["autogroup:member"], "dst": ["autogroup:self"], "users": ["root"]}');
  assert.deepEqual(c.sshPolicyFor(ids.laptop)!.rules[0]!.principals, [{ nodeIP: '100.64.0.1' }, { nodeIP: '100.64.0.2' }, { nodeIP: 'fd7a:115c:a1e0::1' }, { nodeIP: 'fd7a:115c:a1e0::2' }]);
  assert.deepEqual(c.sshPolicyFor(ids.bob)!.rules[0]!.principals, [{ nodeIP: '100.64.0.3' }, { nodeIP: 'fd7a:115c:a1e0::3' }]);
  assert.deepEqual(c.sshPolicyFor(ids.server), { rules: [] }, 'tagged nodes never match self');
});

test('check rules come first and carry holdAndDelegate', () => {
  const c = compile(
    '{"action": "accept", "src": ["group:all"], "dst": ["tag:server"], "users": ["root"]}, {"action": "check", "src": ["group:dev"], "dst": ["tag:server"], "users": ["root"], "checkPeriod": "1h"}',
    { serverUrl: 'https://hs.example.com' },
  );
  const rules = c.sshPolicyFor(ids.server)!.rules;
  assert.equal(rules.length, 2);
  assert.deepEqual(rules[0]!.action, { holdAndDelegate: 'https://hs.example.com/machine/ssh/action/$SRC_NODE_ID/to/$DST_NODE_ID?local_user=$LOCAL_USER' });
  assert.deepEqual(rules[1]!.action, ACCEPT);
});

test('localpart:*@domain adds a per-user rule after the common one', () => {
  const c = compile('{"action": "accept", "src": ["group:all"], "dst": ["tag:server"], "users": ["localpart:*@example.com"]}');
  const rules = c.sshPolicyFor(ids.server)!.rules;
  assert.deepEqual(rules.map((r) => r.sshUsers), [{ root: '' }, { alice: 'alice' }, { root: '' }]);
  assert.deepEqual(rules[2]!.principals, [{ nodeIP: '100.64.0.3' }, { nodeIP: 'fd7a:115c:a1e0::3' }]);
});

test('acceptEnv is passed through; other user strings are literal', () => {
  const c = compile('{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"], "users": ["group:foo", "localpart:bad"], "acceptEnv": ["GIT_*", "LANG"]}');
  const r = c.sshPolicyFor(ids.server)!.rules[0]!;
  assert.deepEqual(r.acceptEnv, ['GIT_*', 'LANG']);
  assert.deepEqual(r.sshUsers, { root: '', 'group:foo': 'group:foo', 'localpart:bad': 'localpart:bad' });
});

test('a source resolving to nothing emits no rule', () => {
  const c = compile('{"action": "accept", "src": ["nobody@example.com"], "dst": ["tag:server"], "users": ["root"]}');
  assert.deepEqual(c.sshPolicyFor(ids.server), { rules: [] });
});
