// The control protocol in-process: our own Noise/HTTP/2 client against a whole server.

import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { startTestServer, type TestServer } from '../support/server.js';
import { ControlClient } from '../support/control-client.js';
import type { RegisterResponse } from '../../src/tailcfg/types.js';

let s: TestServer;
let key: string;
const clients: ControlClient[] = [];

before(async () => {
  s = await startTestServer('sqlite');
  await s.cli('users', 'create', 'alice');
  key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
});
after(async () => {
  for (const c of clients) c.close();
  await s.close();
});

async function joined(hostname: string): Promise<ControlClient> {
  const c = new ControlClient(s.server.http.url);
  clients.push(c);
  const r = await c.register({ Auth: { AuthKey: key }, Hostinfo: { Hostname: hostname, OS: 'linux' } });
  assert.equal(r.status, 200);
  assert.equal((r.body as RegisterResponse).MachineAuthorized, true, JSON.stringify(r.body));
  return c;
}

test('a registered node gets a full first map it can run on', async () => {
  const a = await joined('alpha');
  const m = await a.map({ Hostinfo: { Hostname: 'alpha', OS: 'linux' } });
  assert.equal(m.status, 200);
  const first = await m.next();
  assert.ok(first.Node, 'the first message carries the self node');
  assert.equal(first.Node.MachineAuthorized, true);
  assert.equal(first.Node.Key, a.nodeKey);
  assert.equal(first.Node.Name, 'alpha.tailnet.test.');
  assert.deepEqual(first.Node.Addresses, ['100.64.0.1/32', 'fd7a:115c:a1e0::1/128']);
  assert.ok(first.DERPMap);
  assert.deepEqual(first.PacketFilter, [{ SrcIPs: ['*'], DstPorts: [{ IP: '*', Ports: { First: 0, Last: 65535 } }] }]);
  assert.equal(first.DNSConfig?.Proxied, true);
  assert.deepEqual(first.DNSConfig?.Domains, ['tailnet.test']);
  assert.equal(first.UserProfiles?.[0]?.LoginName, 'alice');
  assert.equal(first.Peers, undefined, 'no peers yet');
  m.close();
});

test('peers appear, change, go offline and disappear as deltas', async () => {
  const b = await joined('bravo');
  const mb = await b.map();
  await mb.next();
  const c = await joined('charlie');
  const bSeesC = await mb.until((m) => (m.PeersChanged ?? []).some((p) => p.Name === 'charlie.tailnet.test.'));
  const cId = bSeesC.PeersChanged!.find((p) => p.Name === 'charlie.tailnet.test.')!.ID;

  const mc = await c.map({ Endpoints: ['127.0.0.1:41641'], Hostinfo: { Hostname: 'charlie', OS: 'linux' } });
  const cFirst = await mc.next();
  assert.ok(cFirst.Peers?.some((p) => p.Name === 'bravo.tailnet.test.' && p.Online === true), 'charlie sees bravo online');
  await mb.until((m) => (m.PeersChangedPatch ?? []).some((p) => p.NodeID === cId && p.Online === true && p.Endpoints?.[0] === '127.0.0.1:41641' && p.DiscoKey === c.discoKey));

  // A lite update (no stream) with new endpoints reaches the peer.
  const lite = await c.map({ Stream: false, OmitPeers: true, Endpoints: ['127.0.0.1:5555'], Hostinfo: { Hostname: 'charlie', OS: 'linux' } });
  assert.equal(lite.status, 200);
  const patched = await mb.until((m) => (m.PeersChangedPatch ?? []).some((p) => p.NodeID === cId && p.Endpoints?.[0] === '127.0.0.1:5555'));
  assert.equal(patched.PeersChanged, undefined, 'an endpoint move travels as a small patch, not the whole node');

  // Charlie's stream ends: bravo hears it went offline.
  mc.close();
  await mb.until((m) => (m.PeersChangedPatch ?? []).some((p) => p.NodeID === cId && p.Online === false));

  // The admin deletes charlie: bravo's map drops it.
  const del = await s.cli('nodes', 'delete', '-i', String(cId), '--force');
  assert.equal(del.code, 0, del.stderr);
  await mb.until((m) => (m.PeersRemoved ?? []).includes(cId));
  mb.close();
});

test('an admin expiry reaches the node itself', async () => {
  const d = await joined('delta');
  const md = await d.map();
  const first = await md.next();
  const id = first.Node!.ID;
  await s.cli('nodes', 'expire', '-i', String(id));
  const m = await md.until((x) => x.Node?.KeyExpiry !== undefined);
  assert.ok(new Date(m.Node!.KeyExpiry!).getTime() <= Date.now());
  assert.equal(m.Node!.MachineAuthorized, false);
  md.close();
});

test('requests are bound to the machine key the handshake proved', async () => {
  const victim = await joined('victim');
  const attacker = new ControlClient(s.server.http.url);
  clients.push(attacker);
  await attacker.connect();
  // The attacker names the victim's node key in its own requests.
  attacker.nodePrivate = victim.nodePrivate;
  const m = await attacker.map();
  assert.equal(m.status, 404);
  const r = await attacker.register({ Auth: { AuthKey: key } });
  assert.equal((r.body as RegisterResponse).Error, 'node exists with a different machine key');
  assert.equal(s.server.state.nodes.findByNodeKey(victim.nodeKey)?.machineKey, victim.machineKey, 'the victim node is unchanged');
});

test('old clients and unknown endpoints get clear answers', async () => {
  const c = new ControlClient(s.server.http.url);
  clients.push(c);
  const r = await c.register({ Version: 90 });
  assert.equal(r.status, 400);
  assert.match(String(r.body), /capability version 90 is older than 113/);
  const m = await c.map({ Version: 90 });
  assert.equal(m.status, 400);
  const unknown = await c.map({});
  assert.equal(unknown.status, 404, 'a map request for an unregistered key');
});
