import { test } from 'node:test';
import assert from 'node:assert/strict';
import { announcedRoutes, normalizeApprovedRoutes, servedRoutes } from './routes.js';

test('approved routes: sorted like netip.Prefix.Compare, deduplicated, exit routes paired', () => {
  assert.deepEqual(normalizeApprovedRoutes(['192.168.0.0/24', '10.0.0.0/8', 'fd00::/64', '10.0.0.0/8']), ['10.0.0.0/8', '192.168.0.0/24', 'fd00::/64']);
  assert.deepEqual(normalizeApprovedRoutes(['0.0.0.0/0']), ['0.0.0.0/0', '::/0']);
  assert.deepEqual(normalizeApprovedRoutes(['::/0', '10.1.0.0/16']), ['0.0.0.0/0', '10.1.0.0/16', '::/0']);
  assert.deepEqual(normalizeApprovedRoutes([]), []);
  for (const bad of ['10.0.0.0', '10.0.0.0/33', 'fd00::/129', 'x/8', '', '10.0.0.0/-1', '::ffff:1.2.3.4/128']) {
    assert.throws(() => normalizeApprovedRoutes([bad]), /parsing route/, bad);
  }
});

test('announced and served routes', () => {
  const announced = announcedRoutes({ RoutableIPs: ['10.2.0.0/16', 'junk', 5, '0.0.0.0/0', '::/0'] });
  assert.deepEqual(announced, ['0.0.0.0/0', '10.2.0.0/16', '::/0']);
  assert.deepEqual(announcedRoutes(null), []);
  assert.deepEqual(servedRoutes(['10.2.0.0/16', '192.168.1.0/24'], announced), ['10.2.0.0/16']);
});
