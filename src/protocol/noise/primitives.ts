// The cryptographic primitives of Noise_IK_25519_ChaChaPoly_BLAKE2s (Noise spec rev 34, §4 and
// §12), built on node:crypto only: X25519 DH, BLAKE2s-256, HMAC-BLAKE2s HKDF and
// ChaCha20-Poly1305. No protocol logic lives here; see symmetric-state.ts and cipher-state.ts.
//
// Keys enter OpenSSL as JWK (~10 µs; a PKCS#8 or SPKI DER import costs ~75 µs): private ones,
// ephemerals included, through crypto/keys.ts, peer public keys in dh().

import crypto from 'node:crypto';
import { generatePrivateKey, x25519PrivateKeyObject, x25519PublicOf } from '../../crypto/keys.js';

export const DH_LEN = 32; // X25519 public key and shared secret size
export const HASH_LEN = 32; // BLAKE2s-256 output
export const KEY_LEN = 32; // ChaCha20-Poly1305 key
export const TAG_LEN = 16; // Poly1305 tag
export const NONCE_LEN = 12; // ChaCha20-Poly1305 (IETF) nonce

/** An X25519 key pair whose private half stays inside a KeyObject after one import. */
export class X25519Key {
  readonly #privateKey: crypto.KeyObject;
  readonly #publicKey: Buffer;

  private constructor(privateKey: crypto.KeyObject) {
    this.#privateKey = privateKey;
    this.#publicKey = x25519PublicOf(privateKey);
  }

  /** Imports a raw 32-byte private key (clamping is applied by X25519 itself). */
  static fromPrivate(raw: Uint8Array): X25519Key {
    return new X25519Key(x25519PrivateKeyObject(raw));
  }

  /** A fresh random key pair (for ephemerals). */
  static generate(): X25519Key {
    return new X25519Key(x25519PrivateKeyObject(generatePrivateKey()));
  }

  get publicKey(): Buffer {
    return Buffer.from(this.#publicKey);
  }

  /**
   * X25519(this, peer). Throws when the result is all zeros (low-order peer point), as Go's
   * curve25519.X25519 does; callers turn that into a coded NoiseError.
   */
  dh(peerPublic: Uint8Array): Buffer {
    if (peerPublic.length !== DH_LEN) throw new RangeError('X25519 public key must be 32 bytes');
    const shared = crypto.diffieHellman({ privateKey: this.#privateKey, publicKey: peerKeyObject(peerPublic) });
    if (shared.every((b) => b === 0)) throw new Error('X25519 produced an all-zero shared secret');
    return shared;
  }
}

/**
 * The peer's public key as a KeyObject. A handshake uses each of the peer's two keys twice (es and
 * ee, ss and se), so the last two imports are kept: half the imports, no state beyond two keys.
 */
const recentPeers: Array<{ raw: Buffer; key: crypto.KeyObject }> = [];

function peerKeyObject(peerPublic: Uint8Array): crypto.KeyObject {
  const raw = Buffer.from(peerPublic);
  const hit = recentPeers.find((p) => p.raw.equals(raw));
  if (hit) return hit.key;
  const key = crypto.createPublicKey({ key: { kty: 'OKP', crv: 'X25519', x: raw.toString('base64url') }, format: 'jwk' });
  recentPeers.unshift({ raw, key });
  recentPeers.length = Math.min(recentPeers.length, 2);
  return key;
}

/** BLAKE2s-256 over the concatenation of parts. */
export function blake2s(...parts: Uint8Array[]): Buffer {
  const h = crypto.createHash('blake2s256');
  for (const p of parts) h.update(p);
  return h.digest();
}

export function hmacBlake2s(key: Uint8Array, ...parts: Uint8Array[]): Buffer {
  const h = crypto.createHmac('blake2s256', key);
  for (const p of parts) h.update(p);
  return h.digest();
}

/**
 * Noise HKDF with two outputs (spec §4.3), which is RFC 5869 HKDF with salt = chaining key,
 * empty info: temp = HMAC(ck, ikm); out1 = HMAC(temp, 0x01); out2 = HMAC(temp, out1 || 0x02).
 */
export function hkdf2(chainingKey: Uint8Array, ikm: Uint8Array): [Buffer, Buffer] {
  const temp = hmacBlake2s(chainingKey, ikm);
  const out1 = hmacBlake2s(temp, Buffer.of(1));
  const out2 = hmacBlake2s(temp, out1, Buffer.of(2));
  return [out1, out2];
}

/** ChaCha20-Poly1305 seal: returns ciphertext || 16-byte tag. */
export function aeadSeal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array): Buffer {
  const out = Buffer.allocUnsafe(plaintext.length + TAG_LEN);
  aeadSealInto(key, nonce, plaintext, ad, out, 0);
  return out;
}

/** ChaCha20-Poly1305 seal written into `out` at `offset` as ciphertext || tag; returns the bytes written. */
export function aeadSealInto(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, ad: Uint8Array, out: Buffer, offset: number): number {
  const c = crypto.createCipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LEN });
  if (ad.length > 0) c.setAAD(ad, { plaintextLength: plaintext.length });
  const body = c.update(plaintext);
  c.final();
  body.copy(out, offset);
  c.getAuthTag().copy(out, offset + body.length);
  return body.length + TAG_LEN;
}

/** ChaCha20-Poly1305 open: the plaintext, or undefined when the input does not authenticate. */
export function aeadOpen(key: Uint8Array, nonce: Uint8Array, ciphertext: Uint8Array, ad: Uint8Array): Buffer | undefined {
  if (ciphertext.length < TAG_LEN) return undefined;
  const split = ciphertext.length - TAG_LEN;
  const d = crypto.createDecipheriv('chacha20-poly1305', key, nonce, { authTagLength: TAG_LEN });
  d.setAuthTag(ciphertext.subarray(split));
  if (ad.length > 0) d.setAAD(ad, { plaintextLength: split });
  const body = d.update(ciphertext.subarray(0, split));
  try {
    d.final();
  } catch {
    return undefined;
  }
  return body;
}
