// MagicDNS and tags with real clients: peers' names and extra records resolve through the
// client's own resolver, an edit of the extra-records file is seen without restarts, and tags a
// client asks for are granted only when tagOwners allows.

import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { harnessTest, type TailscaleNode } from '../harness/tailscale.js';
import { ServerProcess } from '../support/server-process.js';
import { join } from './helpers.js';

async function resolve(node: TailscaleNode, name: string): Promise<string> {
  const r = await node.cli(['dns', 'query', name, 'A'], { timeoutMs: 15_000, allowFailure: true });
  return r.stdout + r.stderr;
}

harnessTest('MagicDNS names, a watched extra record, and tags by tagOwners', async (h) => {
  const dirForRecords = fs.mkdtempSync('/tmp/sb-e2e-dns-');
  const records = path.join(dirForRecords, 'records.json');
  fs.writeFileSync(records, JSON.stringify([{ name: 'db.tailnet.test', type: 'A', value: '100.64.0.50' }]));
  const s = await ServerProcess.start({
    dns: { magic_dns: true, base_domain: 'tailnet.test', override_local_dns: false, extra_records_path: records },
    policy: { mode: 'database', path: '' },
  });
  try {
    await s.cli('users', 'create', 'alice', '-e', 'alice@example.com');
    const file = path.join(s.dir, 'policy.hujson');
    fs.writeFileSync(file, '{"tagOwners": {"tag:web": ["alice@"], "tag:db": ["bob@"]}, "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}]}');
    assert.equal((await s.cli('policy', 'set', '-f', file)).code, 0);
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const [a, b, web, db] = await Promise.all(['dns-a', 'dns-b', 'web', 'db'].map((name) => h.startNode({ name })));
    await join(a!, s.url, key, 'dns-a');
    await join(b!, s.url, key, 'dns-b');
    const ipB = ((await b!.status()) as unknown as { TailscaleIPs: string[] }).TailscaleIPs[0]!;

    await a!.waitFor(async () => (await resolve(a!, 'dns-b.tailnet.test')).includes(ipB) || undefined, 30_000);
    assert.match(await resolve(a!, 'db.tailnet.test'), /100\.64\.0\.50/);
    fs.writeFileSync(records, JSON.stringify([{ name: 'db.tailnet.test', type: 'A', value: '100.64.0.51' }]));
    await a!.waitFor(async () => (await resolve(a!, 'db.tailnet.test')).includes('100.64.0.51') || undefined, 15_000);

    // A tag alice owns is granted; one she does not own is refused.
    await join(web!, s.url, key, 'web', ['--advertise-tags=tag:web']);
    const self = ((await web!.status()) as unknown as { Self: { Tags?: string[] } }).Self;
    assert.deepEqual(self.Tags, ['tag:web']);
    const refused = await db!.up({ loginServer: s.url, authKey: key, hostname: 'db', extraArgs: ['--advertise-tags=tag:db'], timeoutMs: 20_000, allowFailure: true });
    assert.notEqual(refused.code, 0);
    assert.match(refused.stdout + refused.stderr, /requested tags \[tag:db\] are invalid or not permitted/);
    const list = JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout) as Array<{ name: string; tags?: string[] }>;
    assert.deepEqual(list.map((n) => n.name).sort(), ['dns-a', 'dns-b', 'web']);
    assert.deepEqual(list.find((n) => n.name === 'web')!.tags, ['tag:web']);
  } finally {
    await s.close();
    fs.rmSync(dirForRecords, { recursive: true, force: true });
  }
}, { timeout: 240_000 });
