// More of the control server in-process: Hostinfo changes, unimplemented endpoints, the
// WebSocket carrier, hostile bytes, the embedded DERP relay's admission, /verify and derp.paths.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import http2 from 'node:http2';
import { startTestServer, type TestServer } from '../support/server.js';
import { ControlClient, CAPVER } from '../support/control-client.js';
import { dialDerp } from '../../src/protocol/derp/http-client.js';
import { dialTs2021 } from '../../src/protocol/noise/client.js';
import { generatePrivateKey, parseKey } from '../../src/crypto/keys.js';
import type { MapResponse, RegisterResponse } from '../../src/tailcfg/types.js';

let s: TestServer;
let key: string;
let derpFile: string;

before(async () => {
  const dir = fs.mkdtempSync('/tmp/sb-derpmap-');
  derpFile = path.join(dir, 'derp.yaml');
  fs.writeFileSync(derpFile, 'regions:\n  1:\n    regionid: 1\n    regioncode: extra\n    regionname: Extra Region\n    nodes:\n      - name: 1a\n        regionid: 1\n        hostname: derp.example.invalid\n        stunport: 3478\n        derpport: 443\n');
  s = await startTestServer('sqlite', {
    derp: {
      server: { enabled: true, region_id: 999, region_code: 'sb', region_name: 'Test DERP', stun_listen_addr: '127.0.0.1:0', private_key_path: path.join(dir, 'derp_server_private.key'), verify_clients: true },
      paths: [derpFile],
      urls: [],
    },
  });
  await s.cli('users', 'create', 'alice');
  key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
});
after(async () => {
  await s.close();
  fs.rmSync(path.dirname(derpFile), { recursive: true, force: true });
});

async function joined(name: string): Promise<{ c: ControlClient; first: MapResponse; close: () => void }> {
  const c = new ControlClient(s.server.http.url);
  const r = await c.register({ Auth: { AuthKey: key }, Hostinfo: { Hostname: name, OS: 'linux' } });
  assert.equal((r.body as RegisterResponse).MachineAuthorized, true);
  const m = await c.map({ Hostinfo: { Hostname: name, OS: 'linux' } });
  const first = await m.next();
  return { c, first, close: () => (m.close(), c.close()) };
}

test('the DERP map merges derp.paths with the embedded region, pinned by certificate', async () => {
  const { first, close } = await joined('mapper');
  const regions = first.DERPMap!.Regions;
  assert.deepEqual(Object.keys(regions).sort(), ['1', '999']);
  assert.equal(regions['1']!.RegionCode, 'extra');
  const node = regions['999']!.Nodes[0]!;
  assert.equal(node.HostName, '127.0.0.1');
  assert.equal(node.DERPPort, s.server.http.port);
  assert.match(node.CertName!, /^sha256-raw:[0-9a-f]{64}$/);
  assert.ok(node.STUNPort! > 0);
  close();
});

test('the relay admits this tailnet\'s nodes only (verify_clients)', async () => {
  const { c, first, close } = await joined('relay-user');
  const node = first.DERPMap!.Regions['999']!.Nodes[0]!;
  const tls = { pin: node.CertName! };
  const member = await dialDerp({ host: '127.0.0.1', port: node.DERPPort!, tls, privateKey: c.nodePrivate });
  await member.ping();
  member.close();
  await assert.rejects(dialDerp({ host: '127.0.0.1', port: node.DERPPort!, tls, privateKey: generatePrivateKey() }));
  close();
});

test('POST /verify answers for external derpers', async () => {
  const { c, close } = await joined('verified');
  const ask = async (nodeKey: string) =>
    (await (await fetch(`${s.server.http.url}/verify`, { method: 'POST', body: JSON.stringify({ NodePublic: nodeKey }) })).json()) as { Allow: boolean };
  assert.deepEqual(await ask(c.nodeKey), { Allow: true });
  assert.deepEqual(await ask(`nodekey:${'0'.repeat(64)}`), { Allow: false });
  assert.equal((await fetch(`${s.server.http.url}/verify`)).status, 405);
  assert.equal((await fetch(`${s.server.http.url}/verify`, { method: 'POST', body: '{oops' })).status, 400);
  close();
});

test('a Hostinfo change reaches peers as the whole node', async () => {
  const watcher = await joined('watcher');
  const mover = new ControlClient(s.server.http.url);
  await mover.register({ Auth: { AuthKey: key }, Hostinfo: { Hostname: 'mover', OS: 'linux' } });
  const lite = await mover.map({ Stream: false, OmitPeers: true, Hostinfo: { Hostname: 'mover', OS: 'linux', OSVersion: '6.1' } });
  assert.equal(lite.status, 200);
  watcher.close();
  const again = await joined('watcher2');
  const peer = again.first.Peers!.find((p) => p.Hostinfo.Hostname === 'mover')!;
  assert.equal(peer.Hostinfo.OSVersion, '6.1');
  again.close();
  mover.close();
});

test('unimplemented endpoints answer 501, unknown ones 404', async () => {
  const { close } = await joined('prober');
  const pub = parseKey('mkey', ((await (await fetch(`${s.server.http.url}/key?v=${CAPVER}`)).json()) as { publicKey: string }).publicKey)!;
  const sock = net.connect(s.server.http.port, '127.0.0.1');
  await new Promise((r) => sock.once('connect', r));
  const { stream } = await dialTs2021({ socket: sock, machinePrivateKey: generatePrivateKey(), serverPublicKey: pub, protocolVersion: CAPVER, carrier: 'websocket' });
  const session = http2.connect('http://x', { createConnection: () => stream as unknown as net.Socket });
  const status = (p: string, method = 'GET') =>
    new Promise<number>((resolve, reject) => {
      const req = session.request({ ':method': method, ':path': p });
      req.once('response', (h) => resolve(Number(h[':status'])));
      req.once('error', reject);
      req.end();
    });
  assert.equal(await status('/machine/whoami'), 501, 'over the WebSocket carrier too');
  assert.equal(await status('/machine/set-dns', 'POST'), 501);
  assert.equal(await status('/machine/nonsense'), 404);
  session.destroy();
  close();
});

test('hostile bytes close only the offending connection', async () => {
  const healthy = await joined('healthy');
  const port = s.server.http.port;
  const send = (bytes: string | Buffer) =>
    new Promise<string>((resolve) => {
      const c = net.connect(port, '127.0.0.1', () => c.write(bytes));
      let out = '';
      c.on('data', (d) => (out += d));
      c.on('error', () => resolve(out));
      c.on('close', () => resolve(out));
      setTimeout(() => c.destroy(), 2000);
    });
  const bad = await send('POST /ts2021 HTTP/1.1\r\nHost: x\r\nUpgrade: tailscale-control-protocol\r\nConnection: upgrade\r\nX-Tailscale-Handshake: <script>\r\n\r\n');
  assert.match(bad, /^HTTP\/1\.1 400/);
  assert.ok(!bad.includes('<script>'), 'the refusal does not echo input');
  await send(Buffer.concat([Buffer.from('GET /derp HTTP/1.1\r\nHost: x\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n\r\n'), Buffer.alloc(4096, 0xff)]));
  await send(Buffer.from([0x16, 0x03, 0x01, 0xff, 0xff, 1, 2, 3]));
  // The healthy node's stream still works: it hears about a new peer.
  const m = await healthy.c.map({ Hostinfo: { Hostname: 'healthy', OS: 'linux' } });
  await m.next();
  const late = await joined('late');
  await m.until((x) => (x.PeersChanged ?? []).some((p) => p.Hostinfo.Hostname === 'late'));
  m.close();
  late.close();
  healthy.close();
});
