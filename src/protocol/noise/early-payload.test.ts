// Early payload: exact layout, decoding at every split point, and the stream reader that puts
// the following HTTP/2 bytes back.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { PassThrough } from 'node:stream';
import { publicKeyOf } from '../../crypto/keys.js';
import {
  EARLY_PAYLOAD_MAGIC,
  createEarlyPayload,
  decodeEarlyPayload,
  encodeEarlyPayload,
  readEarlyPayload,
} from './early-payload.js';
import { isNoiseError } from './errors.js';
import { readAll } from './test-kit.js';

const H2_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n');

test('layout: magic ff ff ff "TS", BE u32 length, {"nodeKeyChallenge":"chalpub:<hex>"}', () => {
  const key = Buffer.alloc(32, 0xab);
  const p = encodeEarlyPayload(key);
  assert.deepEqual(p.subarray(0, 5), Buffer.from([0xff, 0xff, 0xff, 0x54, 0x53]));
  assert.deepEqual(EARLY_PAYLOAD_MAGIC, Buffer.from('\xff\xff\xffTS', 'latin1'));
  const json = `{"nodeKeyChallenge":"chalpub:${'ab'.repeat(32)}"}`;
  assert.equal(p.readUInt32BE(5), json.length);
  assert.equal(p.subarray(9).toString(), json);
});

test('createEarlyPayload makes a fresh challenge whose public half is announced', () => {
  const a = createEarlyPayload();
  const b = createEarlyPayload();
  assert.notDeepEqual(a.challengePublicKey, b.challengePublicKey);
  assert.deepEqual(publicKeyOf(a.challengePrivateKey), a.challengePublicKey);
  const d = decodeEarlyPayload(a.payload);
  assert.equal(d.status, 'done');
  assert.deepEqual(d.status === 'done' && d.payload?.nodeKeyChallenge, a.challengePublicKey);
});

test('decode: incomplete at every split point, absent when the bytes are HTTP/2, errors coded', () => {
  const { payload, challengePublicKey } = createEarlyPayload();
  for (let i = 0; i < payload.length; i++) assert.deepEqual(decodeEarlyPayload(payload.subarray(0, i)), { status: 'incomplete' });
  const full = decodeEarlyPayload(Buffer.concat([payload, H2_PREFACE]));
  assert.ok(full.status === 'done');
  assert.equal(full.consumed, payload.length);
  assert.deepEqual(full.payload?.nodeKeyChallenge, challengePublicKey);

  assert.deepEqual(decodeEarlyPayload(H2_PREFACE), { status: 'done', payload: undefined, consumed: 0 });
  assert.deepEqual(decodeEarlyPayload(H2_PREFACE.subarray(0, 1)), { status: 'done', payload: undefined, consumed: 0 });

  const tooLong = Buffer.concat([EARLY_PAYLOAD_MAGIC, Buffer.from([0x00, 0xa0, 0x00, 0x01])]);
  assert.throws(() => decodeEarlyPayload(tooLong), (e) => isNoiseError(e, 'ERR_NOISE_BAD_EARLY_PAYLOAD'));
  const withJson = (json: string): Buffer => {
    const h = Buffer.alloc(9);
    EARLY_PAYLOAD_MAGIC.copy(h);
    h.writeUInt32BE(Buffer.byteLength(json), 5);
    return Buffer.concat([h, Buffer.from(json)]);
  };
  for (const bad of ['{', '[]', '{"nodeKeyChallenge":"nodekey:00"}', '{"nodeKeyChallenge":5}']) {
    assert.throws(() => decodeEarlyPayload(withJson(bad)), (e) => isNoiseError(e, 'ERR_NOISE_BAD_EARLY_PAYLOAD'), bad);
  }
  // Go's decoder matches keys case-insensitively and leaves a missing key zero.
  const k = 'cd'.repeat(32);
  const caseless = decodeEarlyPayload(withJson(`{"NodeKeyChallenge":"chalpub:${k}"}`));
  assert.ok(caseless.status === 'done' && caseless.payload?.nodeKeyChallenge.toString('hex') === k);
  const empty = decodeEarlyPayload(withJson('{}'));
  assert.ok(empty.status === 'done' && empty.payload?.nodeKeyChallenge.equals(Buffer.alloc(32)));
});

test('readEarlyPayload reads it byte by byte and leaves the rest of the stream intact', async () => {
  const { payload, challengePublicKey } = createEarlyPayload();
  const wire = Buffer.concat([payload, H2_PREFACE]);
  const s = new PassThrough();
  const got = readEarlyPayload(s);
  for (const b of wire) {
    s.write(Buffer.of(b));
    await new Promise((r) => setImmediate(r));
  }
  assert.deepEqual((await got)?.nodeKeyChallenge, challengePublicKey);
  const rest = readAll(s);
  s.end();
  assert.deepEqual(await rest, H2_PREFACE);
});

test('readEarlyPayload resolves undefined and keeps every byte when the server starts HTTP/2 directly', async () => {
  const s = new PassThrough();
  const got = readEarlyPayload(s);
  s.write(H2_PREFACE);
  assert.equal(await got, undefined);
  const rest = readAll(s);
  s.end('more');
  assert.deepEqual(await rest, Buffer.concat([H2_PREFACE, Buffer.from('more')]));
});

test('readEarlyPayload rejects with a code when the stream ends early', async () => {
  const s = new PassThrough();
  const got = readEarlyPayload(s);
  s.end(EARLY_PAYLOAD_MAGIC);
  await assert.rejects(got, (e) => isNoiseError(e, 'ERR_NOISE_CLOSED'));
});
