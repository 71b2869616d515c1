// Tags a client asks for (--advertise-tags) against tagOwners, and routes approved by the
// policy's autoApprovers.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { startTestServer } from '../support/server.js';
import { ControlClient } from '../support/control-client.js';
import type { RegisterResponse } from '../../src/tailcfg/types.js';

test('requested tags need tagOwners; autoApprovers approve announced routes', async () => {
  const s = await startTestServer('sqlite', { policy: { mode: 'database', path: '' } });
  try {
    await s.cli('users', 'create', 'alice', '-e', 'alice@example.com');
    await s.cli('users', 'create', 'bob', '-e', 'bob@example.com');
    const file = path.join(s.dir, 'policy.hujson');
    fs.writeFileSync(file, `{
      "groups": {"group:dba": ["bob@"]},
      "tagOwners": {"tag:web": ["alice@"], "tag:db": ["group:dba"]},
      "acls": [{"action": "accept", "src": ["*"], "dst": ["*:*"]}],
      "autoApprovers": {"routes": {"10.50.0.0/16": ["alice@"]}, "exitNode": ["alice@"]},
    }`);
    const set = await s.cli('policy', 'set', '-f', file);
    assert.equal(set.code, 0, set.stderr);
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;

    const asking = async (tags: string[], routes: string[] = []) => {
      const c = new ControlClient(s.server.http.url);
      const r = await c.register({ Auth: { AuthKey: key }, Hostinfo: { Hostname: `n${tags.join('')}`, OS: 'linux', RequestTags: tags, RoutableIPs: routes } });
      c.close();
      return { body: r.body as RegisterResponse, nodeKey: c.nodeKey };
    };

    const web = await asking(['tag:web']);
    assert.equal(web.body.Error, undefined);
    const webNode = s.server.state.nodes.findByNodeKey(web.nodeKey)!;
    assert.deepEqual(webNode.tags, ['tag:web']);
    assert.equal(webNode.userId, null, 'the tagged node belongs to no user');

    const db = await asking(['tag:db']);
    assert.equal(db.body.Error, 'requested tags [tag:db] are invalid or not permitted');
    assert.equal(s.server.state.nodes.findByNodeKey(db.nodeKey), undefined);

    // alice's router announces a covered subnet and exit routes: approved without an admin.
    const router = await asking([], ['10.50.1.0/24', '192.168.9.0/24', '0.0.0.0/0', '::/0']);
    const routerNode = s.server.state.nodes.findByNodeKey(router.nodeKey)!;
    const deadline = Date.now() + 2000;
    while (s.server.state.nodes.get(routerNode.id)!.approvedRoutes.length === 0 && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 20));
    }
    assert.deepEqual(s.server.state.nodes.get(routerNode.id)!.approvedRoutes, ['0.0.0.0/0', '10.50.1.0/24', '::/0'], 'covered routes only');

    // Admins may set only tags the policy knows.
    const bad = await s.cli('nodes', 'tag', '-i', String(routerNode.id), '-t', 'tag:unknown');
    assert.equal(bad.code, 1);
    assert.match(bad.stderr, /tag:unknown/);
  } finally {
    await s.close();
  }
});
