// An ephemeral node is removed once it has been disconnected for the inactivity timeout
// (66 s here: headscale's rule, kept by our config validation, is "more than 65 s").

import assert from 'node:assert/strict';
import { harnessTest } from '../harness/tailscale.js';
import { ServerProcess } from '../support/server-process.js';
import { join, waitForPeers } from './helpers.js';

harnessTest('an ephemeral node is removed after its inactivity timeout once it stops', async (h) => {
  const s = await ServerProcess.start({ node: { ephemeral: { inactivity_timeout: '66s' } } });
  try {
    await s.cli('users', 'create', 'alice');
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--ephemeral', '--reusable')).stdout;
    const [eph, watcher] = await Promise.all([h.startNode({ name: 'eph' }), h.startNode({ name: 'watcher' })]);
    await join(eph!, s.url, key, 'eph');
    await join(watcher!, s.url, key, 'watcher');
    await waitForPeers(watcher!, ['eph']);
    const list = JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout);
    assert.ok(list.find((n: { name: string; pre_auth_key?: { ephemeral?: boolean } }) => n.name === 'eph')?.pre_auth_key?.ephemeral);

    const stoppedAt = Date.now();
    await eph!.stop();
    // Still there well before the timeout...
    await new Promise((r) => setTimeout(r, 30_000));
    assert.equal(JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout).length, 2);
    // ...and gone after it, from the server and from its peer.
    await waitForPeers(watcher!, [], 90_000);
    assert.ok(Date.now() - stoppedAt >= 66_000);
    const after = JSON.parse((await s.cli('nodes', 'list', '-o', 'json')).stdout);
    assert.deepEqual(after.map((n: { name: string }) => n.name), ['watcher']);
  } finally {
    await s.close();
  }
}, { timeout: 240_000 });
