// The access policy reaching connected nodes as deltas: peers appear and disappear, packet
// filters change, a refused policy leaves the running one in force.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer } from '../support/server.js';
import { ControlClient } from '../support/control-client.js';

test('policy set in database mode reaches every connected node as a delta', async () => {
  const s = await startTestServer('sqlite', { policy: { mode: 'database', path: '' } });
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-pol-'));
  try {
    for (const u of ['alice', 'bob']) await s.cli('users', 'create', u, '-e', `${u}@example.com`);
    const keyA = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const keyB = (await s.cli('preauthkeys', 'create', '-u', '2')).stdout;
    const join = async (key: string, name: string) => {
      const c = new ControlClient(s.server.http.url);
      await c.register({ Auth: { AuthKey: key }, Hostinfo: { Hostname: name, OS: 'linux' } });
      const m = await c.map({ Hostinfo: { Hostname: name, OS: 'linux' } });
      return { c, m, first: await m.next() };
    };
    const file = path.join(dir, 'policy.hujson');
    // Only alice's own nodes reach each other.
    fs.writeFileSync(file, '{\n  // alice to alice\n  "acls": [{"action": "accept", "src": ["alice@"], "dst": ["alice@:*"]}],\n}\n');
    let r = await s.cli('policy', 'set', '-f', file);
    assert.equal(r.code, 0, r.stderr);

    const a1 = await join(keyA, 'a1');
    const a2 = await join(keyA, 'a2');
    const b1 = await join(keyB, 'b1');
    assert.deepEqual((b1.first.Peers ?? []).map((p) => p.Name), [], 'bob sees nobody');
    assert.ok((a2.first.Peers ?? []).some((p) => p.Name === 'a1.tailnet.test.'));
    assert.ok(!(a2.first.Peers ?? []).some((p) => p.Name === 'b1.tailnet.test.'));
    assert.ok(a2.first.PacketFilter!.length > 0);
    assert.ok(!JSON.stringify(a2.first.PacketFilter).includes(b1.first.Node!.Addresses[0]!.split('/')[0]!), 'no rule lets bob in');

    // A rule for bob: he now sees alice's nodes and they accept him.
    fs.writeFileSync(file, '{"acls": [{"action": "accept", "src": ["alice@"], "dst": ["alice@:*"]}, {"action": "accept", "src": ["bob@"], "dst": ["alice@:22"]}]}');
    const started = Date.now();
    r = await s.cli('policy', 'set', '-f', file);
    assert.equal(r.code, 0, r.stderr);
    const seen = await b1.m.until((m) => (m.PeersChanged ?? []).some((p) => p.Name === 'a1.tailnet.test.'), 2000);
    assert.ok(Date.now() - started < 1000, 'within a second');
    void seen;
    const filter = await a1.m.until((m) => m.PacketFilter !== undefined && JSON.stringify(m.PacketFilter).includes('"First":22'), 2000);
    assert.ok(filter.PacketFilter!.some((rule) => rule.SrcIPs.includes(b1.first.Node!.Addresses[0]!.split('/')[0]!)));

    // A refused policy changes nothing.
    fs.writeFileSync(file, '{"acls": [{"action": "accept", "src": ["group:missing"], "dst": ["*:*"]}]}');
    r = await s.cli('policy', 'set', '-f', file);
    assert.equal(r.code, 1);
    assert.match(r.stderr, /group:missing/);
    const get = await s.cli('policy', 'get');
    assert.match(get.stdout, /bob@/);

    // Removing the rule cuts bob off again.
    fs.writeFileSync(file, '{"acls": [{"action": "accept", "src": ["alice@"], "dst": ["alice@:*"]}]}');
    await s.cli('policy', 'set', '-f', file);
    await b1.m.until((m) => (m.PeersRemoved ?? []).length === 2, 2000);
    for (const n of [a1, a2, b1]) (n.m.close(), n.c.close());
  } finally {
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
