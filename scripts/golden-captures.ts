// Runs every headscale SaaS capture (the *_results/*.hujson files of headscale's
// hscontrol/policy/v2/testdata) through the policy engine and reports pass/fail counts per
// directory and the failing ids; with --write it regenerates src/policy/testdata/
// golden-captures.json: the ids already there plus the passing ones --add selects, each made
// afresh with fixtureFromCapture (ids that stopped passing are dropped and listed).
//
// Usage:
//   git -C <headscale git dir> archive v0.29.2 hscontrol/policy/v2/testdata | tar -x -C /tmp/hs
//   node --import tsx scripts/golden-captures.ts /tmp/hs/hscontrol/policy/v2/testdata [-v] [--only=text]
//        [--write [--add=<regexp on ids>]]

import { createHash } from 'node:crypto';
import { readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { type GoldenFixture, checkFixture, fixtureFromCapture } from '../src/policy/golden.js';

const args = process.argv.slice(2);
const root = args.find((a) => !a.startsWith('-'));
if (!root) {
  console.error('usage: golden-captures.ts <testdata dir> [-v] [--only=text] [--write [--add=regexp]]');
  process.exit(2);
}
const verbose = args.includes('-v');
const only = args.find((a) => a.startsWith('--only='))?.slice(7);
const add = args.find((a) => a.startsWith('--add='))?.slice(6);
const write = args.includes('--write');
const out = new URL('../src/policy/testdata/golden-captures.json', import.meta.url);

const passing = new Map<string, GoldenFixture>();
let failed = 0;
for (const dir of readdirSync(root).filter((d) => d.endsWith('_results')).sort()) {
  let pass = 0;
  const fail: string[] = [];
  for (const file of readdirSync(join(root, dir)).sort()) {
    if (!file.endsWith('.hujson') || (only && !file.includes(only))) continue;
    const f = fixtureFromCapture(readFileSync(join(root, dir, file), 'utf8'));
    if (!f) continue;
    let mismatches;
    try {
      mismatches = checkFixture(f);
    } catch (e) {
      mismatches = [{ node: '*', what: 'error', got: String(e), want: 'no exception' }];
    }
    if (mismatches.length === 0) {
      pass++;
      passing.set(f.id, f);
    } else {
      fail.push(f.id);
      if (verbose) console.log(`  ${f.id}: ${JSON.stringify(mismatches.slice(0, 3)).slice(0, 2000)}`);
    }
  }
  failed += fail.length;
  console.log(`${dir}: ${pass}/${pass + fail.length} pass${fail.length > 0 ? `; failing: ${fail.join(' ')}` : ''}`);
}
console.log(`total: ${passing.size}/${passing.size + failed} pass`);

if (write) {
  const old = JSON.parse(readFileSync(out, 'utf8')) as { source: string; fixtures: Array<{ id: string }> };
  const pattern = add ? new RegExp(add) : null;
  const ids = new Set(old.fixtures.map((f) => f.id));
  const dropped = [...ids].filter((id) => !passing.has(id));
  for (const id of passing.keys()) if (pattern?.test(id)) ids.add(id);
  const topologies: Record<string, GoldenFixture['topology']> = {};
  const fixtures = [...passing.values()]
    .filter((f) => ids.has(f.id))
    .map((f) => {
      const key = createHash('sha256').update(JSON.stringify(f.topology)).digest('hex').slice(0, 8);
      topologies[key] = f.topology;
      return { ...f, topology: key };
    });
  writeFileSync(out, JSON.stringify({ source: old.source, topologies, fixtures }));
  console.log(`wrote ${fixtures.length} fixtures (${Object.keys(topologies).length} topologies)${dropped.length > 0 ? `; dropped (no longer passing): ${dropped.join(' ')}` : ''}`);
}
