// A minimal ASN.1 DER encoder (X.690), just what a self-signed X.509 certificate needs:
// tag-length-value, SEQUENCE/SET, INTEGER, OBJECT IDENTIFIER, strings, times, BIT/OCTET
// STRING, BOOLEAN and context-specific tags.
//
// Length octets: < 128 -> one byte; else 0x80|n followed by n big-endian length bytes.

export const Tag = {
  Boolean: 0x01,
  Integer: 0x02,
  BitString: 0x03,
  OctetString: 0x04,
  Null: 0x05,
  Oid: 0x06,
  Utf8String: 0x0c,
  PrintableString: 0x13,
  Ia5String: 0x16,
  UtcTime: 0x17,
  GeneralizedTime: 0x18,
  Sequence: 0x30,
  Set: 0x31,
} as const;

export function tlv(tag: number, content: Uint8Array): Buffer {
  const n = content.length;
  let len: Buffer;
  if (n < 0x80) len = Buffer.from([n]);
  else {
    const bytes: number[] = [];
    for (let v = n; v > 0; v = Math.floor(v / 256)) bytes.unshift(v & 0xff);
    len = Buffer.from([0x80 | bytes.length, ...bytes]);
  }
  return Buffer.concat([Buffer.from([tag]), len, content]);
}

export function sequence(...items: Uint8Array[]): Buffer {
  return tlv(Tag.Sequence, Buffer.concat(items));
}

/** SET OF with DER's ordering (elements sorted by their encodings). */
export function set(...items: Uint8Array[]): Buffer {
  const sorted = [...items].map((i) => Buffer.from(i)).sort(Buffer.compare);
  return tlv(Tag.Set, Buffer.concat(sorted));
}

/** INTEGER from a non-negative number or unsigned big-endian bytes, minimally encoded. */
export function integer(v: number | Uint8Array): Buffer {
  let b: Buffer;
  if (typeof v === 'number') {
    if (!Number.isSafeInteger(v) || v < 0) throw new RangeError('DER integer must be a non-negative safe integer');
    const bytes: number[] = [];
    for (let x = v; x > 0; x = Math.floor(x / 256)) bytes.unshift(x & 0xff);
    b = Buffer.from(bytes);
  } else {
    b = Buffer.from(v);
  }
  let start = 0;
  while (start < b.length - 1 && b[start] === 0) start++;
  b = b.subarray(start);
  if (b.length === 0) b = Buffer.from([0]);
  if (b[0]! & 0x80) b = Buffer.concat([Buffer.from([0]), b]);
  return tlv(Tag.Integer, b);
}

/** OBJECT IDENTIFIER from dotted text: first byte 40*a+b, then base-128 arcs. */
export function oid(dotted: string): Buffer {
  const arcs = dotted.split('.').map(Number);
  if (arcs.length < 2 || arcs.some((a) => !Number.isSafeInteger(a) || a < 0)) throw new RangeError(`bad OID ${dotted}`);
  const out: number[] = [];
  const push128 = (v: number) => {
    const groups: number[] = [v & 0x7f];
    for (let x = Math.floor(v / 128); x > 0; x = Math.floor(x / 128)) groups.unshift((x & 0x7f) | 0x80);
    out.push(...groups);
  };
  push128(arcs[0]! * 40 + arcs[1]!);
  for (const a of arcs.slice(2)) push128(a);
  return tlv(Tag.Oid, Buffer.from(out));
}

export const utf8String = (s: string): Buffer => tlv(Tag.Utf8String, Buffer.from(s, 'utf8'));
export const ia5String = (s: string): Buffer => tlv(Tag.Ia5String, Buffer.from(s, 'ascii'));
export const octetString = (b: Uint8Array): Buffer => tlv(Tag.OctetString, b);
export const boolean = (v: boolean): Buffer => tlv(Tag.Boolean, Buffer.from([v ? 0xff : 0x00]));
export const nullValue = (): Buffer => tlv(Tag.Null, Buffer.alloc(0));

/** BIT STRING: unused-bit count, then the bytes. */
export function bitString(bytes: Uint8Array, unusedBits = 0): Buffer {
  return tlv(Tag.BitString, Buffer.concat([Buffer.from([unusedBits]), bytes]));
}

/** RFC 5280 Time: UTCTime (YYMMDDHHMMSSZ) for 1950-2049, GeneralizedTime after. */
export function time(d: Date): Buffer {
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  const y = d.getUTCFullYear();
  const rest = `${p(d.getUTCMonth() + 1)}${p(d.getUTCDate())}${p(d.getUTCHours())}${p(d.getUTCMinutes())}${p(d.getUTCSeconds())}Z`;
  if (y >= 1950 && y < 2050) return tlv(Tag.UtcTime, Buffer.from(`${p(y % 100)}${rest}`, 'ascii'));
  return tlv(Tag.GeneralizedTime, Buffer.from(`${p(y, 4)}${rest}`, 'ascii'));
}

/** [n] EXPLICIT: a constructed context-specific wrapper around an encoded value. */
export function explicit(n: number, encoded: Uint8Array): Buffer {
  return tlv(0xa0 | n, encoded);
}

/** [n] IMPLICIT primitive: context-specific tag replacing the type's own (e.g. GeneralName). */
export function implicitPrimitive(n: number, content: Uint8Array): Buffer {
  return tlv(0x80 | n, content);
}
