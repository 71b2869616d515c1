// NaCl crypto_box (Curve25519-XSalsa20-Poly1305), byte-compatible with Go's
// x/crypto/nacl/box, libsodium's crypto_box_easy and tweetnacl's box. X25519 comes from
// node:crypto; XSalsa20 and Poly1305 from ./salsa20.ts and ./poly1305.ts.
//
// Layouts:
//   box(m)          = tag(16) || ciphertext(len m)             (crypto_box_easy / box.Seal)
//   sealed (DERP)   = nonce(24) || box(m)                      (Tailscale's SealTo / OpenFrom)
//   secretbox key   = HSalsa20(X25519(myPrivate, theirPublic), 0^16)   (crypto_box_beforenm)
//   XSalsa20 stream : bytes [0,32) are the Poly1305 key, bytes [32,..) encrypt the message.

import crypto from 'node:crypto';
import { hsalsa20, xsalsa20Xor } from './salsa20.js';
import { poly1305 } from './poly1305.js';
import { DerpError } from './errors.js';

export const KEY_LEN = 32;
export const BOX_NONCE_LEN = 24;
export const BOX_OVERHEAD = 16;

// DER prefixes that wrap a raw 32-byte X25519 key as PKCS#8 (private) or SPKI (public).
const PKCS8_X25519 = Buffer.from('302e020100300506032b656e04220420', 'hex');
const SPKI_X25519 = Buffer.from('302a300506032b656e032100', 'hex');

function checkKey(what: string, k: Uint8Array): void {
  if (k.length !== KEY_LEN) throw new DerpError('ERR_DERP_BOX', `${what} must be ${KEY_LEN} bytes, got ${k.length}`);
}

function privateKeyObject(raw: Uint8Array): crypto.KeyObject {
  checkKey('private key', raw);
  return crypto.createPrivateKey({ key: Buffer.concat([PKCS8_X25519, raw]), format: 'der', type: 'pkcs8' });
}

/** The X25519 public key of a 32-byte private key (the scalar is clamped as X25519 requires). */
export function x25519PublicKey(privateKey: Uint8Array): Buffer {
  const der = crypto.createPublicKey(privateKeyObject(privateKey)).export({ format: 'der', type: 'spki' });
  return Buffer.from(der.subarray(der.length - KEY_LEN));
}

/**
 * X25519(myPrivate, theirPublic). Throws ERR_DERP_BOX for a low-order public key (the shared
 * secret would be all zeros; OpenSSL refuses it), which no honest peer sends.
 */
export function x25519(myPrivate: Uint8Array, theirPublic: Uint8Array): Buffer {
  checkKey('public key', theirPublic);
  const publicKey = crypto.createPublicKey({ key: Buffer.concat([SPKI_X25519, theirPublic]), format: 'der', type: 'spki' });
  try {
    return crypto.diffieHellman({ privateKey: privateKeyObject(myPrivate), publicKey });
  } catch (err) {
    throw new DerpError('ERR_DERP_BOX', 'X25519 key agreement failed (low-order public key?)', { cause: err });
  }
}

/** crypto_box_beforenm: the symmetric key both sides of a box share. */
export function boxSharedKey(myPrivate: Uint8Array, theirPublic: Uint8Array): Buffer {
  return hsalsa20(x25519(myPrivate, theirPublic), new Uint8Array(16));
}

/** crypto_secretbox_easy: tag(16) || XSalsa20(key, nonce) XOR msg. */
export function secretboxSeal(msg: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer {
  const stream = xsalsa20Xor(key, nonce, Buffer.concat([Buffer.alloc(32), msg]));
  const ciphertext = stream.subarray(32);
  return Buffer.concat([poly1305(ciphertext, stream.subarray(0, 32)), ciphertext]);
}

/** crypto_secretbox_open_easy; undefined when the tag does not verify. */
export function secretboxOpen(box: Uint8Array, nonce: Uint8Array, key: Uint8Array): Buffer | undefined {
  if (box.length < BOX_OVERHEAD) return undefined;
  const tag = box.subarray(0, BOX_OVERHEAD);
  const ciphertext = box.subarray(BOX_OVERHEAD);
  const polyKey = xsalsa20Xor(key, nonce, new Uint8Array(32));
  if (!crypto.timingSafeEqual(poly1305(ciphertext, polyKey), tag)) return undefined;
  return xsalsa20Xor(key, nonce, Buffer.concat([Buffer.alloc(32), ciphertext])).subarray(32);
}

/** crypto_box_easy: box `msg` from myPrivate to theirPublic under a 24-byte nonce. */
export function boxSeal(msg: Uint8Array, nonce: Uint8Array, theirPublic: Uint8Array, myPrivate: Uint8Array): Buffer {
  return secretboxSeal(msg, nonce, boxSharedKey(myPrivate, theirPublic));
}

/** crypto_box_open_easy; undefined when the box does not open (wrong keys, tampering, bad key). */
export function boxOpen(box: Uint8Array, nonce: Uint8Array, theirPublic: Uint8Array, myPrivate: Uint8Array): Buffer | undefined {
  let key: Buffer;
  try {
    key = boxSharedKey(myPrivate, theirPublic);
  } catch {
    return undefined;
  }
  return secretboxOpen(box, nonce, key);
}

/** Tailscale's SealTo: a random nonce followed by the box. */
export function sealTo(msg: Uint8Array, theirPublic: Uint8Array, myPrivate: Uint8Array): Buffer {
  const nonce = crypto.randomBytes(BOX_NONCE_LEN);
  return Buffer.concat([nonce, boxSeal(msg, nonce, theirPublic, myPrivate)]);
}

/** Tailscale's OpenFrom: splits off the 24-byte nonce and opens the rest. */
export function openFrom(sealed: Uint8Array, theirPublic: Uint8Array, myPrivate: Uint8Array): Buffer | undefined {
  if (sealed.length < BOX_NONCE_LEN + BOX_OVERHEAD) return undefined;
  return boxOpen(sealed.subarray(BOX_NONCE_LEN), sealed.subarray(0, BOX_NONCE_LEN), theirPublic, myPrivate);
}
