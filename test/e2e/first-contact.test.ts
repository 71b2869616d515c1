// A real tailscaled (v1.102.3, userspace networking) pointed at a running Switchboard with
// `tailscale up --login-server` reaches it: the server sees the client's GET /key and answers
// with its Noise public key, which the client then uses for the /ts2021 upgrade.

import assert from 'node:assert/strict';
import diagnostics from 'node:diagnostics_channel';
import { harnessTest } from '../harness/tailscale.js';
import { startTestServer } from '../support/server.js';
import type { HttpRequestEvent } from '../../src/server/diagnostics.js';

harnessTest('tailscale up reaches the server: GET /key, then the /ts2021 upgrade', async (h) => {
  const s = await startTestServer('sqlite');
  const seen: string[] = [];
  const onRequest = (event: unknown) => seen.push(`${(event as HttpRequestEvent).method} ${(event as HttpRequestEvent).url}`);
  diagnostics.subscribe('switchboard:http:request', onRequest);
  try {
    const node = await h.startNode({ name: 'first' });
    const abort = new AbortController();
    const up = node.up({ loginServer: s.server.http.url, hostname: 'first', timeoutMs: 20_000, allowFailure: true, signal: abort.signal });
    const deadline = Date.now() + 20_000;
    while (!seen.some((r) => r.startsWith('POST /ts2021')) && Date.now() < deadline) {
      await new Promise((r) => setTimeout(r, 100));
    }
    abort.abort();
    await up;
    const keyRequest = seen.find((r) => /^GET \/key\?v=\d+$/.test(r));
    assert.ok(keyRequest, `the server saw no GET /key; it saw: ${seen.join(', ')}`);
    assert.ok(Number(keyRequest.split('v=')[1]) >= 113, `capability version in ${keyRequest}`);
    // Having read our key, the client went on to the Noise upgrade: it accepted our answer.
    assert.ok(seen.some((r) => r === 'POST /ts2021'), `no /ts2021 upgrade after /key; saw: ${seen.join(', ')}`);
  } finally {
    diagnostics.unsubscribe('switchboard:http:request', onRequest);
    await s.close();
  }
});
