// Key generation must survive garbage collection at any moment. On Node 20, exporting a freshly
// generated key object (as JWK) while a GC collects its generating job deadlocks the process
// (the job's destructor waits on the lock the export holds); a small young generation makes
// such GCs frequent, and the old code hung within a few thousand keys here.

import { test } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

test('thousands of key pairs under constant GC finish instead of deadlocking', () => {
  const script = fileURLToPath(new URL('./testdata/keygen-loop.ts', import.meta.url));
  const run = spawnSync(process.execPath, ['--max-semi-space-size=1', '--import', 'tsx', script, '5000'], { encoding: 'utf8', timeout: 60_000 });
  assert.equal(run.signal, null, `killed by ${run.signal}: the loop hung (deadlock)`);
  assert.equal(run.status, 0, run.stderr);
  assert.equal(run.stdout.trim(), 'generated 5000');
});
