// The oldest supported client, Tailscale v1.80 (capability version 113), mixed with v1.102.

import assert from 'node:assert/strict';
import { harnessTest, requireTailscale } from '../harness/tailscale.js';
import { ServerProcess } from '../support/server-process.js';
import { join, ping, waitForPeers } from './helpers.js';

const OLD = 'v1.80.3';

harnessTest('v1.80 and v1.102 clients join together and reach each other', async (h, t) => {
  if (!requireTailscale(t, OLD)) return;
  const s = await ServerProcess.start();
  try {
    await s.cli('users', 'create', 'alice');
    const key = (await s.cli('preauthkeys', 'create', '-u', '1', '--reusable')).stdout;
    const specs = [
      { name: 'old1', version: OLD },
      { name: 'new1', version: 'v1.102.3' },
      { name: 'old2', version: OLD },
    ];
    const nodes = await Promise.all(specs.map((sp) => h.startNode(sp)));
    await Promise.all(nodes.map((n, i) => join(n, s.url, key, specs[i]!.name)));
    for (const [i, node] of nodes.entries()) {
      await waitForPeers(node, specs.filter((_, j) => j !== i).map((sp) => sp.name));
    }
    const version = (await nodes[0]!.cli(['version'])).stdout;
    assert.match(version, /^1\.80\.3/);
    for (const [i, from] of nodes.entries()) {
      for (const [j, to] of specs.entries()) if (i !== j) await ping(from, to.name);
    }
  } finally {
    await s.close();
  }
}, { timeout: 300_000 });
