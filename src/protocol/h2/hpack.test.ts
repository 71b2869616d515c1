// HPACK tests: the request examples of RFC 7541 Appendix C (with and without Huffman coding,
// three requests sharing one dynamic table), Huffman padding rules, limits, and our encoder read
// back by our decoder and by node:http2 (in server-connection.test.ts).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { HpackDecoder, encodeHeaders, type HeaderField } from './hpack.js';
import { huffmanDecode } from './huffman.js';
import { H2Error } from './errors.js';

const hex = (s: string): Buffer => Buffer.from(s.replace(/\s+/g, ''), 'hex');

const C3_FIELDS: HeaderField[][] = [
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com']],
  [[':method', 'GET'], [':scheme', 'http'], [':path', '/'], [':authority', 'www.example.com'], ['cache-control', 'no-cache']],
  [[':method', 'GET'], [':scheme', 'https'], [':path', '/index.html'], [':authority', 'www.example.com'], ['custom-key', 'custom-value']],
];

test('RFC 7541 C.3: three requests without Huffman share a dynamic table', () => {
  const d = new HpackDecoder();
  assert.deepEqual(d.decode(hex('828684410f7777772e6578616d706c652e636f6d')), C3_FIELDS[0]);
  assert.deepEqual(d.decode(hex('828684be58086e6f2d6361636865')), C3_FIELDS[1]);
  assert.deepEqual(d.decode(hex('828785bf400a637573746f6d2d6b65790c637573746f6d2d76616c7565')), C3_FIELDS[2]);
});

test('RFC 7541 C.4: the same requests with Huffman-coded strings', () => {
  const d = new HpackDecoder();
  assert.deepEqual(d.decode(hex('828684418cf1e3c2e5f23a6ba0ab90f4ff')), C3_FIELDS[0]);
  assert.deepEqual(d.decode(hex('828684be5886a8eb10649cbf')), C3_FIELDS[1]);
  assert.deepEqual(d.decode(hex('828785bf408825a849e95ba97d7f8925a849e95bb8e8b4bf')), C3_FIELDS[2]);
});

test('Huffman: decodes RFC examples and refuses bad padding and EOS', () => {
  assert.equal(huffmanDecode(hex('f1e3c2e5f23a6ba0ab90f4ff')).toString(), 'www.example.com');
  assert.equal(huffmanDecode(hex('a8eb10649cbf')).toString(), 'no-cache');
  assert.equal(huffmanDecode(Buffer.alloc(0)).toString(), '');
  // 'a' is 00011 (5 bits); padding with zeros instead of ones is an error.
  assert.equal(huffmanDecode(Buffer.from([0b00011111])).toString(), 'a');
  assert.throws(() => huffmanDecode(Buffer.from([0b00011000])), /padding is not all ones/);
  // A whole byte of ones after a symbol is padding of 8 bits or more.
  assert.throws(() => huffmanDecode(Buffer.from([0b00011111, 0xff])), /padding longer than 7 bits/);
  // EOS is 30 ones.
  assert.throws(() => huffmanDecode(Buffer.from([0xff, 0xff, 0xff, 0xfc])), /EOS inside the string/);
});

test('decoder: refuses index 0, indices beyond the table, truncation, late size updates, huge integers', () => {
  const cases: Array<[string, RegExp]> = [
    ['80', /index 0/],
    ['c0', /index 64 beyond the table/],
    ['410f7777', /runs past the end/],
    ['8220', /table size update after a header field/],
    ['3fe11f', /table size update to 4096 above the 4095 announced/],
    ['ffffffffff0f', /above 2\^31 - 1/],
  ];
  for (const [block, why] of cases) {
    const d = new HpackDecoder({ tableSize: 4095 });
    assert.throws(() => d.decode(hex(block)), (err: unknown) => err instanceof H2Error && err.code === 'ERR_H2_COMPRESSION' && why.test(err.message), block);
  }
});

test('decoder: a size update evicts, and a header list above the limit is refused', () => {
  const d = new HpackDecoder();
  d.decode(hex('400a637573746f6d2d6b65790d637573746f6d2d686561646572')); // custom-key: custom-header, indexed
  assert.deepEqual(d.decode(hex('be')), [['custom-key', 'custom-header']]);
  assert.throws(() => d.decode(hex('20be')), /beyond the table/); // size 0 empties the table
  const small = new HpackDecoder({ maxHeaderListSize: 100 });
  const big = encodeHeaders([['x-long', 'v'.repeat(80)]]);
  assert.throws(() => small.decode(big), (err: unknown) => err instanceof H2Error && err.code === 'ERR_H2_HEADERS');
});

test('encoder: static fields by index, others as literals, read back unchanged', () => {
  const fields: HeaderField[] = [
    [':status', '200'],
    [':status', '502'],
    ['content-type', 'application/octet-stream'],
    ['x-switchboard', 'a'.repeat(300)],
    ['ts-lb', 'nodekey:\u00e9'],
  ];
  const block = encodeHeaders(fields);
  assert.equal(block[0], 0x88); // :status 200 is static index 8
  assert.deepEqual(new HpackDecoder().decode(block), fields);
});
