// The transport CipherState of one direction after Split (control/controlbase/conn.go):
// ChaCha20-Poly1305 with EMPTY associated data and a 64-bit record counter starting at 0.
//
// Nonce layout (12 bytes) — Tailscale's deviation from the Noise spec, which says little-endian:
//   [0..4)  0x00000000
//   [4..12) counter, BIG-endian u64
// Counter value 2^64-1 is reserved (spec §5.1); reaching it kills the connection: there is no
// rekey in this protocol. Any decryption failure also kills the state for good (the peer and we
// are no longer in step), mirroring controlbase which drops its cipher.

import { NoiseError } from './errors.js';
import { KEY_LEN, NONCE_LEN, aeadOpen, aeadSeal, aeadSealInto } from './primitives.js';

const MAX_NONCE = 0xffff_ffff_ffff_ffffn; // invalid value, never used
const EMPTY = Buffer.alloc(0);

export class CipherState {
  readonly #key: Buffer;
  #counter: bigint;
  #dead = false;
  readonly #nonce = Buffer.alloc(NONCE_LEN);

  /** `initialCounter` exists for tests of nonce exhaustion; real use starts at 0. */
  constructor(key: Uint8Array, initialCounter = 0n) {
    if (key.length !== KEY_LEN) throw new RangeError('cipher key must be 32 bytes');
    if (initialCounter < 0n || initialCounter > MAX_NONCE) throw new RangeError('counter out of range');
    this.#key = Buffer.from(key);
    this.#counter = initialCounter;
  }

  /** The counter the next record will use. */
  get counter(): bigint {
    return this.#counter;
  }

  /** ciphertext || tag for the next counter value. */
  encrypt(plaintext: Uint8Array): Buffer {
    const nonce = this.#nextNonce();
    return aeadSeal(this.#key, nonce, plaintext, EMPTY);
  }

  /** Like encrypt, written into `out` at `offset`; returns the bytes written (plaintext + 16). */
  encryptInto(plaintext: Uint8Array, out: Buffer, offset: number): number {
    const nonce = this.#nextNonce();
    return aeadSealInto(this.#key, nonce, plaintext, EMPTY, out, offset);
  }

  /** The plaintext of the next record; throws NoiseError (and dies) when it does not authenticate. */
  decrypt(ciphertext: Uint8Array): Buffer {
    const nonce = this.#nextNonce();
    const plaintext = aeadOpen(this.#key, nonce, ciphertext, EMPTY);
    if (plaintext === undefined) {
      this.#dead = true;
      throw new NoiseError('ERR_NOISE_DECRYPT', 'Noise record failed to authenticate');
    }
    return plaintext;
  }

  #nextNonce(): Buffer {
    if (this.#dead) throw new NoiseError('ERR_NOISE_DECRYPT', 'Noise cipher state is dead after an earlier failure');
    if (this.#counter >= MAX_NONCE) {
      this.#dead = true;
      throw new NoiseError('ERR_NOISE_NONCE_EXHAUSTED', 'cipher exhausted, no more nonces available for current key');
    }
    this.#nonce.writeBigUInt64BE(this.#counter, 4);
    this.#counter += 1n;
    return this.#nonce;
  }
}
