import { test } from 'node:test';
import assert from 'node:assert/strict';
import { CGNAT_RANGE, parseIp, parsePrefix, prefixContains, TAILSCALE_ULA_RANGE } from './cidr.js';

test('parses IPv4 and IPv6 addresses, including compressed and v4-embedded forms', () => {
  assert.deepEqual(parseIp('100.64.0.1'), { family: 4, value: 0x64400001n });
  assert.deepEqual(parseIp('::1'), { family: 6, value: 1n });
  assert.deepEqual(parseIp('fd7a:115c:a1e0::1'), { family: 6, value: (0xfd7a115ca1e0n << 80n) | 1n });
  assert.deepEqual(parseIp('::ffff:192.0.2.1'), { family: 6, value: (0xffffn << 32n) | 0xc0000201n });
  assert.deepEqual(parseIp('1:2:3:4:5:6:7:8'), { family: 6, value: 0x00010002000300040005000600070008n });
  for (const bad of ['', '256.0.0.1', '1.2.3', 'fe80::1%eth0', 'host', '1::2::3']) assert.equal(parseIp(bad), undefined, bad);
});

test('parses prefixes and refuses bad lengths', () => {
  assert.deepEqual(parsePrefix('10.0.0.0/8'), { family: 4, value: 0x0a000000n, bits: 8 });
  assert.equal(parsePrefix('::/0')?.bits, 0);
  for (const bad of ['10.0.0.0', '10.0.0.0/33', '::/129', '10.0.0.0/08', '10.0.0.0/', 'x/8']) assert.equal(parsePrefix(bad), undefined, bad);
});

test('containment', () => {
  const p = (s: string) => parsePrefix(s) ?? assert.fail(s);
  assert.ok(prefixContains(CGNAT_RANGE, p('100.64.0.0/10')));
  assert.ok(prefixContains(CGNAT_RANGE, p('100.100.0.0/16')));
  assert.ok(prefixContains(CGNAT_RANGE, p('100.127.255.255/32')));
  assert.ok(!prefixContains(CGNAT_RANGE, p('100.128.0.0/16')));
  assert.ok(!prefixContains(CGNAT_RANGE, p('100.0.0.0/8')), 'a wider prefix is not inside');
  assert.ok(!prefixContains(CGNAT_RANGE, p('fd7a:115c:a1e0::/48')), 'families differ');
  assert.ok(prefixContains(TAILSCALE_ULA_RANGE, p('fd7a:115c:a1e0:ab12::/64')));
  assert.ok(!prefixContains(TAILSCALE_ULA_RANGE, p('fd7a:115c:a1e1::/48')));
});
