import { test } from 'node:test';
import assert from 'node:assert/strict';
import { IpAllocator } from './ip-allocator.js';
import { formatIp, parseIp } from '../lib/ip.js';

const PREFIXES = { v4: '100.64.0.0/10', v6: 'fd7a:115c:a1e0::/48' };

test('sequential allocation starts after the network address and skips used ones', () => {
  const a = new IpAllocator(PREFIXES, 'sequential', ['100.64.0.2', 'fd7a:115c:a1e0::2']);
  assert.deepEqual(a.allocate(), { ipv4: '100.64.0.1', ipv6: 'fd7a:115c:a1e0::1' });
  assert.deepEqual(a.allocate(), { ipv4: '100.64.0.3', ipv6: 'fd7a:115c:a1e0::3' });
});

test('reserved addresses are never handed out and a small pool runs out', () => {
  const a = new IpAllocator({ v4: '100.100.100.96/29', v6: '' }, 'sequential', []);
  const got = [];
  for (let i = 0; i < 5; i++) got.push(a.allocate().ipv4);
  assert.deepEqual(got, ['100.100.100.97', '100.100.100.98', '100.100.100.99', '100.100.100.101', '100.100.100.102']);
  assert.throws(() => a.allocate(), /no free IPv4 address/);
});

test('random allocation stays in the prefix and never repeats', () => {
  const a = new IpAllocator({ v4: '100.64.0.0/24', v6: 'fd7a:115c:a1e0::/120' }, 'random', []);
  const seen = new Set<string>();
  for (let i = 0; i < 200; i++) {
    const { ipv4, ipv6 } = a.allocate();
    assert.match(ipv4!, /^100\.64\.0\.\d+$/);
    assert.ok(!seen.has(ipv4!));
    seen.add(ipv4!);
    assert.ok(ipv6!.startsWith('fd7a:115c:a1e0::'));
  }
});

test('released addresses can be handed out again', () => {
  const a = new IpAllocator({ v4: '100.64.0.0/30', v6: '' }, 'random', []);
  const x = a.allocate();
  const y = a.allocate();
  assert.throws(() => a.allocate());
  a.release(x);
  assert.deepEqual(a.allocate(), x);
  assert.notDeepEqual(x, y);
});

test('IPv6 formatting compresses the longest zero run', () => {
  for (const ip of ['fd7a:115c:a1e0::1', '::1', '2001:db8::ff00:42:8329', 'fd7a:115c:a1e0:ab12:4843:cd96:6258:b240']) {
    assert.equal(formatIp(6, parseIp(ip)!.value), ip);
  }
});
