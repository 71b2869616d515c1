// The HPACK Huffman code (RFC 7541 §5.2, Appendix B), decoding only: we never Huffman-encode
// (a literal is always allowed), but peers such as Go's client encode any string it shortens.
// The code is canonical: codes of one length are consecutive in symbol order, and each length's
// first code follows from the previous length's last. So the code lengths of the 257 symbols
// (256 octets and EOS) are all the table there is, and the decoder works from per-length limits.

import { H2Error } from './errors.js';
import { ErrorCode } from './frames.js';

/** Code length in bits of each symbol 0..255, then EOS (256), from RFC 7541 Appendix B. */
const CODE_LENGTHS = [
  13, 23, 28, 28, 28, 28, 28, 28, 28, 24, 30, 28, 28, 30, 28, 28,
  28, 28, 28, 28, 28, 28, 30, 28, 28, 28, 28, 28, 28, 28, 28, 28,
  6, 10, 10, 12, 13, 6, 8, 11, 10, 10, 8, 11, 8, 6, 6, 6,
  5, 5, 5, 6, 6, 6, 6, 6, 6, 6, 7, 8, 15, 6, 12, 10,
  13, 6, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7, 7,
  7, 7, 7, 7, 7, 7, 7, 7, 8, 7, 8, 13, 19, 13, 14, 6,
  15, 5, 6, 5, 6, 5, 6, 6, 6, 5, 7, 7, 6, 6, 6, 5,
  6, 7, 6, 5, 5, 6, 7, 7, 7, 7, 7, 15, 11, 14, 13, 28,
  20, 22, 20, 20, 22, 22, 22, 23, 22, 23, 23, 23, 23, 23, 24, 23,
  24, 24, 22, 23, 24, 23, 23, 23, 23, 21, 22, 23, 22, 23, 23, 24,
  22, 21, 20, 22, 22, 23, 23, 21, 23, 22, 22, 24, 21, 22, 23, 23,
  21, 21, 22, 21, 23, 22, 23, 23, 20, 22, 22, 22, 23, 22, 22, 23,
  26, 26, 20, 19, 22, 23, 22, 25, 26, 26, 26, 27, 27, 26, 24, 25,
  19, 21, 26, 27, 27, 26, 27, 24, 21, 21, 26, 26, 28, 27, 27, 27,
  20, 24, 20, 21, 22, 21, 21, 23, 22, 22, 25, 25, 24, 24, 26, 23,
  26, 27, 26, 26, 27, 27, 27, 27, 27, 28, 27, 27, 27, 27, 27, 26,
  30,
];

const EOS = 256;
const MAX_LENGTH = 30;

/** For each length L: the first code of that length, how many codes it has, and where its symbols start in SYMBOLS. */
const firstCode = new Array<number>(MAX_LENGTH + 1).fill(0);
const countOf = new Array<number>(MAX_LENGTH + 1).fill(0);
const offsetOf = new Array<number>(MAX_LENGTH + 1).fill(0);
/** Symbols ordered by (code length, symbol): the canonical order. */
const SYMBOLS: number[] = [];

(() => {
  for (const len of CODE_LENGTHS) countOf[len]!++;
  let code = 0;
  let offset = 0;
  for (let len = 1; len <= MAX_LENGTH; len++) {
    code = (code + countOf[len - 1]!) << 1;
    firstCode[len] = code;
    offsetOf[len] = offset;
    offset += countOf[len]!;
  }
  for (let len = 1; len <= MAX_LENGTH; len++) {
    CODE_LENGTHS.forEach((l, symbol) => {
      if (l === len) SYMBOLS.push(symbol);
    });
  }
})();

function invalid(what: string): H2Error {
  return new H2Error('ERR_H2_COMPRESSION', `invalid Huffman-coded string: ${what}`, ErrorCode.COMPRESSION_ERROR);
}

/**
 * Decodes a Huffman-coded string literal. Padding must be the most significant bits of EOS
 * (all ones) and shorter than 8 bits; an EOS symbol inside the string is an error (§5.2).
 */
export function huffmanDecode(input: Buffer): Buffer {
  const out = Buffer.allocUnsafe(Math.ceil((input.length * 8) / 5));
  let written = 0;
  let code = 0; // bits of the symbol being read
  let len = 0;
  for (let i = 0; i < input.length; i++) {
    const byte = input[i]!;
    for (let bit = 7; bit >= 0; bit--) {
      code = (code << 1) | ((byte >> bit) & 1);
      len++;
      const index = code - firstCode[len]!;
      if (index >= 0 && index < countOf[len]!) {
        const symbol = SYMBOLS[offsetOf[len]! + index]!;
        if (symbol === EOS) throw invalid('EOS inside the string');
        out[written++] = symbol;
        code = 0;
        len = 0;
      } else if (len === MAX_LENGTH) {
        throw invalid('no symbol matches');
      }
    }
  }
  if (len > 7) throw invalid('padding longer than 7 bits');
  if (code !== (1 << len) - 1) throw invalid('padding is not all ones');
  return out.subarray(0, written);
}
