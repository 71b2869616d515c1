import { test } from 'node:test';
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { DerpSources } from './derp-sources.js';
import { embeddedRegion } from './derp-map.js';
import { silentLogger } from '../lib/logger.js';

const remote = (id: number, code: string) => ({ Regions: { [id]: { RegionID: id, RegionCode: code, RegionName: code, Nodes: [] } } });

test('urls, paths and the embedded region merge; a failing source keeps its last value; changes are announced', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-derpsrc-'));
  const file = path.join(dir, 'map.json');
  fs.writeFileSync(file, JSON.stringify({ Regions: { 2: { RegionID: 2, RegionCode: 'file', RegionName: 'File', Nodes: [] }, 1: null } }));
  let answer: unknown = remote(1, 'one');
  let fail = false;
  const sources = new DerpSources({
    paths: [file],
    urls: ['https://derp.example.invalid/map'],
    embedded: embeddedRegion({ regionId: 999, regionCode: 'sb', regionName: 'SB', hostName: '127.0.0.1', ipv4: '127.0.0.1', ipv6: '', derpPort: 8080, stunPort: 3478, certName: 'sha256-raw:00' }),
    autoUpdate: false,
    updateFrequencyMs: 0,
    logger: silentLogger,
    fetchJson: async () => {
      if (fail) throw new Error('unreachable');
      return answer;
    },
  });
  let changes = 0;
  await sources.start(() => changes++);
  // The file's null region 1 removes the URL's region 1; the file adds 2; the embedded 999 is last.
  assert.deepEqual(Object.keys(sources.map.Regions).sort(), ['2', '999']);

  answer = remote(3, 'three');
  await sources.refresh();
  assert.deepEqual(Object.keys(sources.map.Regions).sort(), ['2', '3', '999']);
  assert.equal(changes, 1);

  fail = true;
  await sources.refresh();
  assert.deepEqual(Object.keys(sources.map.Regions).sort(), ['2', '3', '999'], 'a failed refresh keeps the last good map');
  assert.equal(changes, 1, 'no change, no announcement');

  fail = false;
  answer = { nope: true };
  await sources.refresh();
  assert.ok(sources.map.Regions['3'], 'a malformed answer is refused, the old regions stay');
  sources.close();
  fs.rmSync(dir, { recursive: true });
});

test('a malformed derp.paths file stops start-up with its path', async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sb-derpsrc-'));
  const file = path.join(dir, 'bad.yaml');
  fs.writeFileSync(file, 'regions: [');
  const sources = new DerpSources({ paths: [file], urls: [], embedded: undefined, autoUpdate: false, updateFrequencyMs: 0, logger: silentLogger });
  await assert.rejects(sources.start(() => {}), (err: Error) => err.message.includes(file));
  fs.rmSync(dir, { recursive: true });
});
