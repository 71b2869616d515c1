// Poly1305 one-time authenticator (RFC 8439 §2.5), used by the NaCl box's XSalsa20-Poly1305.
//
// Arithmetic modulo p = 2^130 - 5 on ten 13-bit limbs held in JS numbers, so every product
// and every sum of ten products stays far below 2^53 and no BigInt (variable-time) is needed.
// A 130-bit value v is limbs h[0..9] with v = sum h[i] * 2^(13*i); 2^130 = 5 (mod p), so a
// product term landing on limb i+10 folds back onto limb i multiplied by 5.

const LIMBS = 10;
const MASK13 = 0x1fff;

/** Splits 17 little-endian bytes (a 136-bit number, only 130 bits used) into 13-bit limbs. */
function toLimbs(b: Uint8Array, out: Float64Array): void {
  for (let i = 0; i < LIMBS; i++) {
    const bit = 13 * i;
    const at = bit >>> 3;
    const v = (b[at] ?? 0) | ((b[at + 1] ?? 0) << 8) | ((b[at + 2] ?? 0) << 16);
    out[i] = (v >>> (bit & 7)) & MASK13;
  }
}

/** One carry pass over all limbs; the carry out of limb 9 (weight 2^130) re-enters limb 0 times 5. */
function carryPass(h: Float64Array): void {
  let c = 0;
  for (let i = 0; i < LIMBS; i++) {
    const v = h[i]! + c;
    c = Math.floor(v / 8192);
    h[i] = v - c * 8192;
  }
  h[0] = h[0]! + 5 * c;
}

/** Computes the 16-byte Poly1305 tag of `msg` under the 32-byte one-time key (r || s). */
export function poly1305(msg: Uint8Array, key: Uint8Array): Buffer {
  if (key.length !== 32) throw new RangeError(`poly1305 key must be 32 bytes, got ${key.length}`);
  // r: key[0..16) clamped (RFC 8439: clear top 4 bits of bytes 3,7,11,15 and low 2 bits of 4,8,12).
  const rBytes = new Uint8Array(17);
  rBytes.set(key.subarray(0, 16));
  rBytes[3]! &= 15;
  rBytes[7]! &= 15;
  rBytes[11]! &= 15;
  rBytes[15]! &= 15;
  rBytes[4]! &= 252;
  rBytes[8]! &= 252;
  rBytes[12]! &= 252;
  const r = new Float64Array(LIMBS);
  toLimbs(rBytes, r);

  const h = new Float64Array(LIMBS);
  const m = new Float64Array(LIMBS);
  const d = new Float64Array(LIMBS);
  const block = new Uint8Array(17);
  for (let off = 0; off < msg.length; off += 16) {
    // Block layout: up to 16 message bytes, then a 1 byte (at index 16 for a full block, at
    // index len for the final short block), zero padding above it.
    const n = Math.min(16, msg.length - off);
    block.fill(0);
    block.set(msg.subarray(off, off + n));
    block[n] = 1;
    toLimbs(block, m);
    for (let i = 0; i < LIMBS; i++) h[i] = h[i]! + m[i]!;
    // d = h * r mod (2^130 - 5), schoolbook with the 5x fold for terms at or above limb 10.
    for (let i = 0; i < LIMBS; i++) {
      let acc = 0;
      for (let j = 0; j < LIMBS; j++) {
        acc += j <= i ? h[j]! * r[i - j]! : h[j]! * 5 * r[i - j + LIMBS]!;
      }
      d[i] = acc;
    }
    h.set(d);
    carryPass(h);
    carryPass(h);
  }

  // Fully reduce: after three passes h < 2^130 with 13-bit limbs; then subtract p if h >= p.
  carryPass(h);
  carryPass(h);
  carryPass(h);
  const g = new Float64Array(LIMBS);
  let c = 5;
  for (let i = 0; i < LIMBS; i++) {
    const v = h[i]! + c;
    c = v >>> 13;
    g[i] = v & MASK13;
  }
  // c is 1 exactly when h + 5 >= 2^130, i.e. h >= p; then h - p = (h + 5) mod 2^130 = g.
  const take = -c; // 0 or -1 (all ones)
  for (let i = 0; i < LIMBS; i++) h[i] = (g[i]! & take) | (h[i]! & ~take);

  // tag = (h + s) mod 2^128, emitted as eight little-endian 16-bit words.
  const out = Buffer.alloc(16);
  let acc = 0;
  let accBits = 0;
  let word = 0;
  let carry = 0;
  for (let i = 0; i < LIMBS && word < 8; i++) {
    acc |= h[i]! << accBits;
    accBits += 13;
    while (accBits >= 16 && word < 8) {
      const s = key[16 + 2 * word]! | (key[17 + 2 * word]! << 8);
      const f = (acc & 0xffff) + s + carry;
      out.writeUInt16LE(f & 0xffff, 2 * word);
      carry = f >>> 16;
      acc >>>= 16;
      accBits -= 16;
      word++;
    }
  }
  return out;
}
