// STUN (RFC 5389) as Tailscale uses it: the binding request a tailscaled sends, and the
// binding success response with XOR-MAPPED-ADDRESS a DERP node's STUN server answers.
// Parsers return results instead of throwing: a UDP server sees plenty of garbage.
//
// Header (20 bytes): type(2) | message length(2, bytes after the header, multiple of 4) |
//   magic cookie 21 12 a4 42 (4) | transaction id (12). The top two bits of byte 0 are zero.
// Attribute: type(2) | length(2) | value, padded with zeros to a multiple of 4.
// Tailscale's request: SOFTWARE "tailnode" (8 bytes) then FINGERPRINT = CRC-32 of everything
//   before the FINGERPRINT attribute XOR 0x5354554e; always 40 bytes.
// XOR-MAPPED-ADDRESS value: 0x00 | family (1 = IPv4, 2 = IPv6) | port XOR 0x2112 (2) |
//   address XOR cookie (IPv4) or XOR cookie||transaction id (IPv6).

import crypto from 'node:crypto';
import net from 'node:net';
import zlib from 'node:zlib';
import { bytesToIp, ipv4ToBytes, ipv6ToBytes, unmapIp } from './ip.js';

export const STUN_HEADER_LEN = 20;
export const STUN_MAGIC_COOKIE = Buffer.from([0x21, 0x12, 0xa4, 0x42]);
export const STUN_BINDING_REQUEST = 0x0001;
export const STUN_BINDING_SUCCESS = 0x0101;
export const StunAttr = {
  MappedAddress: 0x0001,
  XorMappedAddress: 0x0020,
  /** Not in the RFC, but some servers send it; Tailscale's client accepts it. */
  XorMappedAddressAlt: 0x8020,
  Software: 0x8022,
  Fingerprint: 0x8028,
} as const;
export const STUN_FINGERPRINT_XOR = 0x5354554e;
/** The SOFTWARE value every Tailscale binding request carries. */
export const TAILSCALE_SOFTWARE = 'tailnode';

export type StunParse<T> = ({ ok: true } & T) | { ok: false; reason: string };

export interface StunAddress {
  address: string;
  port: number;
  family: 'IPv4' | 'IPv6';
}

export function stunFingerprint(bytes: Uint8Array): number {
  return (zlib.crc32(bytes) ^ STUN_FINGERPRINT_XOR) >>> 0;
}

/** Cheap check: long enough, top two bits zero, magic cookie in place. */
export function looksLikeStun(b: Uint8Array): boolean {
  return b.length >= STUN_HEADER_LEN && (b[0]! & 0xc0) === 0 && Buffer.from(b.buffer, b.byteOffset + 4, 4).equals(STUN_MAGIC_COOKIE);
}

interface Attr {
  type: number;
  offset: number; // of the attribute header within the message
  value: Buffer;
}

/** Walks the attributes after the header; undefined when they overrun or misalign. */
function attributes(b: Buffer): Attr[] | undefined {
  const out: Attr[] = [];
  let at = STUN_HEADER_LEN;
  while (at < b.length) {
    if (b.length - at < 4) return undefined;
    const type = b.readUInt16BE(at);
    const len = b.readUInt16BE(at + 2);
    const padded = (len + 3) & ~3;
    if (at + 4 + padded > b.length) return undefined;
    out.push({ type, offset: at, value: b.subarray(at + 4, at + 4 + len) });
    at += 4 + padded;
  }
  return out;
}

/** Header checks shared by requests and responses. */
function checkHeader(b: Buffer, wantType: number): string | undefined {
  if (!looksLikeStun(b)) return 'not a STUN message';
  if (b.readUInt16BE(0) !== wantType) return `message type 0x${b.readUInt16BE(0).toString(16).padStart(4, '0')}`;
  const len = b.readUInt16BE(2);
  if (len !== b.length - STUN_HEADER_LEN) return `length field ${len} but ${b.length - STUN_HEADER_LEN} bytes follow`;
  if (len % 4 !== 0) return 'length not a multiple of 4';
  return undefined;
}

export interface BindingRequest {
  transactionId: Buffer;
  software: string | undefined;
  hasFingerprint: boolean;
}

/**
 * Parses a binding request: header, attribute layout, FINGERPRINT (if present: last, and
 * correct). With requireSoftware (Go's stunserver insists on "tailnode"), SOFTWARE must match.
 */
export function parseBindingRequest(buf: Uint8Array, opts: { requireSoftware?: string } = {}): StunParse<BindingRequest> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = checkHeader(b, STUN_BINDING_REQUEST);
  if (bad) return { ok: false, reason: bad };
  const attrs = attributes(b);
  if (!attrs) return { ok: false, reason: 'malformed attributes' };
  let software: string | undefined;
  let hasFingerprint = false;
  for (const [i, a] of attrs.entries()) {
    if (a.type === StunAttr.Software) software = a.value.toString('utf8');
    if (a.type === StunAttr.Fingerprint) {
      if (i !== attrs.length - 1) return { ok: false, reason: 'FINGERPRINT is not the last attribute' };
      if (a.value.length !== 4) return { ok: false, reason: 'FINGERPRINT of wrong size' };
      if (a.value.readUInt32BE(0) !== stunFingerprint(b.subarray(0, a.offset))) return { ok: false, reason: 'bad FINGERPRINT' };
      hasFingerprint = true;
    }
  }
  if (opts.requireSoftware !== undefined && software !== opts.requireSoftware) return { ok: false, reason: 'wrong SOFTWARE' };
  return { ok: true, transactionId: Buffer.from(b.subarray(8, 20)), software, hasFingerprint };
}

/** A binding request like tailscaled's: SOFTWARE then FINGERPRINT (both optional here). */
export function buildBindingRequest(
  transactionId: Uint8Array = crypto.randomBytes(12),
  opts: { software?: string | null; fingerprint?: boolean } = {},
): Buffer {
  if (transactionId.length !== 12) throw new RangeError('STUN transaction id must be 12 bytes');
  const parts: Buffer[] = [];
  const software = opts.software === undefined ? TAILSCALE_SOFTWARE : opts.software;
  if (software !== null) {
    const v = Buffer.from(software, 'utf8');
    const a = Buffer.alloc(4 + ((v.length + 3) & ~3));
    a.writeUInt16BE(StunAttr.Software, 0);
    a.writeUInt16BE(v.length, 2);
    v.copy(a, 4);
    parts.push(a);
  }
  const fp = opts.fingerprint ?? true;
  const attrsLen = parts.reduce((n, p) => n + p.length, 0) + (fp ? 8 : 0);
  const header = Buffer.alloc(STUN_HEADER_LEN);
  header.writeUInt16BE(STUN_BINDING_REQUEST, 0);
  header.writeUInt16BE(attrsLen, 2);
  STUN_MAGIC_COOKIE.copy(header, 4);
  Buffer.from(transactionId).copy(header, 8);
  const body = Buffer.concat([header, ...parts]);
  if (!fp) return body;
  const f = Buffer.alloc(8);
  f.writeUInt16BE(StunAttr.Fingerprint, 0);
  f.writeUInt16BE(4, 2);
  f.writeUInt32BE(stunFingerprint(body), 4);
  return Buffer.concat([body, f]);
}

/** The XOR pad for an address: cookie (IPv4) or cookie || transaction id (IPv6). */
function xorPad(transactionId: Uint8Array): Buffer {
  return Buffer.concat([STUN_MAGIC_COOKIE, transactionId]);
}

/** Binding success with only XOR-MAPPED-ADDRESS (an IPv4-mapped IPv6 address is unmapped). */
export function buildBindingResponse(transactionId: Uint8Array, address: string, port: number): Buffer {
  if (transactionId.length !== 12) throw new RangeError('STUN transaction id must be 12 bytes');
  const ip = unmapIp(address);
  const raw = net.isIPv4(ip) ? ipv4ToBytes(ip) : ipv6ToBytes(ip);
  const pad = xorPad(transactionId);
  const attrLen = 4 + raw.length;
  const b = Buffer.alloc(STUN_HEADER_LEN + 4 + attrLen);
  b.writeUInt16BE(STUN_BINDING_SUCCESS, 0);
  b.writeUInt16BE(4 + attrLen, 2);
  STUN_MAGIC_COOKIE.copy(b, 4);
  Buffer.from(transactionId).copy(b, 8);
  b.writeUInt16BE(StunAttr.XorMappedAddress, 20);
  b.writeUInt16BE(attrLen, 22);
  b[24] = 0;
  b[25] = raw.length === 4 ? 1 : 2;
  b.writeUInt16BE((port ^ 0x2112) & 0xffff, 26);
  for (let i = 0; i < raw.length; i++) b[28 + i] = raw[i]! ^ pad[i]!;
  return b;
}

function decodeAddress(value: Buffer, pad: Buffer | undefined): StunAddress | undefined {
  if (value.length < 4) return undefined;
  const family = value[1];
  const len = family === 1 ? 4 : family === 2 ? 16 : 0;
  if (len === 0 || value.length < 4 + len) return undefined;
  const raw = Buffer.from(value.subarray(4, 4 + len));
  let port = value.readUInt16BE(2);
  if (pad) {
    port ^= 0x2112;
    for (let i = 0; i < len; i++) raw[i]! ^= pad[i]!;
  }
  const address = unmapIp(bytesToIp(raw));
  return { address, port, family: net.isIPv4(address) ? 'IPv4' : 'IPv6' };
}

/** Parses a binding success: XOR-MAPPED-ADDRESS (or 0x8020), else MAPPED-ADDRESS. */
export function parseBindingResponse(buf: Uint8Array): StunParse<StunAddress & { transactionId: Buffer }> {
  const b = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const bad = checkHeader(b, STUN_BINDING_SUCCESS);
  if (bad) return { ok: false, reason: bad };
  const attrs = attributes(b);
  if (!attrs) return { ok: false, reason: 'malformed attributes' };
  const transactionId = Buffer.from(b.subarray(8, 20));
  let found: StunAddress | undefined;
  let fallback: StunAddress | undefined;
  for (const a of attrs) {
    if (a.type === StunAttr.XorMappedAddress || a.type === StunAttr.XorMappedAddressAlt) found ??= decodeAddress(a.value, xorPad(transactionId));
    if (a.type === StunAttr.MappedAddress) fallback ??= decodeAddress(a.value, undefined);
  }
  const addr = found ?? fallback;
  return addr ? { ok: true, transactionId, ...addr } : { ok: false, reason: 'no mapped address' };
}
