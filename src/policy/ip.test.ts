// IP text, ranges, IP sets and the fixed address sets (wildcard space, autogroup:internet).

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatAddr, formatRange, parseAddr, parsePrefix } from './ip.js';
import { IPSet } from './ipset.js';
import { INTERNET, TAILSCALE_SPACE } from './resolve.js';
import { INTERNET_RANGE_STRINGS } from './grants.js';

test('IPv6 canonical text (RFC 5952)', () => {
  for (const s of ['fd7a:115c:a1e0::1', '::', '::1', '2001:db8::', 'fd7a:115c:a1e0::c637:cb2e', '1:0:0:1:0:0:0:1']) {
    const a = parseAddr(s)!;
    assert.ok(a, s);
  }
  assert.equal(formatAddr(6, parseAddr('1:0:0:1:0:0:0:1')!.value), '1:0:0:1::1');
  assert.equal(formatAddr(6, parseAddr('2001:0db8:0000:0000:0000:0000:0000:0001')!.value), '2001:db8::1');
  assert.equal(formatAddr(6, parseAddr('1:0:1:1:1:1:1:1')!.value), '1:0:1:1:1:1:1:1');
  assert.equal(parseAddr('1.2.3'), null);
  assert.equal(parseAddr('1.2.3.256'), null);
  assert.equal(parseAddr('01.2.3.4'), null);
  assert.equal(parseAddr('1::2::3'), null);
});

test('prefixes mask host bits', () => {
  const p = parsePrefix('100.100.101.100/24')!;
  assert.equal(formatAddr(4, p.value), '100.100.101.0');
  assert.equal(parsePrefix('10.0.0.0/33'), null);
});

test('range text: bare IP, CIDR, or first-last', () => {
  assert.equal(formatRange(4, 5n, 5n), '0.0.0.5');
  assert.equal(formatRange(4, 0n, 255n), '0.0.0.0/24');
  assert.equal(formatRange(4, 1n, 255n), '0.0.0.1-0.0.0.255');
});

test('wildcard source space is the SaaS triple', () => {
  assert.deepEqual(TAILSCALE_SPACE.strings(), ['100.64.0.0-100.115.91.255', '100.115.94.0-100.127.255.255', 'fd7a:115c:a1e0::/48']);
});

test('autogroup:internet as SaaS ranges', () => {
  assert.deepEqual(INTERNET_RANGE_STRINGS, [
    '0.0.0.0-9.255.255.255',
    '11.0.0.0-100.63.255.255',
    '100.128.0.0-169.253.255.255',
    '169.255.0.0-172.15.255.255',
    '172.32.0.0-192.167.255.255',
    '192.169.0.0-255.255.255.255',
    '2000::-3fff:ffff:ffff:ffff:ffff:ffff:ffff:ffff',
  ]);
  assert.ok(!INTERNET.containsAddr(parseAddr('10.1.2.3')!));
  assert.ok(INTERNET.containsAddr(parseAddr('8.8.8.8')!));
});

test('set operations', () => {
  const a = IPSet.of('10.0.0.0/24', '10.0.1.0/24', '10.0.3.1');
  assert.deepEqual(a.strings(), ['10.0.0.0/23', '10.0.3.1']);
  assert.deepEqual(a.prefixStrings(), ['10.0.0.0/23', '10.0.3.1']);
  assert.ok(a.overlapsPrefix(parsePrefix('10.0.0.128/25')!));
  assert.ok(!a.overlapsPrefix(parsePrefix('10.0.2.0/24')!));
  assert.ok(a.coversPrefix(parsePrefix('10.0.1.0/25')!));
  assert.deepEqual(a.subtract(IPSet.of('10.0.0.0/25')).strings(), ['10.0.0.128-10.0.1.255', '10.0.3.1']);
});
