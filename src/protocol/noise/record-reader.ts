// Incremental parser + decryptor for the ts2021 Noise transport record stream
// (control/controlbase/conn.go). An explicit state machine in the style of websockets/ws's
// Receiver: bytes arrive in chunks of any size (one byte, many records, a record split anywhere),
// one method per state consumes what it needs or waits for more.
//
// Record layout (both directions, after the handshake):
//   [0]      type = 0x04 (msgTypeRecord)
//   [1..3)   ciphertext length, BE u16, at most 4093 (frame ≤ 4096 bytes incl. header)
//   [3..)    ciphertext = plaintext (≤ 4077 bytes) || 16-byte Poly1305 tag
// Zero-length plaintext records are legal and produce nothing.
//
// Memory bound: the header is judged as soon as its 3 bytes are in, so at most one frame
// (4096 bytes) plus the unparsed rest of the current input chunk is ever held. Any fault
// (wrong type, oversize length, short ciphertext, failed tag, exhausted nonce, EOF inside a
// frame) moves to DEAD and is reported once through onError; nothing is thrown to the caller.

import type { CipherState } from './cipher-state.js';
import { NoiseError } from './errors.js';
import { HEADER_LEN, MAX_CIPHERTEXT_SIZE, MSG_TYPE_RECORD } from './messages.js';
import { TAG_LEN } from './primitives.js';
import { ByteQueue } from '../../lib/byte-queue.js';

type State = 'header' | 'body' | 'dead';

export interface RecordReaderSink {
  /** One record's plaintext (never empty). */
  onPlaintext(plaintext: Buffer): void;
  /** Called at most once; the reader is dead afterwards. */
  onError(err: NoiseError): void;
}

export class RecordReader {
  readonly #cipher: CipherState;
  readonly #sink: RecordReaderSink;
  readonly #queue = new ByteQueue();
  #state: State = 'header';
  #bodyLength = 0;

  constructor(cipher: CipherState, sink: RecordReaderSink) {
    this.#cipher = cipher;
    this.#sink = sink;
  }

  /** Bytes held waiting for the rest of a frame. */
  get bufferedBytes(): number {
    return this.#queue.length;
  }

  get dead(): boolean {
    return this.#state === 'dead';
  }

  /** True when no partial frame is held (a clean place for the stream to end). */
  get atBoundary(): boolean {
    return this.#state === 'header' && this.#queue.length === 0;
  }

  /** Feeds bytes; decrypted records go to the sink synchronously. */
  write(chunk: Buffer): void {
    if (this.#state === 'dead' || chunk.length === 0) return;
    this.#queue.push(chunk);
    try {
      this.#run();
    } catch (err) {
      this.#fail(err instanceof NoiseError ? err : new NoiseError('ERR_NOISE_DECRYPT', 'Noise record processing failed', { cause: err }));
    }
  }

  /** The input ended. A partial frame is an error (ERR_NOISE_TRUNCATED). Returns true when clean. */
  end(): boolean {
    if (this.#state === 'dead') return false;
    if (this.atBoundary) return true;
    this.#fail(new NoiseError('ERR_NOISE_TRUNCATED', 'stream ended inside a Noise frame'));
    return false;
  }

  /** Stops processing and drops buffered bytes (no error is reported). */
  close(): void {
    this.#state = 'dead';
    this.#queue.clear();
  }

  #run(): void {
    for (;;) {
      switch (this.#state) {
        case 'header':
          if (!this.#readHeader()) return;
          break;
        case 'body':
          if (!this.#readBody()) return;
          break;
        case 'dead':
          return;
      }
    }
  }

  /** State Header: needs 3 bytes; validates type and length at once. */
  #readHeader(): boolean {
    if (this.#queue.length < HEADER_LEN) return false;
    const header = this.#queue.take(HEADER_LEN);
    const type = header[0]!;
    if (type !== MSG_TYPE_RECORD) {
      throw new NoiseError('ERR_NOISE_BAD_RECORD_TYPE', `received message with unexpected type ${type}, want ${MSG_TYPE_RECORD}`);
    }
    const length = header.readUInt16BE(1);
    if (length > MAX_CIPHERTEXT_SIZE) {
      throw new NoiseError('ERR_NOISE_RECORD_TOO_LARGE', `Noise frame of ${HEADER_LEN + length} bytes exceeds the 4096-byte maximum`);
    }
    if (length < TAG_LEN) {
      throw new NoiseError('ERR_NOISE_DECRYPT', `Noise record of ${length} bytes is shorter than its tag`);
    }
    this.#bodyLength = length;
    this.#state = 'body';
    return true;
  }

  /** State Body: needs the whole ciphertext; decrypts it with the next counter value. */
  #readBody(): boolean {
    if (this.#queue.length < this.#bodyLength) return false;
    const ciphertext = this.#queue.take(this.#bodyLength);
    this.#state = 'header';
    const plaintext = this.#cipher.decrypt(ciphertext); // throws NoiseError on failure
    if (plaintext.length > 0) this.#sink.onPlaintext(plaintext);
    return true;
  }


  #fail(err: NoiseError): void {
    if (this.#state === 'dead') return;
    this.close();
    this.#sink.onError(err);
  }
}
