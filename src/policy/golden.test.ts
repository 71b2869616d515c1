// Conformance: fixtures derived from headscale v0.29.2's SaaS captures (testdata/
// golden-captures.json, made with golden.ts fixtureFromCapture). Every node's packet filter,
// peers, peer AllowedIPs and SSH rules, or the rejection text, must match the capture.

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { type GoldenFixture, checkFixture } from './golden.js';

const data = JSON.parse(readFileSync(new URL('./testdata/golden-captures.json', import.meta.url), 'utf8')) as {
  topologies: Record<string, GoldenFixture['topology']>;
  fixtures: Array<Omit<GoldenFixture, 'topology'> & { topology: string }>;
};

for (const f of data.fixtures) {
  test(`golden ${f.id}`, () => {
    const fixture: GoldenFixture = { ...f, topology: data.topologies[f.topology]! };
    const mismatches = checkFixture(fixture);
    assert.deepEqual(mismatches.slice(0, 3), []);
  });
}
