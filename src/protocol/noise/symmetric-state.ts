// The Noise SymmetricState (Noise spec rev 34, §5.2) as controlbase uses it during the IK
// handshake: chaining key `ck`, handshake hash `h`, and a handshake key `k` that is used for
// exactly one encryption or decryption with nonce 0 before the next MixKey (controlbase's
// "singleUseCHP"). In IK every handshake key is used once, so this equals the spec's
// CipherState-with-counter for this pattern; reuse is treated as a bug and throws.

import { HASH_LEN, NONCE_LEN, aeadOpen, aeadSeal, blake2s, hkdf2, type X25519Key } from './primitives.js';

const ZERO_NONCE = Buffer.alloc(NONCE_LEN);

export class SymmetricState {
  #h: Buffer;
  #ck: Buffer;
  #k: Buffer | undefined;
  #finished = false;

  /** InitializeSymmetric(protocol_name): h = name padded to 32 bytes, or BLAKE2s(name) if longer. */
  constructor(protocolName: string) {
    const name = Buffer.from(protocolName, 'ascii');
    this.#h = name.length <= HASH_LEN ? Buffer.concat([name, Buffer.alloc(HASH_LEN - name.length)]) : blake2s(name);
    this.#ck = Buffer.from(this.#h);
  }

  /** h = BLAKE2s(h || data) */
  mixHash(data: Uint8Array): void {
    this.#check();
    this.#h = blake2s(this.#h, data);
  }

  /** ck, k = HKDF(ck, ikm); k becomes usable once, with nonce 0. */
  mixKey(ikm: Uint8Array): void {
    this.#check();
    const [ck, k] = hkdf2(this.#ck, ikm);
    this.#ck = ck;
    this.#k = k;
  }

  /** MixKey(DH(local, remote)). Throws a plain Error on a low-order remote key. */
  mixDh(local: X25519Key, remotePublic: Uint8Array): void {
    this.mixKey(local.dh(remotePublic));
  }

  /** ciphertext = AEAD(k, 0, h, plaintext); MixHash(ciphertext). */
  encryptAndHash(plaintext: Uint8Array): Buffer {
    const k = this.#takeKey();
    const ciphertext = aeadSeal(k, ZERO_NONCE, plaintext, this.#h);
    this.mixHash(ciphertext);
    return ciphertext;
  }

  /** The plaintext, or undefined when the ciphertext does not authenticate (h unchanged then). */
  decryptAndHash(ciphertext: Uint8Array): Buffer | undefined {
    const k = this.#takeKey();
    const plaintext = aeadOpen(k, ZERO_NONCE, ciphertext, this.#h);
    if (plaintext === undefined) return undefined;
    this.mixHash(ciphertext);
    return plaintext;
  }

  /** k1, k2 = HKDF(ck, empty). The state cannot be used afterwards. */
  split(): [Buffer, Buffer] {
    this.#check();
    this.#finished = true;
    return hkdf2(this.#ck, Buffer.alloc(0));
  }

  /** The handshake hash h (for channel binding). */
  get handshakeHash(): Buffer {
    return Buffer.from(this.#h);
  }

  #takeKey(): Buffer {
    this.#check();
    const k = this.#k;
    if (k === undefined) throw new Error('Noise handshake key used before MixKey or used twice');
    this.#k = undefined;
    return k;
  }

  #check(): void {
    if (this.#finished) throw new Error('Noise symmetric state used after Split');
  }
}
