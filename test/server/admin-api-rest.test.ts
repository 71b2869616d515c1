// The REST admin API (/api/v1) on the main listener: headscale 0.29.2's grpc-gateway paths and
// JSON, Bearer API key authentication, error shapes and statuses for bad input, and the OpenAPI
// document kept in step with the route table. Runs on both database backends.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { BACKENDS, postgresUrl } from '../support/databases.js';
import { startTestServer, type TestServer } from '../support/server.js';
import { ROUTES } from '../../src/server/api/route-table.js';
import { buildOpenApi } from '../../src/server/api/openapi.js';

const RFC3339 = /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z$/;
const AUTH_ID = 'hskey-authreq-' + 'A'.repeat(24);

interface Reply {
  status: number;
  text: string;
  json: any;
  type: string;
}

for (const backend of BACKENDS) {
  const skip = backend === 'postgres' && !postgresUrl() && process.env.CI !== 'true' ? 'SWITCHBOARD_TEST_POSTGRES not set' : false;
  describe(`REST admin API (${backend})`, { skip }, () => {
    let s: TestServer;
    let key: string;

    async function api(method: string, path: string, opts: { body?: unknown; raw?: string; auth?: string | null } = {}): Promise<Reply> {
      const headers: Record<string, string> = {};
      const auth = opts.auth === undefined ? `Bearer ${key}` : opts.auth;
      if (auth !== null) headers.authorization = auth;
      let body: string | undefined;
      if (opts.raw !== undefined) body = opts.raw;
      else if (opts.body !== undefined) body = JSON.stringify(opts.body);
      if (body !== undefined) headers['content-type'] = 'application/json';
      const res = await fetch(s.server.http.url + path, { method, headers, body });
      const text = await res.text();
      let json: any;
      try {
        json = JSON.parse(text);
      } catch {
        json = undefined;
      }
      return { status: res.status, text, json, type: res.headers.get('content-type') ?? '' };
    }

    before(async () => {
      if (backend === 'postgres' && !postgresUrl()) throw new Error('SWITCHBOARD_TEST_POSTGRES is not set');
      s = await startTestServer(backend, { policy: { mode: 'database', path: '' } });
      key = (await s.server.state.apiKeys.create(new Date(Date.now() + 3600_000))).full;
    });
    after(() => s?.close());

    describe('authentication', () => {
      test('no key, wrong key, malformed key, other schemes: 401 "Unauthorized"', async () => {
        const wrong = 'hskey-api-AAAAAAAAAAAA-' + 'B'.repeat(64);
        for (const auth of [null, '', `Bearer ${wrong}`, 'Bearer ', 'Bearer hskey-api-short', 'Bearer ' + 'x'.repeat(5000), `bearer ${key}`, `Basic ${key}`, key, `Bearer ${key}x`]) {
          for (const [method, path] of [['GET', '/api/v1/user'], ['POST', '/api/v1/user'], ['GET', '/api/v1/health'], ['GET', '/api/v1/nope'], ['DELETE', '/api/v1/node/1']] as const) {
            const r = await api(method, path, { auth, body: method === 'POST' ? { name: 'mallory' } : undefined });
            assert.equal(r.status, 401, `${method} ${path} with ${String(auth).slice(0, 40)}`);
            assert.equal(r.text, 'Unauthorized');
          }
        }
        assert.equal(s.server.state.users.list({}).length, 0, 'nothing was created');
      });

      test('expired and deleted keys are refused at once, even after a successful call', async () => {
        const a = (await s.server.state.apiKeys.create(new Date(Date.now() + 3600_000))).full;
        const b = (await s.server.state.apiKeys.create(new Date(Date.now() + 3600_000))).full;
        assert.equal((await api('GET', '/api/v1/user', { auth: `Bearer ${a}` })).status, 200);
        assert.equal((await api('GET', '/api/v1/user', { auth: `Bearer ${b}` })).status, 200);
        const prefixA = a.slice('hskey-api-'.length, 'hskey-api-'.length + 12);
        const prefixB = b.slice('hskey-api-'.length, 'hskey-api-'.length + 12);
        assert.equal((await api('POST', '/api/v1/apikey/expire', { body: { prefix: prefixA } })).status, 200);
        assert.equal((await api('DELETE', `/api/v1/apikey/${prefixB}`)).status, 200);
        assert.equal((await api('GET', '/api/v1/user', { auth: `Bearer ${a}` })).status, 401);
        assert.equal((await api('GET', '/api/v1/user', { auth: `Bearer ${b}` })).status, 401);
        // A key created already expired never works.
        const past = (await s.server.state.apiKeys.create(new Date(Date.now() - 1000))).full;
        assert.equal((await api('GET', '/api/v1/user', { auth: `Bearer ${past}` })).status, 401);
      });

      test('health, version and the OpenAPI document stay public', async () => {
        for (const path of ['/health', '/version', '/api/v1/openapi.json', '/swagger/v1/openapiv2.json']) {
          const r = await api('GET', path, { auth: null });
          assert.equal(r.status, 200, path);
        }
        const doc = (await api('GET', '/api/v1/openapi.json', { auth: null })).json;
        assert.equal(doc.swagger, '2.0');
      });
    });

    describe('users, keys and nodes', () => {
      test('users: create, list, rename, delete with the gateway JSON shape', async () => {
        const c = await api('POST', '/api/v1/user', { body: { name: 'alice', displayName: 'Alice', email: 'alice@example.com', unknownField: 1 } });
        assert.equal(c.status, 200, c.text);
        assert.match(c.type, /application\/json/);
        const u = c.json.user;
        assert.equal(typeof u.id, 'string');
        assert.match(u.createdAt, RFC3339);
        assert.deepEqual(
          { name: u.name, displayName: u.displayName, email: u.email, providerId: u.providerId, provider: u.provider, profilePicUrl: u.profilePicUrl },
          { name: 'alice', displayName: 'Alice', email: 'alice@example.com', providerId: '', provider: '', profilePicUrl: '' },
        );
        const bob = (await api('POST', '/api/v1/user', { body: { name: 'bob' } })).json.user;
        const list = await api('GET', '/api/v1/user');
        assert.deepEqual(list.json.users.map((x: any) => x.name), ['alice', 'bob']);
        assert.deepEqual((await api('GET', '/api/v1/user?name=bob')).json.users.map((x: any) => x.id), [bob.id]);
        assert.deepEqual((await api('GET', `/api/v1/user?id=${u.id}`)).json.users.map((x: any) => x.name), ['alice']);
        const r = await api('POST', `/api/v1/user/${bob.id}/rename/robert`);
        assert.equal(r.status, 200, r.text);
        assert.equal(r.json.user.name, 'robert');
        const d = await api('DELETE', `/api/v1/user/${bob.id}`);
        assert.equal(d.status, 200);
        assert.deepEqual(d.json, {});
      });

      test('pre-auth keys and API keys', async () => {
        const alice = s.server.state.users.resolve('alice');
        const exp = new Date(Date.now() + 3600_000).toISOString();
        const c = await api('POST', '/api/v1/preauthkey', { body: { user: String(alice.id), reusable: true, expiration: exp, aclTags: [] } });
        assert.equal(c.status, 200, c.text);
        const k = c.json.preAuthKey;
        assert.match(k.key, /^hskey-auth-/);
        assert.equal(k.user.name, 'alice');
        assert.equal(k.reusable, true);
        assert.equal(k.ephemeral, false);
        assert.deepEqual(k.aclTags, []);
        const list = (await api('GET', '/api/v1/preauthkey')).json.preAuthKeys;
        assert.equal(list.length, 1);
        assert.match(list[0].key, /\*\*\*$/);
        assert.equal((await api('POST', '/api/v1/preauthkey/expire', { body: { id: k.id } })).status, 200);
        assert.equal((await api('DELETE', `/api/v1/preauthkey?id=${k.id}`)).status, 200);
        assert.deepEqual((await api('GET', '/api/v1/preauthkey')).json.preAuthKeys, []);

        const ak = await api('POST', '/api/v1/apikey', { body: { expiration: exp } });
        assert.equal(ak.status, 200);
        assert.match(ak.json.apiKey, /^hskey-api-/);
        const keys = (await api('GET', '/api/v1/apikey')).json.apiKeys;
        assert.ok(keys.every((x: any) => typeof x.id === 'string' && typeof x.prefix === 'string'));
        assert.ok(keys.some((x: any) => 'lastSeen' in x && x.lastSeen === null), 'unset timestamps are null');
      });

      test('nodes: debug create, register, routes with exit pairing, rename, expire, list, delete', async () => {
        const dbg = await api('POST', '/api/v1/debug/node', { body: { user: 'alice', key: AUTH_ID, name: 'router', routes: ['10.1.0.0/24', '0.0.0.0/0', '::/0'] } });
        assert.equal(dbg.status, 200, dbg.text);
        assert.equal(dbg.json.node.name, 'router');
        const reg = await api('POST', '/api/v1/auth/register', { body: { user: 'alice', authId: AUTH_ID } });
        assert.equal(reg.status, 200, reg.text);
        const node = reg.json.node;
        assert.equal(typeof node.id, 'string');
        assert.equal(node.registerMethod, 'REGISTER_METHOD_CLI');
        assert.deepEqual(node.availableRoutes, ['0.0.0.0/0', '10.1.0.0/24', '::/0']);
        assert.deepEqual(node.approvedRoutes, []);
        assert.deepEqual(node.subnetRoutes, []);
        assert.equal(node.preAuthKey, null);

        const ap = await api('POST', `/api/v1/node/${node.id}/approve_routes`, { body: { routes: ['10.1.0.0/24', '::/0'] } });
        assert.equal(ap.status, 200, ap.text);
        assert.deepEqual(ap.json.node.approvedRoutes, ['0.0.0.0/0', '10.1.0.0/24', '::/0']);
        // Offline, the node is primary for no subnet route; its exit routes are served as approved.
        assert.deepEqual(ap.json.node.subnetRoutes, ['0.0.0.0/0', '::/0']);

        const got = await api('GET', `/api/v1/node/${node.id}`);
        assert.deepEqual(got.json.node.approvedRoutes, ['0.0.0.0/0', '10.1.0.0/24', '::/0']);
        const rn = await api('POST', `/api/v1/node/${node.id}/rename/edge-1`);
        assert.equal(rn.json.node.givenName, 'edge-1');
        const ex = await api('POST', `/api/v1/node/${node.id}/expire?disableExpiry=true`);
        assert.equal(ex.status, 200, ex.text);
        assert.equal(ex.json.node.expiry, null);
        const when = '2030-01-02T03:04:05Z';
        const ex2 = await api('POST', `/api/v1/node/${node.id}/expire?expiry=${when}`);
        assert.equal(ex2.json.node.expiry, when);
        const tg = await api('POST', `/api/v1/node/${node.id}/tags`, { body: { tags: ['tag:router'] } });
        assert.equal(tg.status, 200, tg.text);
        assert.deepEqual(tg.json.node.tags, ['tag:router']);
        assert.equal((await api('GET', '/api/v1/node')).json.nodes.length, 1);
        assert.equal((await api('GET', '/api/v1/node?user=alice')).json.nodes.length, 0, 'a tagged node belongs to no user');
        const bf = await api('POST', '/api/v1/node/backfillips?confirmed=true');
        assert.equal(bf.status, 200, bf.text);
        assert.deepEqual(bf.json.changes, []);
        assert.equal((await api('POST', '/api/v1/node/backfillips')).status, 400, 'not confirmed');
        assert.equal((await api('DELETE', `/api/v1/node/${node.id}`)).status, 200);
        assert.equal((await api('GET', `/api/v1/node/${node.id}`)).status, 404);
      });

      test('auth approve and reject: NotFound without a pending session', async () => {
        const a = await api('POST', '/api/v1/auth/approve', { body: { authId: 'hskey-authreq-' + 'Z'.repeat(24) } });
        assert.equal(a.status, 404);
        assert.deepEqual(Object.keys(a.json).sort(), ['code', 'details', 'message']);
        assert.equal(a.json.code, 5);
        assert.match(a.json.message, /no pending auth session/);
        assert.equal((await api('POST', '/api/v1/auth/reject', { body: { authId: 'hskey-authreq-' + 'Z'.repeat(24) } })).status, 404);
        assert.equal((await api('POST', '/api/v1/auth/approve', { body: { authId: 'nonsense' } })).status, 400);
      });

      test('health', async () => {
        const h = await api('GET', '/api/v1/health');
        assert.deepEqual(h.json, { databaseConnectivity: true });
      });
    });

    describe('policy (database mode)', () => {
      test('get before set is 404; set validates HuJSON; get returns the text and time', async () => {
        assert.equal((await api('GET', '/api/v1/policy')).status, 404);
        const bad = await api('PUT', '/api/v1/policy', { body: { policy: '{"acls": [' } });
        assert.equal(bad.status, 400);
        assert.equal(bad.json.code, 3);
        assert.equal((await api('GET', '/api/v1/policy')).status, 404, 'nothing stored');
        const text = '// comment\n{\n  "acls": [\n    {"action": "accept", "src": ["*"], "dst": ["*:*"]}, /* trailing */\n  ],\n}\n';
        const ok = await api('PUT', '/api/v1/policy', { body: { policy: text } });
        assert.equal(ok.status, 200, ok.text);
        assert.equal(ok.json.policy, text);
        assert.match(ok.json.updatedAt, RFC3339);
        const got = await api('GET', '/api/v1/policy');
        assert.equal(got.json.policy, text);
        assert.equal((await api('POST', '/api/v1/policy/check', { body: { policy: text } })).status, 200);
        assert.equal((await api('POST', '/api/v1/policy/check', { body: { policy: '{,}' } })).status, 400);
        // An empty policy means "no policy": allow all, as in Tailscale.
        assert.equal((await api('POST', '/api/v1/policy/check', { body: { policy: '' } })).status, 200);
        const unknownGroup = await api('POST', '/api/v1/policy/check', { body: { policy: '{"acls":[{"action":"accept","src":["group:nobody"],"dst":["*:*"]}]}' } });
        assert.equal(unknownGroup.status, 400, 'the engine validates, not only the syntax');
      });
    });

    describe('bad input: right status, nothing changed', () => {
      test('unknown IDs are 404 with the rpcStatus shape', async () => {
        for (const [method, path, body] of [
          ['GET', '/api/v1/node/999'],
          ['DELETE', '/api/v1/node/999'],
          ['POST', '/api/v1/node/999/rename/x'],
          ['POST', '/api/v1/node/999/expire'],
          ['POST', '/api/v1/node/999/tags', { tags: ['tag:a'] }],
          ['POST', '/api/v1/node/999/approve_routes', { routes: [] }],
          ['DELETE', '/api/v1/user/999'],
          ['POST', '/api/v1/user/999/rename/zed'],
          ['POST', '/api/v1/preauthkey/expire', { id: '999' }],
          ['DELETE', '/api/v1/preauthkey?id=999'],
          ['DELETE', '/api/v1/apikey/AAAAAAAAAAAA'],
          ['POST', '/api/v1/apikey/expire', { id: '999' }],
        ] as Array<[string, string, unknown?]>) {
          const r = await api(method, path, { body });
          assert.equal(r.status, 404, `${method} ${path}: ${r.text}`);
          assert.equal(r.json.code, 5);
          assert.deepEqual(r.json.details, []);
        }
      });

      test('malformed JSON, wrong types, invalid names and values are 400; nothing changes', async () => {
        const before = JSON.stringify((await api('GET', '/api/v1/user')).json);
        const cases: Array<[string, string, { body?: unknown; raw?: string }]> = [
          ['POST', '/api/v1/user', { raw: '{"name": ' }],
          ['POST', '/api/v1/user', { raw: '[1,2]' }],
          ['POST', '/api/v1/user', { raw: '"alice"' }],
          ['POST', '/api/v1/user', { body: { name: 5 } }],
          ['POST', '/api/v1/user', { body: { name: 'Not Valid!' } }],
          ['POST', '/api/v1/user', { body: { name: '' } }],
          ['POST', '/api/v1/user/abc/rename/x', {}],
          ['POST', '/api/v1/user/-1/rename/x', {}],
          ['GET', '/api/v1/node/abc', {}],
          ['GET', '/api/v1/node/99999999999999999999999', {}],
          ['GET', '/api/v1/user?id=abc', {}],
          ['POST', '/api/v1/node/backfillips?confirmed=maybe', {}],
          ['POST', '/api/v1/preauthkey', { body: { user: 'alice' } }],
          ['POST', '/api/v1/preauthkey', { body: { expiration: 'tomorrow' } }],
          ['POST', '/api/v1/apikey/expire', { body: {} }],
          ['POST', '/api/v1/apikey/expire', { body: { prefix: 'x', id: '1' } }],
          ['POST', '/api/v1/debug/node', { body: { user: 'alice', key: 'bad', name: 'x' } }],
          ['POST', '/api/v1/auth/register', { body: { user: 'alice', authId: 'bad' } }],
        ];
        for (const [method, path, opts] of cases) {
          const r = await api(method, path, opts);
          assert.ok(r.status === 400 || r.status === 404, `${method} ${path} ${JSON.stringify(opts)}: ${r.status} ${r.text}`);
          assert.notEqual(r.status, 500);
          assert.equal(typeof r.json?.message, 'string', r.text);
          assert.doesNotMatch(r.text, /\s+at\s+\S+\s+\(/, 'no stack trace');
        }
        const node = (await api('POST', '/api/v1/debug/node', { body: { user: 'alice', key: 'hskey-authreq-' + 'B'.repeat(24), name: 'n2' } })).json;
        assert.ok(node.node);
        const reg = await api('POST', '/api/v1/auth/register', { body: { user: 'alice', authId: 'hskey-authreq-' + 'B'.repeat(24) } });
        const id = reg.json.node.id;
        for (const routes of [['10.0.0.0/33'], ['banana'], ['10.0.0.1']]) {
          const r = await api('POST', `/api/v1/node/${id}/approve_routes`, { body: { routes } });
          assert.equal(r.status, 400, JSON.stringify(routes));
        }
        assert.equal((await api('POST', `/api/v1/node/${id}/rename/${encodeURIComponent('bad name!')}`)).status, 400);
        assert.equal((await api('POST', `/api/v1/node/${id}/tags`, { body: { tags: [] } })).status, 400);
        const after = await api('GET', `/api/v1/node/${id}`);
        assert.deepEqual(after.json.node.approvedRoutes, []);
        assert.equal(after.json.node.givenName, 'n2');
        assert.equal(JSON.stringify((await api('GET', '/api/v1/user')).json), before);
        await api('DELETE', `/api/v1/node/${id}`);
      });

      test('unknown paths are 404, wrong methods 405, both in the rpcStatus shape', async () => {
        const a = await api('GET', '/api/v1/nope');
        assert.equal(a.status, 404);
        assert.equal(a.json.code, 5);
        const b = await api('PATCH', '/api/v1/user');
        assert.equal(b.status, 405);
        assert.equal(typeof b.json.message, 'string');
        const c = await api('GET', '/api/v1/policy/check');
        assert.equal(c.status, 405);
      });
    });
  });
}

describe('OpenAPI document', () => {
  test('every route of the table is in the document, and nothing else', () => {
    const doc = buildOpenApi('test') as { paths: Record<string, Record<string, { operationId: string }>> };
    const fromDoc = new Set<string>();
    for (const [path, ops] of Object.entries(doc.paths)) {
      for (const method of Object.keys(ops)) fromDoc.add(`${method.toUpperCase()} ${path}`);
    }
    const camel = (p: string) => p.replace(/\{([a-z_]+)\}/g, (_, v: string) => `{${v.replace(/_([a-z])/g, (_m, c: string) => c.toUpperCase())}}`);
    const fromTable = new Set(ROUTES.map((r) => `${r.method} ${camel(r.path)}`));
    assert.deepEqual([...fromDoc].sort(), [...fromTable].sort());
    assert.equal(ROUTES.length, 29);
    assert.equal(new Set(ROUTES.map((r) => r.rpc)).size, 29, 'each RPC once');
  });

  test('matches the paths, methods and operation IDs of headscale 0.29.2', () => {
    const doc = buildOpenApi('test') as { paths: Record<string, Record<string, { operationId: string; parameters?: Array<{ name: string; in: string }> }>> };
    const expiry = doc.paths['/api/v1/node/{nodeId}/expire']?.post;
    assert.equal(expiry?.operationId, 'HeadscaleService_ExpireNode');
    assert.deepEqual(expiry?.parameters?.map((p) => `${p.in}:${p.name}`), ['path:nodeId', 'query:expiry', 'query:disableExpiry']);
    const del = doc.paths['/api/v1/apikey/{prefix}']?.delete;
    assert.deepEqual(del?.parameters?.map((p) => `${p.in}:${p.name}`), ['path:prefix', 'query:id']);
    const users = doc.paths['/api/v1/user']?.get;
    assert.deepEqual(users?.parameters?.map((p) => `${p.in}:${p.name}`), ['query:id', 'query:name', 'query:email']);
  });
});
