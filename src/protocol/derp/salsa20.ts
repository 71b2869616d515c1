// Salsa20 family for the NaCl box: the Salsa20/20 core, HSalsa20 (key derivation) and the
// XSalsa20 stream XOR (24-byte nonce). Written from D. J. Bernstein's Salsa20 and XSalsa20 papers.
//
// State layout (16 little-endian u32 words), shared by Salsa20 and HSalsa20:
//   word  0: "expa"  1..4: key[0..16)   5: "nd 3"  6..7: nonce (Salsa20) | 6..9: input16 (HSalsa20)
//   8..9: block counter, little-endian u64 (Salsa20 only)
//   word 10: "2-by" 11..14: key[16..32) 15: "te k"

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574] as const; // "expand 32-byte k"

function rotl(v: number, n: number): number {
  return (v << n) | (v >>> (32 - n));
}

/** Runs the 20 Salsa20 rounds (10 double rounds) over x in place. */
function rounds(x: Uint32Array): void {
  for (let i = 0; i < 10; i++) {
    // Column round: quarter-rounds on (0,4,8,12) (5,9,13,1) (10,14,2,6) (15,3,7,11).
    x[4]! ^= rotl((x[0]! + x[12]!) | 0, 7);
    x[8]! ^= rotl((x[4]! + x[0]!) | 0, 9);
    x[12]! ^= rotl((x[8]! + x[4]!) | 0, 13);
    x[0]! ^= rotl((x[12]! + x[8]!) | 0, 18);
    x[9]! ^= rotl((x[5]! + x[1]!) | 0, 7);
    x[13]! ^= rotl((x[9]! + x[5]!) | 0, 9);
    x[1]! ^= rotl((x[13]! + x[9]!) | 0, 13);
    x[5]! ^= rotl((x[1]! + x[13]!) | 0, 18);
    x[14]! ^= rotl((x[10]! + x[6]!) | 0, 7);
    x[2]! ^= rotl((x[14]! + x[10]!) | 0, 9);
    x[6]! ^= rotl((x[2]! + x[14]!) | 0, 13);
    x[10]! ^= rotl((x[6]! + x[2]!) | 0, 18);
    x[3]! ^= rotl((x[15]! + x[11]!) | 0, 7);
    x[7]! ^= rotl((x[3]! + x[15]!) | 0, 9);
    x[11]! ^= rotl((x[7]! + x[3]!) | 0, 13);
    x[15]! ^= rotl((x[11]! + x[7]!) | 0, 18);
    // Row round: quarter-rounds on (0,1,2,3) (5,6,7,4) (10,11,8,9) (15,12,13,14).
    x[1]! ^= rotl((x[0]! + x[3]!) | 0, 7);
    x[2]! ^= rotl((x[1]! + x[0]!) | 0, 9);
    x[3]! ^= rotl((x[2]! + x[1]!) | 0, 13);
    x[0]! ^= rotl((x[3]! + x[2]!) | 0, 18);
    x[6]! ^= rotl((x[5]! + x[4]!) | 0, 7);
    x[7]! ^= rotl((x[6]! + x[5]!) | 0, 9);
    x[4]! ^= rotl((x[7]! + x[6]!) | 0, 13);
    x[5]! ^= rotl((x[4]! + x[7]!) | 0, 18);
    x[11]! ^= rotl((x[10]! + x[9]!) | 0, 7);
    x[8]! ^= rotl((x[11]! + x[10]!) | 0, 9);
    x[9]! ^= rotl((x[8]! + x[11]!) | 0, 13);
    x[10]! ^= rotl((x[9]! + x[8]!) | 0, 18);
    x[12]! ^= rotl((x[15]! + x[14]!) | 0, 7);
    x[13]! ^= rotl((x[12]! + x[15]!) | 0, 9);
    x[14]! ^= rotl((x[13]! + x[12]!) | 0, 13);
    x[15]! ^= rotl((x[14]! + x[13]!) | 0, 18);
  }
}

/** Fills the constant and key words of a state (words 0,1..4,5,10,11..14,15). */
function setKeyWords(s: Uint32Array, key: Uint8Array): void {
  const k = Buffer.from(key.buffer, key.byteOffset, key.byteLength);
  s[0] = SIGMA[0];
  s[5] = SIGMA[1];
  s[10] = SIGMA[2];
  s[15] = SIGMA[3];
  for (let i = 0; i < 4; i++) {
    s[1 + i] = k.readUInt32LE(4 * i);
    s[11 + i] = k.readUInt32LE(16 + 4 * i);
  }
}

function checkLen(what: string, b: Uint8Array, n: number): void {
  if (b.length !== n) throw new RangeError(`${what} must be ${n} bytes, got ${b.length}`);
}

/**
 * HSalsa20: 32-byte key + 16-byte input -> 32-byte derived key. The output is state words
 * 0, 5, 10, 15, 6, 7, 8, 9 after the rounds, without the final feed-forward addition.
 */
export function hsalsa20(key: Uint8Array, input16: Uint8Array): Buffer {
  checkLen('hsalsa20 key', key, 32);
  checkLen('hsalsa20 input', input16, 16);
  const x = new Uint32Array(16);
  setKeyWords(x, key);
  const inp = Buffer.from(input16.buffer, input16.byteOffset, 16);
  for (let i = 0; i < 4; i++) x[6 + i] = inp.readUInt32LE(4 * i);
  rounds(x);
  const out = Buffer.alloc(32);
  const pick = [0, 5, 10, 15, 6, 7, 8, 9];
  for (let i = 0; i < 8; i++) out.writeUInt32LE(x[pick[i]!]!, 4 * i);
  return out;
}

/**
 * Salsa20/20 stream with an 8-byte nonce, XORed into `input` starting at block counter 0.
 * Returns a new buffer of input.length bytes (input all zeros = raw keystream).
 */
export function salsa20Xor(key: Uint8Array, nonce8: Uint8Array, input: Uint8Array): Buffer {
  checkLen('salsa20 key', key, 32);
  checkLen('salsa20 nonce', nonce8, 8);
  const state = new Uint32Array(16);
  setKeyWords(state, key);
  const n = Buffer.from(nonce8.buffer, nonce8.byteOffset, 8);
  state[6] = n.readUInt32LE(0);
  state[7] = n.readUInt32LE(4);
  const x = new Uint32Array(16);
  const block = Buffer.alloc(64);
  const out = Buffer.alloc(input.length);
  let counter = 0; // 2^53 blocks is far beyond any message this module sees
  for (let off = 0; off < input.length; off += 64) {
    state[8] = counter >>> 0;
    state[9] = Math.floor(counter / 0x100000000) >>> 0;
    x.set(state);
    rounds(x);
    for (let i = 0; i < 16; i++) block.writeUInt32LE((x[i]! + state[i]!) >>> 0, 4 * i);
    const end = Math.min(64, input.length - off);
    for (let i = 0; i < end; i++) out[off + i] = input[off + i]! ^ block[i]!;
    counter++;
  }
  return out;
}

/** XSalsa20: HSalsa20(key, nonce[0..16)) as the Salsa20 key, nonce[16..24) as its nonce. */
export function xsalsa20Xor(key: Uint8Array, nonce24: Uint8Array, input: Uint8Array): Buffer {
  checkLen('xsalsa20 nonce', nonce24, 24);
  const subkey = hsalsa20(key, nonce24.subarray(0, 16));
  return salsa20Xor(subkey, nonce24.subarray(16, 24), input);
}
