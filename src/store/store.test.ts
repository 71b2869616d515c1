import { describe, test, type TestContext } from 'node:test';
import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { sql } from 'kysely';
import { Store } from './store.js';
import { isSwitchboardError } from '../lib/errors.js';
import { BACKENDS, requireBackend, sqliteDatabase, testDatabase, type Backend } from '../../test/support/databases.js';
import type { NewNode } from './nodes-repo.js';

const VERSION = '0.1.0';

function newNode(userId: number | null, n: number): NewNode {
  return {
    machineKey: `mkey:${'a'.repeat(63)}${n}`,
    nodeKey: `nodekey:${'b'.repeat(63)}${n}`,
    discoKey: '',
    endpoints: ['192.0.2.1:41641'],
    hostinfo: { Hostname: `host${n}`, OS: 'linux' },
    ipv4: `100.64.0.${n}`,
    ipv6: `fd7a:115c:a1e0::${n}`,
    hostname: `host${n}`,
    givenName: `host${n}`,
    userId,
    registerMethod: 'authkey',
    tags: userId === null ? ['tag:server'] : [],
    authKeyId: null,
    lastSeen: null,
    expiry: null,
    approvedRoutes: [],
  };
}

/** Opens a fresh store on the backend, runs fn, and always cleans up. */
async function withStore(t: TestContext, backend: Backend, fn: (store: Store) => Promise<void>): Promise<void> {
  if (!requireBackend(t, backend)) return;
  const tdb = await testDatabase(backend);
  const store = await Store.open(tdb.options, VERSION);
  try {
    await fn(store);
  } finally {
    await store.close();
    await tdb.drop();
  }
}

for (const backend of BACKENDS) {
  describe(`store on ${backend}`, () => {
    test('migrates a fresh database and re-opens without change', async (t) => {
      if (!requireBackend(t, backend)) return;
      const tdb = await testDatabase(backend);
      try {
        const store = await Store.open(tdb.options, VERSION);
        await store.users.insert({ name: 'alice', displayName: '', email: '', providerIdentifier: null, provider: '', profilePicUrl: '' });
        await store.close();
        const again = await Store.open(tdb.options, VERSION);
        assert.deepEqual((await again.users.list()).map((u) => u.name), ['alice']);
        assert.equal(await again.ping(), true);
        await again.close();
      } finally {
        await tdb.drop();
      }
    });

    test('users, nodes, keys and policies round-trip', (t) =>
      withStore(t, backend, async (store) => {
        const alice = await store.users.insert({ name: 'alice', displayName: 'Alice', email: 'a@example.com', providerIdentifier: null, provider: '', profilePicUrl: '' });
        assert.equal(alice.name, 'alice');
        assert.ok(alice.id > 0);
        assert.ok(alice.createdAt instanceof Date);

        // Local user names are unique.
        await assert.rejects(
          store.users.insert({ name: 'alice', displayName: '', email: '', providerIdentifier: null, provider: '', profilePicUrl: '' }),
        );

        const renamed = await store.users.rename(alice.id, 'alicia');
        assert.equal(renamed?.name, 'alicia');

        const expiration = new Date(Date.now() + 3600_000);
        const key = await store.preAuthKeys.insert({
          prefix: 'abcdefghijkl', hash: Buffer.from('hash'), userId: alice.id, reusable: false,
          ephemeral: true, tags: [], expiration,
        });
        const found = await store.preAuthKeys.findByPrefix('abcdefghijkl');
        assert.equal(found?.id, key.id);
        assert.equal(found?.ephemeral, true);
        assert.equal(found?.used, false);
        assert.equal(found?.expiration?.getTime(), expiration.getTime());
        assert.deepEqual(found?.hash, Buffer.from('hash'));

        const node = await store.nodes.insert({ ...newNode(alice.id, 1), authKeyId: key.id });
        assert.equal(node.userId, alice.id);
        assert.deepEqual(node.hostinfo, { Hostname: 'host1', OS: 'linux' });
        node.givenName = 'renamed';
        node.expiry = new Date('2030-01-01T00:00:00Z');
        assert.equal(await store.nodes.update(node), true);
        const [reread] = await store.nodes.list();
        assert.equal(reread?.givenName, 'renamed');
        assert.equal(reread?.expiry?.toISOString(), '2030-01-01T00:00:00.000Z');
        assert.equal(await store.nodes.countForUser(alice.id), 1);

        const tagged = await store.nodes.insert(newNode(null, 2));
        assert.equal(tagged.userId, null);
        assert.deepEqual(tagged.tags, ['tag:server']);

        // Deleting a user removes its nodes and leaves its keys without an owner.
        assert.equal(await store.users.delete(alice.id), true);
        assert.deepEqual((await store.nodes.list()).map((n) => n.id), [tagged.id]);
        assert.equal((await store.preAuthKeys.get(key.id))?.userId, null);

        const api = await store.apiKeys.insert({ prefix: 'ABCDEFGHIJKL', hash: Buffer.from('h'), expiration: null });
        assert.equal((await store.apiKeys.find({ prefix: 'ABCDEFGHIJKL' }))?.id, api.id);
        await store.apiKeys.setExpiration(api.id, new Date(0));
        assert.equal((await store.apiKeys.find({ id: api.id }))?.expiration?.getTime(), 0);
        assert.equal(await store.apiKeys.delete(api.id), true);
        assert.equal(await store.apiKeys.delete(api.id), false);

        assert.equal(await store.policies.latest(), undefined);
        await store.policies.insert('{"acls":[]}');
        await store.policies.insert('{}');
        assert.equal((await store.policies.latest())?.data, '{}');
      }));

    test('a single-use key is claimed exactly once under concurrency', (t) =>
      withStore(t, backend, async (store) => {
        const key = await store.preAuthKeys.insert({
          prefix: 'claimclaimcl', hash: Buffer.from('x'), userId: null, reusable: false, ephemeral: false,
          tags: ['tag:a'], expiration: null,
        });
        const wins = await Promise.all(Array.from({ length: 20 }, () => store.preAuthKeys.claim(key.id)));
        assert.equal(wins.filter(Boolean).length, 1);
        assert.equal((await store.preAuthKeys.get(key.id))?.used, true);
      }));

    test('a failed transaction writes nothing', (t) =>
      withStore(t, backend, async (store) => {
        await assert.rejects(
          store.transaction(async (repos) => {
            await repos.users.insert({ name: 'bob', displayName: '', email: '', providerIdentifier: null, provider: '', profilePicUrl: '' });
            throw new Error('boom');
          }),
          /boom/,
        );
        assert.deepEqual(await store.users.list(), []);
      }));

    test('refuses a database written by a newer version', async (t) => {
      if (!requireBackend(t, backend)) return;
      const tdb = await testDatabase(backend);
      try {
        const store = await Store.open(tdb.options, '9.1.0');
        await store.close();
        await assert.rejects(Store.open(tdb.options, VERSION), (err) => {
          assert.ok(isSwitchboardError(err, 'ERR_DB_TOO_NEW'));
          assert.match(err.message, /last used by Switchboard 9\.1\.0, newer than this 0\.1\.0/);
          return true;
        });
        // Same or newer versions open it.
        await (await Store.open(tdb.options, '9.1.0')).close();
      } finally {
        await tdb.drop();
      }
    });

    test('refuses a database with migrations it does not know', async (t) => {
      if (!requireBackend(t, backend)) return;
      const tdb = await testDatabase(backend);
      try {
        const store = await Store.open(tdb.options, VERSION);
        await store.transaction(async () => {});
        await store.close();
        // Simulate a newer release's migration in the ledger.
        const { connect } = await import('./connect.js');
        const { db } = await connect(tdb.options);
        await sql`insert into switchboard_migrations (name, timestamp) values ('9999-from-the-future', '2030-01-01')`.execute(db);
        await db.destroy();
        await assert.rejects(Store.open(tdb.options, VERSION), (err) => {
          assert.ok(isSwitchboardError(err, 'ERR_DB_TOO_NEW'));
          assert.match(err.message, /9999-from-the-future/);
          return true;
        });
      } finally {
        await tdb.drop();
      }
    });
  });
}

test('an unreachable PostgreSQL is reported with where it was looked for', async () => {
  await assert.rejects(
    Store.open(
      { type: 'postgres', host: '127.0.0.1', port: 1, name: 'nope', user: 'x', pass: 'secret-pass', maxOpenConns: 1, connMaxIdleTimeSecs: 1, ssl: false },
      VERSION,
    ),
    (err) => {
      assert.ok(isSwitchboardError(err, 'ERR_DB_UNREACHABLE'));
      assert.match(err.message, /cannot connect to PostgreSQL database "nope" at 127\.0\.0\.1:1/);
      assert.doesNotMatch(err.message, /secret-pass/);
      return true;
    },
  );
});

test('an SQLite file that cannot be created is reported with its path', async () => {
  const tdb = sqliteDatabase();
  // A regular file where a directory should be: nothing can be created below it.
  const blocker = `${tdb.dir}/not-a-dir`;
  writeFileSync(blocker, '');
  await assert.rejects(
    Store.open({ ...tdb.options, path: `${blocker}/db.sqlite` }, VERSION),
    (err) => {
      assert.ok(isSwitchboardError(err, 'ERR_DB_UNREACHABLE'));
      assert.ok(err.message.includes(`${blocker}/db.sqlite`), err.message);
      return true;
    },
  );
  await tdb.drop();
});
