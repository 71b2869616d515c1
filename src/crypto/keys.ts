// Curve25519 keys in Tailscale's text forms ("privkey:<hex>", "mkey:<hex>", "nodekey:<hex>",
// "discokey:<hex>"), generation, and the key files the server keeps (Noise and DERP keys).

import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { SwitchboardError, describeError } from '../lib/errors.js';

export type KeyPrefix = 'privkey' | 'mkey' | 'nodekey' | 'discokey';

const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');

/** A new X25519 private key, clamped as Tailscale clamps its keys. */
export function generatePrivateKey(): Buffer {
  const k = crypto.randomBytes(32);
  k[0] = k[0]! & 248;
  k[31] = (k[31]! & 127) | 64;
  return k;
}

/**
 * A new key pair, both halves raw (the private one clamped). Much cheaper than
 * generatePrivateKey + publicKeyOf: OpenSSL's PKCS#8 import costs ~0.35 ms a key.
 *
 * The halves are exported as DER, never as JWK: on Node 20, a JWK export of a freshly generated
 * key can run a GC that collects the generating job, whose destructor waits on the lock the
 * export holds, and the process hangs for good (seen under load: a futex wait in ~KeyGenJob
 * below ExportJWKEdKey; keygen-gc.test.ts).
 */
export function generateKeyPair(): { privateKey: Buffer; publicKey: Buffer } {
  const pair = crypto.generateKeyPairSync('x25519');
  const privateKey = Buffer.from(pair.privateKey.export({ type: 'pkcs8', format: 'der' }).subarray(-32)); // the DER ends with the key
  privateKey[0] = privateKey[0]! & 248; // X25519 clamps anyway: the public key is unchanged
  privateKey[31] = (privateKey[31]! & 127) | 64;
  return { privateKey, publicKey: Buffer.from(pair.publicKey.export({ type: 'spki', format: 'der' }).subarray(-32)) };
}

export function publicKeyOf(privateKey: Buffer): Buffer {
  const keyObject = crypto.createPrivateKey({
    key: Buffer.concat([PKCS8_X25519, privateKey]),
    format: 'der',
    type: 'pkcs8',
  });
  const jwk = crypto.createPublicKey(keyObject).export({ format: 'jwk' });
  return Buffer.from(jwk.x as string, 'base64url');
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
