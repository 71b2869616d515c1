import { test } from 'node:test';
import assert from 'node:assert/strict';
import { formatDuration, parseDuration } from './duration.js';

test('parses Go and Prometheus durations', () => {
  assert.equal(parseDuration('0'), 0);
  assert.equal(parseDuration('30m'), 1_800_000);
  assert.equal(parseDuration('1h30m'), 5_400_000);
  assert.equal(parseDuration('1.5s'), 1500);
  assert.equal(parseDuration('500ms'), 500);
  assert.equal(parseDuration('90d'), 90 * 86_400_000);
  assert.equal(parseDuration('2w'), 14 * 86_400_000);
  assert.equal(parseDuration('1y'), 365 * 86_400_000);
  assert.equal(parseDuration('-5s'), -5000);
});

test('refuses what is not a duration', () => {
  for (const bad of ['', 'abc', '10', '5 m', '1h 2m', 'h', '1x', '1hm']) {
    assert.equal(parseDuration(bad), undefined, bad);
  }
});

test('formats like Go', () => {
  assert.equal(formatDuration(0), '0s');
  assert.equal(formatDuration(500), '500ms');
  assert.equal(formatDuration(5_400_000), '1h30m0s');
  assert.equal(formatDuration(120_000), '2m0s');
  assert.equal(formatDuration(1500), '1.5s');
});
