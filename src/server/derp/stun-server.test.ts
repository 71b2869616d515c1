import { test } from 'node:test';
import assert from 'node:assert/strict';
import crypto from 'node:crypto';
import dgram from 'node:dgram';
import os from 'node:os';
import { StunServer } from './stun-server.js';
import { buildBindingRequest, parseBindingResponse } from '../../protocol/stun/message.js';
import { skipWithout } from '../../../test/support/prerequisites.js';

/** Sends `packets` from a fresh UDP socket; resolves with the replies seen within waitMs. */
async function exchange(type: 'udp4' | 'udp6', host: string, port: number, packets: Buffer[], waitMs = 300) {
  const sock = dgram.createSocket(type);
  await new Promise<void>((resolve) => sock.bind(0, host, resolve));
  const replies: Buffer[] = [];
  sock.on('message', (m) => replies.push(m));
  for (const p of packets) sock.send(p, port, host);
  const end = Date.now() + waitMs;
  while (Date.now() < end && replies.length < packets.length) await new Promise((r) => setTimeout(r, 5));
  const local = sock.address();
  sock.close();
  return { replies, local };
}

function ipv6Available(): boolean {
  return Object.values(os.networkInterfaces()).some((addrs) => addrs?.some((a) => a.family === 'IPv6' && a.address === '::1'));
}

test('a binding request over real UDP on 127.0.0.1 gets our own address back', async () => {
  const stun = new StunServer();
  const { port } = await stun.listen('127.0.0.1', 0);
  const tx = crypto.randomBytes(12);
  const { replies, local } = await exchange('udp4', '127.0.0.1', port, [buildBindingRequest(tx)]);
  assert.equal(replies.length, 1);
  const r = parseBindingResponse(replies[0]!);
  assert.ok(r.ok);
  assert.deepEqual(r.transactionId, tx);
  assert.deepEqual([r.address, r.port, r.family], ['127.0.0.1', local.port, 'IPv4']);
  await new Promise((r) => setTimeout(r, 20));
  assert.deepEqual(stun.counters, { requests: 1, responses: 1, ignored: 0, sendErrors: 0 });
  await stun.close();
});

test('garbage and non-tailnode requests (when required) are ignored and counted', async () => {
  const stun = new StunServer({ requireSoftware: 'tailnode' });
  const { port } = await stun.listen('127.0.0.1', 0);
  const junk = [crypto.randomBytes(3), crypto.randomBytes(100), buildBindingRequest(undefined, { software: 'other' })];
  const good = buildBindingRequest();
  const { replies } = await exchange('udp4', '127.0.0.1', port, [...junk, good], 300);
  assert.equal(replies.length, 1);
  assert.ok(parseBindingResponse(replies[0]!).ok);
  assert.equal(stun.counters.ignored, 3);
  assert.equal(stun.counters.requests, 1);
  await stun.close();
});

test('IPv6 on ::1 answers with an IPv6 XOR-MAPPED-ADDRESS', { skip: skipWithout(ipv6Available(), 'no IPv6 loopback') }, async () => {
  const stun = new StunServer();
  const { port } = await stun.listen('::1', 0);
  const { replies, local } = await exchange('udp6', '::1', port, [buildBindingRequest()]);
  const r = parseBindingResponse(replies[0]!);
  assert.ok(r.ok);
  assert.deepEqual([r.address, r.port, r.family], ['::1', local.port, 'IPv6']);
  await stun.close();
});

test('a dual-stack "::" listener answers IPv4 clients with IPv4 (mapped address unmapped)', { skip: skipWithout(ipv6Available(), 'no IPv6') }, async () => {
  const stun = new StunServer();
  const { port } = await stun.listen('::', 0);
  const { replies, local } = await exchange('udp4', '127.0.0.1', port, [buildBindingRequest()]);
  const r = parseBindingResponse(replies[0]!);
  assert.ok(r.ok);
  assert.deepEqual([r.address, r.port, r.family], ['127.0.0.1', local.port, 'IPv4']);
  await stun.close();
});
