// DNS settings as nodes receive them, and the extra records file being watched.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startTestServer } from '../support/server.js';
import { ControlClient } from '../support/control-client.js';

test('nameservers, split DNS, search domains and a watched extra-records file', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-dns-'));
  const file = path.join(dir, 'records.json');
  fs.writeFileSync(file, JSON.stringify([{ name: 'db.tailnet.test', type: 'A', value: '100.64.0.50' }]));
  const s = await startTestServer('sqlite', {
    dns: {
      magic_dns: true,
      base_domain: 'tailnet.test',
      override_local_dns: true,
      nameservers: { global: ['1.1.1.1'], split: { 'corp.example': ['10.0.0.53'] } },
      search_domains: ['corp.example'],
      extra_records_path: file,
    },
  });
  try {
    await s.cli('users', 'create', 'alice');
    const key = (await s.cli('preauthkeys', 'create', '-u', '1')).stdout;
    const c = new ControlClient(s.server.http.url);
    await c.register({ Auth: { AuthKey: key } });
    const m = await c.map();
    const dns = (await m.next()).DNSConfig!;
    assert.deepEqual(dns.Resolvers, [{ Addr: '1.1.1.1' }]);
    assert.deepEqual(dns.Routes, { 'corp.example': [{ Addr: '10.0.0.53' }] });
    assert.deepEqual(dns.Domains, ['tailnet.test', 'corp.example']);
    assert.equal(dns.Proxied, true);
    assert.deepEqual(dns.ExtraRecords, [{ Name: 'db.tailnet.test', Type: 'A', Value: '100.64.0.50' }]);

    // An edit reaches the connected node without restarts; a broken edit changes nothing.
    fs.writeFileSync(file, JSON.stringify([{ name: 'db.tailnet.test', type: 'A', value: '100.64.0.51' }]));
    const changed = await m.until((x) => x.DNSConfig?.ExtraRecords?.[0]?.Value === '100.64.0.51', 8000);
    assert.equal(changed.DNSConfig!.Resolvers?.[0]?.Addr, '1.1.1.1', 'the whole DNS config is sent');
    fs.writeFileSync(file, '[{"name": oops');
    await assert.rejects(m.until((x) => x.DNSConfig !== undefined, 3000), /timed out/);
    m.close();
    c.close();
  } finally {
    await s.close();
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
