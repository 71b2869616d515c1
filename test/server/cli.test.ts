// The CLI against a running server, over the admin socket, on both database backends.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, postgresUrl } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import type { NewNode } from '../../src/store/index.js';
import { testNode } from '../support/nodes.js';

function json(stdout: string): any {
  return JSON.parse(stdout);
}

function seedNode(userId: number | null, n: number): NewNode {
  return testNode(n, userId, { ipv6: `fd7a:115c:a1e0::${n}`, hostname: 'laptop', givenName: 'laptop' });
}

for (const backend of BACKENDS) {
  describe(`CLI against a running server (${backend})`, { skip: backend === 'postgres' && !postgresUrl() && process.env.CI !== 'true' ? 'SWITCHBOARD_TEST_POSTGRES not set' : false }, () => {
    let s: TestServer;
    before(async () => {
      if (backend === 'postgres' && !postgresUrl()) throw new Error('SWITCHBOARD_TEST_POSTGRES is not set: PostgreSQL tests cannot run');
      s = await startTestServer(backend);
    });
    after(async () => s?.close());

    test('users: create, list, rename, refuse duplicates and unknown names, destroy', async () => {
      let r = await s.cli('users', 'create', 'alice', '--email', 'alice@example.com', '-d', 'Alice A');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'User created');

      r = await s.cli('users', 'create', 'alice');
      assert.equal(r.code, 1);
      assert.equal(r.stderr, 'Error: creating user: user "alice" already exists');

      r = await s.cli('users', 'create', '1bad');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /invalid user name "1bad": must start with a letter/);

      r = await s.cli('user', 'c', 'bob', '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      const bob = json(r.stdout);
      assert.equal(bob.name, 'bob');
      assert.equal(typeof bob.id, 'number');
      assert.equal(typeof bob.created_at.seconds, 'number');
      assert.equal('email' in bob, false, 'zero values are left out, as Go does');

      r = await s.cli('users', 'list');
      assert.equal(r.code, 0, r.stderr);
      const lines = r.stdout.split('\n');
      assert.match(lines[0]!, /^ID \| Name +\| Username \| Email +\| Created$/);
      assert.match(lines[1]!, /^1 +\| Alice A \| alice +\| alice@example\.com \| \d{4}-\d\d-\d\d \d\d:\d\d:\d\d$/);
      assert.equal(lines.length, 3);

      r = await s.cli('users', 'ls', '-n', 'bob', '-o', 'json-line');
      assert.deepEqual(json(r.stdout).map((u: any) => u.name), ['bob']);

      r = await s.cli('users', 'list', '-o', 'yaml');
      assert.match(r.stdout, /^- id: 1\n  name: alice\n/);

      r = await s.cli('users', 'rename', '-n', 'bob', '-r', 'robert');
      assert.equal(r.code, 0, r.stderr);
      r = await s.cli('users', 'rename', '-n', 'nobody', '-r', 'x2');
      assert.equal(r.code, 1);
      assert.match(r.stderr, /user not found/);
      r = await s.cli('users', 'mv', '-n', 'robert', '-r', 'alice');
      assert.match(r.stderr, /user "alice" already exists/);
      r = await s.cli('users', 'rename', '-r', 'x2');
      assert.match(r.stderr, /--name or --identifier flag is required/);

      r = await s.cli('users', 'destroy', '-n', 'robert', '--force');
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, 'User destroyed');
      r = await s.cli('users', 'list', '-o', 'json');
      assert.deepEqual(json(r.stdout).map((u: any) => u.name), ['alice']);

      // Without a terminal the confirmation is refused and nothing is deleted.
      r = await s.cli('users', 'delete', '-n', 'alice');
      assert.equal(r.stdout, 'User not destroyed');
      assert.equal(s.server.state.users.list().length, 1);
    });

    test('preauthkeys: the secret is shown once, hashed at rest, masked in lists', async () => {
      await s.cli('users', 'create', 'carol');
      const carol = s.server.state.users.list({ name: 'carol' })[0]!;
      let r = await s.cli('preauthkeys', 'create', '-u', String(carol.id), '--reusable', '-e', '24h');
      assert.equal(r.code, 0, r.stderr);
      const full = r.stdout;
      assert.match(full, /^hskey-auth-[A-Za-z0-9]{12}-[A-Za-z0-9]{64}$/);
      const secret = full.slice(-64);

      r = await s.cli('preauthkeys', 'create', '--tags', 'tag:server,tag:db', '--ephemeral', '-o', 'json');
      const tagged = json(r.stdout);
      assert.deepEqual(tagged.acl_tags, ['tag:db', 'tag:server']);
      assert.equal(tagged.ephemeral, true);

      r = await s.cli('preauthkeys', 'list');
      assert.equal(r.code, 0, r.stderr);
      assert.ok(!r.stdout.includes(secret), 'list output must not contain the secret');
      assert.match(r.stdout, /hskey-auth-[A-Za-z0-9]{12}-\*\*\*/);
      assert.match(r.stdout, /\| carol\n/);
      assert.match(r.stdout, /\| tag:db\n.*\| tag:server/);

      const stored = await s.server.state.store.preAuthKeys.list();
      for (const k of stored) {
        assert.ok(!k.hash.toString().includes(secret));
        assert.equal(k.legacyKey, '');
      }

      r = await s.cli('preauthkeys', 'create');
      assert.match(r.stderr, /a pre-auth key needs a user or at least one tag/);
      r = await s.cli('preauthkeys', 'create', '-u', '999');
      assert.match(r.stderr, /user with ID 999 not found/);
      r = await s.cli('preauthkeys', 'create', '-u', String(carol.id), '-e', '5x');
      assert.match(r.stderr, /invalid --expiration "5x"/);
      r = await s.cli('preauthkeys', 'create', '--tags', 'server');
      assert.match(r.stderr, /invalid tag "server": tags must start with "tag:"/);
      assert.equal((await s.server.state.store.preAuthKeys.list()).length, stored.length, 'refused creates write nothing');

      const id = String(stored[0]!.id);
      r = await s.cli('preauthkeys', 'expire', '-i', id);
      assert.equal(r.stdout, 'Key expired');
      const expired = await s.server.state.store.preAuthKeys.get(Number(id));
      assert.ok(expired!.expiration!.getTime() <= Date.now());
      await assert.rejects(s.server.state.preAuthKeys.redeem(full), /authkey expired/);

      r = await s.cli('preauthkeys', 'delete', '-i', id);
      assert.equal(r.stdout, 'Key deleted');
      r = await s.cli('preauthkeys', 'delete', '-i', id);
      assert.match(r.stderr, new RegExp(`pre-auth key with ID ${id} not found`));
      r = await s.cli('preauthkeys', 'expire');
      assert.match(r.stderr, /missing --id parameter/);
    });

    test('apikeys: create, list, expire and delete by prefix or ID', async () => {
      let r = await s.cli('apikeys', 'create', '-e', '30d');
      assert.equal(r.code, 0, r.stderr);
      const key = r.stdout;
      assert.match(key, /^hskey-api-[A-Za-z0-9]{12}-[A-Za-z0-9]{64}$/);
      const prefix = key.slice('hskey-api-'.length, 'hskey-api-'.length + 12);
      assert.ok(await s.server.state.apiKeys.authenticate(key));

      r = await s.cli('apikeys', 'list', '-o', 'json');
      const listed = json(r.stdout);
      assert.equal(listed.length, 1);
      assert.equal(listed[0].prefix, prefix);
      assert.ok(!r.stdout.includes(key.slice(-64)));

      r = await s.cli('apikeys', 'expire', '-p', prefix);
      assert.equal(r.stdout, 'Key expired');
      assert.equal(await s.server.state.apiKeys.authenticate(key), undefined, 'an expired key no longer authenticates');

      r = await s.cli('apikeys', 'expire');
      assert.match(r.stderr, /either --id or --prefix must be provided/);
      r = await s.cli('apikeys', 'delete', '-p', prefix, '-i', '1');
      assert.match(r.stderr, /only one of --id or --prefix can be provided/);
      r = await s.cli('apikeys', 'delete', '-p', 'doesnotexist');
      assert.match(r.stderr, /API key with prefix doesnotexist not found/);
      r = await s.cli('apikeys', 'delete', '-i', String(listed[0].id));
      assert.equal(r.stdout, 'Key deleted');
      r = await s.cli('apikeys', 'list', '-o', 'json');
      assert.equal(r.stdout, 'null');
    });

    test('nodes: list, rename, expire, tag and delete', async () => {
      await s.cli('users', 'create', 'dave');
      const dave = s.server.state.users.list({ name: 'dave' })[0]!;
      const a = await s.server.state.nodes.add(seedNode(dave.id, 1));
      const b = await s.server.state.nodes.add(seedNode(dave.id, 2));
      assert.equal(b.givenName, 'laptop-1', 'a colliding name gets a numeric suffix');

      let r = await s.cli('nodes', 'list', '-o', 'json');
      const nodes = json(r.stdout);
      assert.deepEqual(nodes.map((n: any) => n.given_name), ['laptop', 'laptop-1']);
      assert.deepEqual(nodes[0].ip_addresses, ['100.64.0.1', 'fd7a:115c:a1e0::1']);
      assert.equal(nodes[0].user.name, 'dave');
      assert.equal(nodes[0].register_method, 1);

      r = await s.cli('nodes', 'list', '-u', 'dave');
      assert.match(r.stdout.split('\n')[0]!, /^ID \| Hostname \| Name +\| MachineKey \| NodeKey +\| User \| Tags \| IP addresses +\| Ephemeral \| Last seen \| Expiration \| Connected \| Expired$/);
      assert.match(r.stdout, /1 +\| laptop +\| laptop +\| \[[^\]]{5}\] +\| \[[^\]]{5}\] +\| dave \|/);
      r = await s.cli('nodes', 'list', '-u', 'nobody');
      assert.match(r.stderr, /user "nobody" not found/);

      r = await s.cli('nodes', 'rename', '-i', String(a.id), 'web');
      assert.equal(r.stdout, 'Node renamed');
      r = await s.cli('nodes', 'rename', '-i', String(b.id), 'web');
      assert.match(r.stderr, /node name "web" is already in use/);
      r = await s.cli('nodes', 'rename', '-i', String(b.id), 'Not_Valid');
      assert.match(r.stderr, /invalid node name "Not_Valid"/);
      assert.equal(s.server.state.nodes.get(b.id)!.givenName, 'laptop-1', 'a refused rename changes nothing');

      r = await s.cli('nodes', 'expire', '-i', String(a.id));
      assert.equal(r.stdout, 'Node expired');
      assert.ok(s.server.state.nodes.get(a.id)!.expiry!.getTime() <= Date.now());
      r = await s.cli('nodes', 'expire', '-i', String(a.id), '-e', '2099-01-01T00:00:00Z');
      assert.equal(r.stdout, 'Node expiration updated');
      assert.equal(s.server.state.nodes.get(a.id)!.expiry!.toISOString(), '2099-01-01T00:00:00.000Z');
      r = await s.cli('nodes', 'expire', '-i', String(a.id), '--disable');
      assert.equal(r.stdout, 'Node expiry disabled');
      assert.equal(s.server.state.nodes.get(a.id)!.expiry, null);
      r = await s.cli('nodes', 'expire', '-i', String(a.id), '-e', 'tomorrow');
      assert.match(r.stderr, /not an RFC3339 time/);

      r = await s.cli('nodes', 'tag', '-i', String(b.id), '-t', 'tag:web,tag:prod', '-o', 'json');
      const tagged = json(r.stdout);
      assert.deepEqual(tagged.tags, ['tag:prod', 'tag:web']);
      assert.equal(tagged.user.name, 'tagged-devices');
      assert.equal(s.server.state.nodes.get(b.id)!.userId, null, 'a tagged node belongs to no user');
      r = await s.cli('nodes', 'tag', '-i', String(b.id));
      assert.match(r.stderr, /cannot remove all tags/);

      r = await s.cli('users', 'destroy', '-n', 'dave', '--force');
      assert.match(r.stderr, /user "dave" still owns 1 node\(s\)/);

      r = await s.cli('nodes', 'delete', '-i', String(a.id), '--force');
      assert.equal(r.stdout, 'Node deleted');
      r = await s.cli('nodes', 'delete', '-i', String(a.id), '--force');
      assert.match(r.stderr, new RegExp(`node with ID ${a.id} not found`));
      assert.deepEqual((await s.server.state.store.nodes.list()).map((n) => n.id), [b.id], 'the delete reached the database');
      r = await s.cli('nodes', 'delete');
      assert.match(r.stderr, /missing --identifier parameter/);
    });

    test('health reports the database', async () => {
      const r = await s.cli('health', '-o', 'json');
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(json(r.stdout), { database_connectivity: true });
    });
  });
}
