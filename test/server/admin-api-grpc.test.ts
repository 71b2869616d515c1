// The admin API over gRPC on grpc_listen_addr (plaintext with grpc_allow_insecure, and TLS),
// where every call needs a Bearer API key, and the CLI's remote mode; plus the CLI commands
// added for headscale 0.29 parity (routes, backfillips, policy, debug, auth approve) over the
// unix socket.

import { describe, test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse, stringify } from 'yaml';
import { createClient, ConnectError, Code, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { HeadscaleService } from '../../src/gen/headscale/v1/headscale_pb.js';
import { startTestServer, runCli, type TestServer } from '../support/server.js';
import { generateDerpCertificate } from '../../src/server/derp/tls.js';

type Admin = Client<typeof HeadscaleService>;

function grpcClient(baseUrl: string, auth?: string, tlsInsecure = false): Admin {
  const transport = createGrpcTransport({
    baseUrl,
    interceptors: auth === undefined ? [] : [(next) => async (req) => {
      req.header.set('authorization', auth);
      return next(req);
    }],
    nodeOptions: baseUrl.startsWith('https') ? { rejectUnauthorized: !tlsInsecure } : {},
    defaultTimeoutMs: 5000,
  });
  return createClient(HeadscaleService, transport);
}

async function code(p: Promise<unknown>): Promise<{ code: Code; message: string }> {
  try {
    await p;
  } catch (err) {
    assert.ok(err instanceof ConnectError, String(err));
    return { code: err.code, message: err.rawMessage };
  }
  assert.fail('the call succeeded');
}

describe('gRPC on grpc_listen_addr (plaintext, grpc_allow_insecure)', () => {
  let s: TestServer;
  let key: string;
  let base: string;
  before(async () => {
    s = await startTestServer('sqlite', { grpc_listen_addr: '127.0.0.1:0', grpc_allow_insecure: true });
    key = (await s.server.state.apiKeys.create(new Date(Date.now() + 3600_000))).full;
    assert.ok(s.server.grpc, 'the gRPC listener started');
    assert.equal(s.server.grpc.tls, false);
    base = `http://${s.server.grpc.address}`;
  });
  after(() => s?.close());

  test('a valid key works', async () => {
    const c = grpcClient(base, `Bearer ${key}`);
    await c.createUser({ name: 'alice' });
    const res = await c.listUsers({});
    assert.deepEqual(res.users.map((u) => u.name), ['alice']);
    assert.equal((await c.health({})).databaseConnectivity, true);
  });

  test('no key: Unauthenticated "authorization token not supplied"', async () => {
    const r = await code(grpcClient(base).listUsers({}));
    assert.equal(r.code, Code.Unauthenticated);
    assert.equal(r.message, 'authorization token not supplied');
  });

  test('wrong, malformed, expired and deleted keys: Unauthenticated "invalid token"; nothing runs', async () => {
    const expired = (await s.server.state.apiKeys.create(new Date(Date.now() - 1000))).full;
    const doomed = (await s.server.state.apiKeys.create(new Date(Date.now() + 3600_000))).full;
    const revoked = (await s.server.state.apiKeys.create(new Date(Date.now() + 3600_000))).full;
    assert.equal((await grpcClient(base, `Bearer ${doomed}`).listUsers({})).users.length, 1);
    assert.equal((await grpcClient(base, `Bearer ${revoked}`).listUsers({})).users.length, 1);
    const admin = grpcClient(base, `Bearer ${key}`);
    await admin.deleteApiKey({ prefix: doomed.slice(10, 22) });
    await admin.expireApiKey({ prefix: revoked.slice(10, 22) });
    const wrong = 'hskey-api-AAAAAAAAAAAA-' + 'C'.repeat(64);
    for (const auth of [`Bearer ${wrong}`, 'Bearer nonsense', 'Bearer ', key, `Basic ${key}`, `Bearer ${expired}`, `Bearer ${doomed}`, `Bearer ${revoked}`]) {
      const r = await code(grpcClient(base, auth).createUser({ name: 'mallory' }));
      assert.equal(r.code, Code.Unauthenticated, auth.slice(0, 30));
      assert.equal(r.message, 'invalid token');
    }
    assert.deepEqual(s.server.state.users.list({}).map((u) => u.name), ['alice']);
  });

  test('a socket path as :authority (what Go gRPC clients send) neither crashes nor fails the call', async () => {
    const http2 = await import('node:http2');
    const net = await import('node:net');
    const session = http2.connect('http://localhost', { createConnection: () => net.connect(s.server.admin.path) });
    session.on('error', () => {});
    const req = session.request({
      ':method': 'POST',
      ':path': '/headscale.v1.HeadscaleService/ListUsers',
      ':authority': encodeURIComponent(s.server.admin.path),
      'content-type': 'application/grpc',
      te: 'trailers',
    });
    const status = await new Promise<string>((resolve) => {
      let grpcStatus = '';
      req.on('response', (h) => (grpcStatus = String(h['grpc-status'] ?? grpcStatus)));
      req.on('trailers', (t) => (grpcStatus = String(t['grpc-status'] ?? grpcStatus)));
      req.on('data', () => {});
      req.on('end', () => resolve(grpcStatus));
      req.end(Buffer.from([0, 0, 0, 0, 0]));
    });
    session.close();
    assert.equal(status, '0');
    assert.equal((await s.cli('users', 'list', '-o', 'json')).code, 0, 'the server is still up');
  });

  test('the unix socket needs no key', async () => {
    const r = await s.cli('users', 'list', '-o', 'json');
    assert.equal(r.code, 0, r.stderr);
  });

  test('bad input keeps its gRPC status on TCP', async () => {
    const c = grpcClient(base, `Bearer ${key}`);
    assert.equal((await code(c.getNode({ nodeId: 999n }))).code, Code.NotFound);
    assert.equal((await code(c.createUser({ name: 'Bad Name!' }))).code, Code.InvalidArgument);
    assert.equal((await code(c.setApprovedRoutes({ nodeId: 999n, routes: ['x'] }))).code, Code.NotFound);
  });

  test('malformed protobuf is refused without running anything', async () => {
    const body = Buffer.from([0, 0, 0, 0, 3, 0xff, 0xff, 0xff]);
    const http2 = await import('node:http2');
    const session = http2.connect(base);
    session.on('error', () => {});
    const req = session.request({
      ':method': 'POST',
      ':path': '/headscale.v1.HeadscaleService/CreateUser',
      'content-type': 'application/grpc',
      te: 'trailers',
      authorization: `Bearer ${key}`,
    });
    const status = await new Promise<string>((resolve) => {
      let grpcStatus = '';
      req.on('response', (h) => (grpcStatus = String(h['grpc-status'] ?? grpcStatus)));
      req.on('trailers', (t) => (grpcStatus = String(t['grpc-status'] ?? grpcStatus)));
      req.on('data', () => {});
      req.on('end', () => resolve(grpcStatus));
      req.end(body);
    });
    session.close();
    assert.notEqual(status, '0');
    assert.notEqual(status, '');
    assert.deepEqual(s.server.state.users.list({}).map((u) => u.name), ['alice']);
  });
});

describe('gRPC over TLS and the CLI in remote mode', () => {
  let s: TestServer;
  let key: string;
  let certDir: string;
  let remoteConfig: (extra: Record<string, unknown>) => string;
  before(async () => {
    certDir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-grpc-tls-'));
    const cert = generateDerpCertificate(['localhost', '127.0.0.1']);
    fs.writeFileSync(path.join(certDir, 'cert.pem'), cert.certPem);
    fs.writeFileSync(path.join(certDir, 'key.pem'), cert.keyPem);
    s = await startTestServer('sqlite', {
      grpc_listen_addr: '127.0.0.1:0',
      tls_cert_path: path.join(certDir, 'cert.pem'),
      tls_key_path: path.join(certDir, 'key.pem'),
    });
    key = (await s.server.state.apiKeys.create(new Date(Date.now() + 3600_000))).full;
    assert.equal(s.server.grpc?.tls, true);
    remoteConfig = (cli) => {
      const base = parse(fs.readFileSync(s.configPath, 'utf8')) as Record<string, unknown>;
      // The socket is not there: only the remote path can work.
      const file = path.join(certDir, `remote-${Math.random().toString(36).slice(2)}.yaml`);
      fs.writeFileSync(file, stringify({ ...base, unix_socket: path.join(certDir, 'absent.sock'), cli }));
      return file;
    };
  });
  after(async () => {
    await s?.close();
    fs.rmSync(certDir, { recursive: true, force: true });
  });

  test('TLS client with a key works; without a key it is refused', async () => {
    const c = grpcClient(`https://${s.server.grpc?.address}`, `Bearer ${key}`, true);
    await c.createUser({ name: 'remote-alice' });
    const r = await code(grpcClient(`https://${s.server.grpc?.address}`, undefined, true).listUsers({}));
    assert.equal(r.code, Code.Unauthenticated);
  });

  test('CLI remote mode: cli.address + cli.api_key + cli.insecure', async () => {
    const cfg = remoteConfig({ address: s.server.grpc?.address, api_key: key, insecure: true });
    const r = await runCli(['-c', cfg, 'users', 'list', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).map((u: { name: string }) => u.name), ['remote-alice']);
  });

  test('CLI remote mode: --insecure flag instead of cli.insecure', async () => {
    const cfg = remoteConfig({ address: s.server.grpc?.address, api_key: key });
    const r = await runCli(['-c', cfg, '--insecure', 'nodes', 'list', '-o', 'json']);
    assert.equal(r.code, 0, r.stderr);
  });

  test('CLI remote mode: a missing key is reported before dialling', async () => {
    const cfg = remoteConfig({ address: s.server.grpc?.address, insecure: true });
    const r = await runCli(['-c', cfg, 'users', 'list']);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /HEADSCALE_CLI_API_KEY environment variable needs to be set/);
  });

  test('CLI remote mode: a wrong key and an unverified certificate fail', async () => {
    const wrong = remoteConfig({ address: s.server.grpc?.address, api_key: 'hskey-api-AAAAAAAAAAAA-' + 'D'.repeat(64), insecure: true });
    const r1 = await runCli(['-c', wrong, 'users', 'list']);
    assert.equal(r1.code, 1);
    assert.match(r1.stderr, /invalid token/);
    const verify = remoteConfig({ address: s.server.grpc?.address, api_key: key });
    const r2 = await runCli(['-c', verify, 'users', 'list']);
    assert.equal(r2.code, 1);
    assert.match(r2.stderr, /^Error: /);
  });
});

describe('CLI commands added for parity (unix socket)', () => {
  let s: TestServer;
  before(async () => {
    s = await startTestServer('sqlite', { policy: { mode: 'database', path: '' } });
    await s.cli('users', 'create', 'alice');
  });
  after(() => s?.close());

  test('debug create-node, auth register, nodes approve-routes and list-routes', async () => {
    const authId = 'hskey-authreq-' + 'Q'.repeat(24);
    const d = await s.cli('debug', 'create-node', '--name', 'gw', '-u', 'alice', '-k', authId, '-r', '10.9.0.0/16,0.0.0.0/0', '-o', 'json');
    assert.equal(d.code, 0, d.stderr);
    assert.equal(JSON.parse(d.stdout).name, 'gw');
    const reg = await s.cli('auth', 'register', '--auth-id', authId, '-u', 'alice', '-o', 'json');
    assert.equal(reg.code, 0, reg.stderr);
    const id = String(JSON.parse(reg.stdout).id);
    const empty = await s.cli('nodes', 'list-routes', '-o', 'json');
    assert.deepEqual(JSON.parse(empty.stdout)[0].available_routes, ['0.0.0.0/0', '10.9.0.0/16']);
    const ap = await s.cli('nodes', 'approve-routes', '-i', id, '-r', '0.0.0.0/0', '-o', 'json');
    assert.equal(ap.code, 0, ap.stderr);
    assert.deepEqual(JSON.parse(ap.stdout).approved_routes, ['0.0.0.0/0', '::/0']);
    const table = await s.cli('nodes', 'routes', '-i', id);
    assert.match(table.stdout, /Serving \(Primary\)/);
    assert.match(table.stdout, /0\.0\.0\.0\/0/);
    const clear = await s.cli('nodes', 'approve-routes', '-i', id, '-r', '', '-o', 'json');
    assert.equal(clear.code, 0, clear.stderr);
    assert.equal(JSON.parse(clear.stdout).approved_routes, undefined);
    const bad = await s.cli('nodes', 'approve-routes', '-i', id, '-r', 'nope');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /parsing route/);
  });

  test('nodes backfillips --force', async () => {
    const r = await s.cli('--force', 'nodes', 'backfillips');
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /backfilled/);
  });

  test('policy set, get, check with -f; bypass flag refused', async () => {
    const file = path.join(s.dir, 'policy.hujson');
    fs.writeFileSync(file, '{\n  // everyone\n  "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]},],\n}\n');
    const set = await s.cli('policy', 'set', '-f', file);
    assert.equal(set.code, 0, set.stderr);
    assert.equal(set.stdout, 'Policy updated.');
    const get = await s.cli('policy', 'get');
    assert.equal(get.stdout, fs.readFileSync(file, 'utf8'));
    assert.equal((await s.cli('policy', 'check', '-f', file)).stdout, 'Policy is valid');
    fs.writeFileSync(file, '{"acls": [');
    const bad = await s.cli('policy', 'check', '-f', file);
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /checking ACL policy: unexpected end of input \(line 1, column 11\)/);
    const missing = await s.cli('policy', 'set');
    assert.equal(missing.code, 1);
    const bypass = await s.cli('policy', 'get', '--bypass-grpc-and-access-database-directly');
    assert.equal(bypass.code, 1);
    assert.match(bypass.stderr, /not supported/);
  });

  test('auth approve: no pending auth session', async () => {
    const r = await s.cli('auth', 'approve', '--auth-id', 'hskey-authreq-' + 'R'.repeat(24));
    assert.equal(r.code, 1);
    assert.match(r.stderr, /no pending auth session/);
  });
});

describe('policy in file mode', () => {
  test('get reads policy.path; set is refused', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-pol-'));
    const file = path.join(dir, 'acl.hujson');
    fs.writeFileSync(file, '{"acls": []}\n');
    const s = await startTestServer('sqlite', { policy: { mode: 'file', path: file } });
    try {
      assert.equal((await s.cli('policy', 'get')).stdout, '{"acls": []}\n');
      const set = await s.cli('policy', 'set', '-f', file);
      assert.equal(set.code, 1);
      assert.match(set.stderr, /update is disabled/);
    } finally {
      await s.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
