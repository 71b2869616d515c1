// runTests: `tests` and `sshTests` evaluated against the compiled policy.

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compilePolicy } from './compiled.js';
import { OWNERS, TOPO } from './fixture.test-helper.js';
import { parsePolicy } from './parse.js';

function run(body: string) {
  return compilePolicy(parsePolicy(`{${OWNERS}, ${body}}`), TOPO).runTests();
}

const ACL = '"acls": [{"action": "accept", "proto": "tcp", "src": ["group:dev"], "dst": ["tag:server:22"]}]';

test('passing accept and deny tests', () => {
  assert.deepEqual(run(`${ACL}, "tests": [{"src": "alice@example.com", "proto": "tcp", "accept": ["tag:server:22", "srvip:22"], "deny": ["tag:server:80", "bob@example.org:22"]}]`), []);
  assert.deepEqual(run(`${ACL}, "tests": [{"src": "bob@example.org", "deny": ["tag:server:22"]}]`), []);
});

test('failing tests are reported', () => {
  const f = run(`${ACL}, "tests": [{"src": "bob@example.org", "accept": ["tag:server:22"]}, {"src": "group:dev", "proto": "udp", "accept": ["tag:server:22"]}]`);
  assert.ok(f.some((x) => x.index === 0));
  assert.ok(f.some((x) => x.index === 1), 'udp is not allowed by a tcp rule');
});

test('test destinations must be single hosts on a single port', () => {
  for (const dst of ['lan:22', 'tag:server:22-23', 'tag:server:*', '10.0.0.0/24:22', 'nohost:22', 'tag:nope:22', 'autogroup:internet:22']) {
    const f = run(`${ACL}, "tests": [{"src": "alice@example.com", "accept": ["${dst}"]}]`);
    assert.ok(f.length > 0, dst);
  }
});

test('sshTests: accept, check, deny', () => {
  const ssh = '"ssh": [{"action": "accept", "src": ["group:dev"], "dst": ["tag:server"], "users": ["autogroup:nonroot"]}, {"action": "check", "src": ["group:dev"], "dst": ["tag:router"], "users": ["root"]}]';
  assert.deepEqual(run(`${ACL}, ${ssh}, "sshTests": [{"src": "alice@example.com", "dst": ["tag:server"], "accept": ["ubuntu"], "deny": ["root"]}, {"src": "alice@example.com", "dst": ["tag:router"], "check": ["root"], "accept": ["root"]}]`), []);
  const f = run(`${ACL}, ${ssh}, "sshTests": [{"src": "bob@example.org", "dst": ["tag:server"], "accept": ["ubuntu"]}, {"src": "alice@example.com", "dst": ["tag:server"], "check": ["ubuntu"]}]`);
  assert.deepEqual([...new Set(f.map((x) => x.index))].sort(), [0, 1]);
});
