// Curve25519 keys in Tailscale's text forms ("privkey:<hex>", "mkey:<hex>", "nodekey:<hex>",
// "discokey:<hex>"), generation, and the key files the server keeps (Noise and DERP keys).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SwitchboardError, describeError } from '../lib/errors.js';

export type KeyPrefix = 'privkey' | 'mkey' | 'nodekey' | 'discokey';

/** A new X25519 private key, clamped as Tailscale clamps its keys. */
export function generatePrivateKey(): Buffer {
  const k = crypto.randomBytes(32);
  k[0] = k[0]! & 248;
  k[31] = (k[31]! & 127) | 64;
  return k;
}

/**
 * JWK import wants an `x` (public half) beside `d`, but Node builds a private OKP key from `d`
 * alone (initEDRaw) and derives the public half itself; this placeholder fills the field.
 * Should a Node release start checking `x`, every key test fails at once.
 */
const JWK_X_PLACEHOLDER = Buffer.alloc(32).toString('base64url');

/**
 * A raw X25519 private key as a KeyObject. JWK is the cheap way in: a PKCS#8 DER import costs
 * ~75 µs, a JWK one ~10 µs. Keys are made this way rather than by generateKeyPairSync, whose
 * export (DER ~70 µs, JWK fast) is slow or unsafe: on Node 20 a JWK export of a freshly generated
 * key can run a GC that collects the generating job, whose destructor waits on the lock the
 * export holds, and the process hangs for good (a futex wait in ~KeyGenJob below ExportJWKEdKey;
 * keygen-gc.test.ts). An imported key has no generating job.
 */
export function x25519PrivateKeyObject(raw: Uint8Array): crypto.KeyObject {
  if (raw.length !== 32) throw new RangeError('X25519 private key must be 32 bytes');
  return crypto.createPrivateKey({ key: { kty: 'OKP', crv: 'X25519', d: Buffer.from(raw).toString('base64url'), x: JWK_X_PLACEHOLDER }, format: 'jwk' });
}

/** The raw public half of an X25519 private KeyObject. */
export function x25519PublicOf(privateKey: crypto.KeyObject): Buffer {
  return Buffer.from(crypto.createPublicKey(privateKey).export({ format: 'jwk' }).x as string, 'base64url');
}

/** A new key pair, both halves raw (the private one clamped). */
export function generateKeyPair(): { privateKey: Buffer; publicKey: Buffer } {
  const privateKey = generatePrivateKey();
  return { privateKey, publicKey: publicKeyOf(privateKey) };
}

export function publicKeyOf(privateKey: Buffer): Buffer {
  return x25519PublicOf(x25519PrivateKeyObject(privateKey));
}

export function formatKey(prefix: KeyPrefix, key: Buffer): string {
  return `${prefix}:${key.toString('hex')}`;
}

/** Parses "<prefix>:<64 hex>"; returns undefined when the text is not such a key. */
export function parseKey(prefix: KeyPrefix, text: string): Buffer | undefined {
  const m = /^([a-z]+):([0-9a-f]{64})$/.exec(text.trim());
  if (!m || m[1] !== prefix) return undefined;
  return Buffer.from(m[2] as string, 'hex');
}

/** The short form headscale's CLI shows in tables: "[" + the first 5 base64 chars + "]". */
export function shortKey(text: string): string {
  const m = /^[a-z]+:([0-9a-f]{64})$/.exec(text);
  if (!m) return '';
  return `[${Buffer.from(m[1] as string, 'hex').toString('base64').slice(0, 5)}]`;
}

/**
 * Reads a private key file ("privkey:<hex>"), or creates it (mode 0600, parent directories too)
 * when it does not exist yet.
 */
export function loadOrCreatePrivateKey(file: string, what: string): Buffer {
  let text: string | undefined;
  try {
    text = fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT') {
      throw new SwitchboardError('ERR_CONFIG_INVALID', `cannot read ${what} ${file}: ${describeError(err)}`, { cause: err });
    }
  }
  if (text !== undefined) {
    const key = parseKey('privkey', text);
    if (!key) throw new SwitchboardError('ERR_CONFIG_INVALID', `${what} ${file} does not hold a "privkey:<64 hex>" key`);
    return key;
  }
  const key = generatePrivateKey();
  try {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, formatKey('privkey', key) + '\n', { mode: 0o600, flag: 'wx' });
  } catch (err) {
    throw new SwitchboardError('ERR_CONFIG_INVALID', `cannot create ${what} ${file}: ${describeError(err)}`, { cause: err });
  }
  return key;
}
