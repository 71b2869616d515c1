// HPACK (RFC 7541): the header compression of HTTP/2. The decoder is complete (static and dynamic
// table, size updates, Huffman strings, all four literal forms) because the peer chooses how to
// encode. The encoder is the simplest correct one: a field in the static table is sent as its
// index, anything else as a literal without indexing and without Huffman, so it keeps no state
// and the peer's dynamic table is never touched.
//
// Limits: integers above 2^31 - 1, a table size update above what we announced, or a header list
// larger than `maxHeaderListSize` (names + values + 32 octets each, RFC 9113 §6.5.2) are errors.
// Names and values are taken as octets (latin1), so no byte is lost or replaced.

import { H2Error } from './errors.js';
import { ErrorCode } from './frames.js';
import { huffmanDecode } from './huffman.js';

export type HeaderField = [name: string, value: string];

/** RFC 7541 Appendix A: index i + 1 is STATIC_TABLE[i]. */
const STATIC_TABLE: HeaderField[] = [
  [':authority', ''], [':method', 'GET'], [':method', 'POST'], [':path', '/'], [':path', '/index.html'],
  [':scheme', 'http'], [':scheme', 'https'], [':status', '200'], [':status', '204'], [':status', '206'],
  [':status', '304'], [':status', '400'], [':status', '404'], [':status', '500'], ['accept-charset', ''],
  ['accept-encoding', 'gzip, deflate'], ['accept-language', ''], ['accept-ranges', ''], ['accept', ''],
  ['access-control-allow-origin', ''], ['age', ''], ['allow', ''], ['authorization', ''], ['cache-control', ''],
  ['content-disposition', ''], ['content-encoding', ''], ['content-language', ''], ['content-length', ''],
  ['content-location', ''], ['content-range', ''], ['content-type', ''], ['cookie', ''], ['date', ''], ['etag', ''],
  ['expect', ''], ['expires', ''], ['from', ''], ['host', ''], ['if-match', ''], ['if-modified-since', ''],
  ['if-none-match', ''], ['if-range', ''], ['if-unmodified-since', ''], ['last-modified', ''], ['link', ''],
  ['location', ''], ['max-forwards', ''], ['proxy-authenticate', ''], ['proxy-authorization', ''], ['range', ''],
  ['referer', ''], ['refresh', ''], ['retry-after', ''], ['server', ''], ['set-cookie', ''],
  ['strict-transport-security', ''], ['transfer-encoding', ''], ['user-agent', ''], ['vary', ''], ['via', ''],
  ['www-authenticate', ''],
];

/** The per-entry overhead the table size counts (RFC 7541 §4.1). */
const ENTRY_OVERHEAD = 32;
const MAX_INT = 0x7fff_ffff;

function compressionError(what: string): H2Error {
  return new H2Error('ERR_H2_COMPRESSION', `invalid header block: ${what}`, ErrorCode.COMPRESSION_ERROR);
}

export class HpackDecoder {
  /** Newest entry first. */
  #table: HeaderField[] = [];
  #tableSize = 0;
  #maxTableSize: number;
  readonly #announcedTableSize: number;
  readonly #maxHeaderListSize: number;

  /** `tableSize` is the SETTINGS_HEADER_TABLE_SIZE we announced (4096 unless we said otherwise). */
  constructor(options: { tableSize?: number; maxHeaderListSize?: number } = {}) {
    this.#announcedTableSize = options.tableSize ?? 4096;
    this.#maxTableSize = this.#announcedTableSize;
    this.#maxHeaderListSize = options.maxHeaderListSize ?? 64 * 1024;
  }

  /** Decodes one complete header block (HEADERS plus any CONTINUATIONs, joined). */
  decode(block: Buffer): HeaderField[] {
    const fields: HeaderField[] = [];
    let listSize = 0;
    let at = 0;
    let fieldSeen = false;
    while (at < block.length) {
      const first = block[at]!;
      let field: HeaderField;
      if (first & 0x80) {
        const [index, next] = readInt(block, at, 7);
        at = next;
        field = this.#lookup(index);
      } else if (first & 0x40) {
        [field, at] = this.#readLiteral(block, at, 6);
        this.#insert(field);
      } else if (first & 0x20) {
        if (fieldSeen) throw compressionError('a table size update after a header field');
        const [size, next] = readInt(block, at, 5);
        at = next;
        if (size > this.#announcedTableSize) throw compressionError(`table size update to ${size} above the ${this.#announcedTableSize} announced`);
        this.#maxTableSize = size;
        this.#evict();
        continue;
      } else {
        [field, at] = this.#readLiteral(block, at, 4); // without indexing (0000) or never indexed (0001)
      }
      fieldSeen = true;
      listSize += field[0].length + field[1].length + ENTRY_OVERHEAD;
      if (listSize > this.#maxHeaderListSize) {
        throw new H2Error('ERR_H2_HEADERS', `header list larger than ${this.#maxHeaderListSize} octets`, ErrorCode.ENHANCE_YOUR_CALM);
      }
      fields.push(field);
    }
    return fields;
  }

  #lookup(index: number): HeaderField {
    if (index === 0) throw compressionError('index 0');
    if (index <= STATIC_TABLE.length) return STATIC_TABLE[index - 1]!;
    const entry = this.#table[index - STATIC_TABLE.length - 1];
    if (!entry) throw compressionError(`index ${index} beyond the table`);
    return entry;
  }

  #readLiteral(block: Buffer, at: number, prefix: number): [HeaderField, number] {
    const [nameIndex, afterIndex] = readInt(block, at, prefix);
    let name: string;
    let next = afterIndex;
    if (nameIndex === 0) [name, next] = readString(block, next);
    else name = this.#lookup(nameIndex)[0];
    const [value, end] = readString(block, next);
    return [[name, value], end];
  }

  #insert(field: HeaderField): void {
    this.#table.unshift(field);
    this.#tableSize += field[0].length + field[1].length + ENTRY_OVERHEAD;
    this.#evict();
  }

  #evict(): void {
    while (this.#tableSize > this.#maxTableSize) {
      const gone = this.#table.pop()!;
      this.#tableSize -= gone[0].length + gone[1].length + ENTRY_OVERHEAD;
    }
  }
}

/** An integer with an N-bit prefix (RFC 7541 §5.1); returns the value and the offset after it. */
function readInt(block: Buffer, at: number, prefix: number): [number, number] {
  const mask = (1 << prefix) - 1;
  let value = block[at]! & mask;
  let i = at + 1;
  if (value < mask) return [value, i];
  let shift = 0;
  for (;;) {
    if (i >= block.length) throw compressionError('an integer runs past the end');
    const byte = block[i++]!;
    value += (byte & 0x7f) * 2 ** shift;
    if (value > MAX_INT) throw compressionError('an integer above 2^31 - 1');
    if ((byte & 0x80) === 0) return [value, i];
    shift += 7;
  }
}

function readString(block: Buffer, at: number): [string, number] {
  if (at >= block.length) throw compressionError('a string runs past the end');
  const huffman = (block[at]! & 0x80) !== 0;
  const [length, start] = readInt(block, at, 7);
  const end = start + length;
  if (end > block.length) throw compressionError('a string runs past the end');
  const raw = block.subarray(start, end);
  return [(huffman ? huffmanDecode(raw) : raw).toString('latin1'), end];
}

const STATIC_EXACT = new Map(STATIC_TABLE.map(([n, v], i) => [`${n}\0${v}`, i + 1]));
const STATIC_NAME = new Map<string, number>();
STATIC_TABLE.forEach(([n], i) => {
  if (!STATIC_NAME.has(n)) STATIC_NAME.set(n, i + 1);
});

/** Encodes a header list statelessly (indexed static fields, other fields as plain literals without indexing). */
export function encodeHeaders(fields: HeaderField[]): Buffer {
  const out: number[] = [];
  for (const [name, value] of fields) {
    const exact = STATIC_EXACT.get(`${name}\0${value}`);
    if (exact !== undefined) {
      writeInt(out, exact, 7, 0x80);
      continue;
    }
    const nameIndex = STATIC_NAME.get(name);
    if (nameIndex !== undefined) writeInt(out, nameIndex, 4, 0x00);
    else {
      out.push(0x00);
      writeString(out, name);
    }
    writeString(out, value);
  }
  return Buffer.from(out);
}

function writeInt(out: number[], value: number, prefix: number, pattern: number): void {
  const mask = (1 << prefix) - 1;
  if (value < mask) {
    out.push(pattern | value);
    return;
  }
  out.push(pattern | mask);
  let rest = value - mask;
  while (rest >= 0x80) {
    out.push((rest & 0x7f) | 0x80);
    rest = Math.floor(rest / 128);
  }
  out.push(rest);
}

function writeString(out: number[], text: string): void {
  const bytes = Buffer.from(text, 'latin1');
  writeInt(out, bytes.length, 7, 0x00);
  for (const b of bytes) out.push(b);
}
