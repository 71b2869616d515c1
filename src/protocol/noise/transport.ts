// NoiseStream: the ts2021 encrypted byte stream after the handshake, as a node Duplex over any
// underlying Duplex (a net.Socket after HTTP 101, a WebSocket adapter, one end of a duplexPair).
// Follows control/controlbase/conn.go: records [0x04][BE u16 len][ciphertext], plaintext split
// at 4077 bytes, ChaCha20-Poly1305 with empty AD and 4-zero + BE u64 counter nonces
// (cipher-state.ts), parsing by the RecordReader state machine (record-reader.ts).
//
// Behaviour:
// - `head` (bytes that arrived with the upgrade) is parsed before anything from the socket.
// - Backpressure both ways: the underlying is paused while our readable buffer is full, and a
//   write completes at once only while the underlying holds less than `writeBufferLimit`
//   bytes (default 512 KiB, like a kernel socket buffer), else when it drains. Waiting for
//   every 'drain' of a small in-memory pair would deadlock HTTP/2, whose session stops reading
//   while one of its writes is pending: two such peers would each wait for the other to read.
// - Half-close both ways: our end() ends the underlying's writable; the underlying's 'end'
//   ends our readable (an EOF inside a frame is ERR_NOISE_TRUNCATED instead).
// - Any protocol fault destroys this stream with a coded NoiseError and destroys the underlying;
//   no handler ever throws, and the underlying keeps a no-op 'error' listener after teardown.

import { Duplex } from 'node:stream';
import type { CipherState } from './cipher-state.js';
import { NoiseError } from './errors.js';
import { HEADER_LEN, MAX_PLAINTEXT_SIZE, MSG_TYPE_RECORD } from './messages.js';
import { TAG_LEN } from './primitives.js';
import { RecordReader } from './record-reader.js';

export interface NoiseStreamOptions {
  /** Cipher for records we send. */
  tx: CipherState;
  /** Cipher for records we receive. */
  rx: CipherState;
  /** Bytes already read from the underlying stream that belong to the record stream. */
  head?: Buffer;
  /** The peer's static public key (server side: the client's machine key). */
  peerPublicKey?: Buffer;
  /** Protocol version agreed in the handshake. */
  protocolVersion?: number;
  /** Final handshake hash. */
  handshakeHash?: Buffer;
  /** Bytes the underlying may hold unflushed before our writes wait for 'drain' (default 512 KiB). */
  writeBufferLimit?: number;
}

const DEFAULT_WRITE_BUFFER_LIMIT = 512 * 1024;

const noop = (): void => {};

/**
 * Encrypts plaintext into wire records of at most 4077 plaintext bytes each (an empty input
 * gives one empty record). Advances `tx` by one counter value per record.
 */
export function sealRecords(tx: CipherState, plaintext: Buffer): Buffer {
  const records = Math.max(1, Math.ceil(plaintext.length / MAX_PLAINTEXT_SIZE));
  const wire = Buffer.allocUnsafe(plaintext.length + records * (HEADER_LEN + TAG_LEN));
  let at = 0;
  for (let i = 0; i < records; i++) {
    const piece = plaintext.subarray(i * MAX_PLAINTEXT_SIZE, (i + 1) * MAX_PLAINTEXT_SIZE);
    wire[at] = MSG_TYPE_RECORD; // [type=4][BE u16 ciphertext length][ciphertext || tag]
    wire.writeUInt16BE(piece.length + TAG_LEN, at + 1);
    at += HEADER_LEN;
    at += tx.encryptInto(piece, wire, at);
  }
  return wire;
}

export class NoiseStream extends Duplex {
  readonly #underlying: Duplex;
  readonly #tx: CipherState;
  readonly #reader: RecordReader;
  readonly #peerPublicKey: Buffer | undefined;
  readonly #protocolVersion: number | undefined;
  readonly #handshakeHash: Buffer | undefined;
  readonly #writeBufferLimit: number;
  #sawEnd = false;
  // Re-entrancy guard: bytes that arrive while we are inside our own write to the underlying
  // (possible with in-memory pairs, which deliver synchronously) are held until the next tick.
  // Delivering them at once would re-enter the consumer in the middle of its write() call,
  // which node's HTTP/2 session treats as a fatal invariant breach (native assertion
  // "session->is_reading_stopped()" in Http2Session::OnDataChunkReceived).
  #sending = false;
  #deferred: Buffer[] | undefined;
  #deferredEnd = false;
  #flushScheduled = false;
  readonly #onData = (chunk: Buffer | string): void => {
    const buf = typeof chunk === 'string' ? Buffer.from(chunk) : chunk;
    if (this.#sending || this.#deferred !== undefined) {
      (this.#deferred ??= []).push(buf);
      this.#scheduleFlush();
      return;
    }
    this.#reader.write(buf);
  };
  readonly #onEnd = (): void => {
    if (this.#deferred !== undefined) this.#deferredEnd = true;
    else this.#handleEnd();
  };
  readonly #onError = (err: Error): void => {
    this.destroy(err);
  };
  readonly #onClose = (): void => {
    // An abrupt close (no 'end' first) ends us too; after a clean 'end' the reader may still
    // be draining our readable buffer, so leave teardown to autoDestroy.
    if (!this.#sawEnd) this.destroy();
  };

  constructor(underlying: Duplex, options: NoiseStreamOptions) {
    super({ allowHalfOpen: true });
    this.#underlying = underlying;
    this.#tx = options.tx;
    this.#peerPublicKey = options.peerPublicKey;
    this.#protocolVersion = options.protocolVersion;
    this.#handshakeHash = options.handshakeHash;
    this.#writeBufferLimit = options.writeBufferLimit ?? DEFAULT_WRITE_BUFFER_LIMIT;
    this.#reader = new RecordReader(options.rx, {
      onPlaintext: (plaintext) => {
        if (!this.push(plaintext)) this.#underlying.pause();
      },
      onError: (err) => this.destroy(err),
    });
    underlying.on('error', this.#onError);
    if (options.head !== undefined && options.head.length > 0) this.#reader.write(options.head);
    if (this.destroyed) return;
    underlying.on('data', this.#onData);
    underlying.on('end', this.#onEnd);
    underlying.on('close', this.#onClose);
    if (underlying.readableEnded) this.#handleEnd();
    else underlying.resume(); // an upgraded socket may have been paused explicitly
  }

  get peerPublicKey(): Buffer | undefined {
    return this.#peerPublicKey;
  }

  get protocolVersion(): number | undefined {
    return this.#protocolVersion;
  }

  get handshakeHash(): Buffer | undefined {
    return this.#handshakeHash;
  }

  /** The stream this one runs over. */
  get underlying(): Duplex {
    return this.#underlying;
  }

  /** Forwards TCP_NODELAY when the underlying is a socket (no-op otherwise). */
  setNoDelay(noDelay = true): this {
    const u = this.#underlying as Duplex & { setNoDelay?: (v: boolean) => unknown };
    if (typeof u.setNoDelay === 'function') u.setNoDelay(noDelay);
    return this;
  }

  override _read(): void {
    if (this.#underlying.isPaused()) this.#underlying.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    this.#send(chunk, callback);
  }

  override _writev(chunks: Array<{ chunk: Buffer; encoding: BufferEncoding }>, callback: (error?: Error | null) => void): void {
    this.#send(chunks.length === 1 ? chunks[0]!.chunk : Buffer.concat(chunks.map((c) => c.chunk)), callback);
  }

  /** Ends the underlying's writable and finishes once it has flushed (so teardown loses nothing). */
  override _final(callback: (error?: Error | null) => void): void {
    const u = this.#underlying;
    if (u.destroyed || u.writableFinished) {
      callback();
      return;
    }
    let called = false;
    const done = (): void => {
      if (called) return;
      called = true;
      u.off('finish', done);
      u.off('close', done);
      callback();
    };
    u.on('finish', done);
    u.on('close', done);
    if (!u.writableEnded) u.end();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#reader.close();
    const u = this.#underlying;
    u.off('data', this.#onData);
    u.off('end', this.#onEnd);
    u.off('close', this.#onClose);
    u.off('error', this.#onError);
    u.on('error', noop); // late errors from a socket we gave up on must not become uncaught
    if (!u.destroyed) u.destroy();
    callback(err);
  }

  /** Encrypts plaintext into ≤4077-byte records and writes them in one underlying write. */
  #send(plaintext: Buffer, callback: (error?: Error | null) => void): void {
    const u = this.#underlying;
    if (u.destroyed || u.writableEnded) {
      callback(new NoiseError('ERR_NOISE_CLOSED', 'underlying stream is closed'));
      return;
    }
    let wire: Buffer;
    try {
      wire = sealRecords(this.#tx, plaintext);
    } catch (err) {
      callback(err as Error);
      return;
    }
    let flushed: boolean;
    this.#sending = true;
    try {
      flushed = u.write(wire);
    } finally {
      this.#sending = false;
    }
    if (flushed || u.writableLength < this.#writeBufferLimit) {
      callback();
      return;
    }
    // Backpressure: complete the write once the underlying drains (or dies).
    const done = (err?: Error | null): void => {
      u.off('drain', onDrain);
      u.off('close', onClose);
      callback(err);
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new NoiseError('ERR_NOISE_CLOSED', 'underlying stream closed during write'));
    u.on('drain', onDrain);
    u.on('close', onClose);
  }

  #scheduleFlush(): void {
    if (this.#flushScheduled) return;
    this.#flushScheduled = true;
    process.nextTick(() => this.#flushDeferred());
  }

  /** Feeds bytes held by the re-entrancy guard, in arrival order (later arrivals queue behind), then a held 'end'. */
  #flushDeferred(): void {
    this.#flushScheduled = false;
    const held = this.#deferred;
    if (held === undefined) return;
    while (held.length > 0) {
      if (this.destroyed) return;
      this.#reader.write(held.shift()!);
    }
    this.#deferred = undefined;
    if (this.#deferredEnd) {
      this.#deferredEnd = false;
      this.#handleEnd();
    }
  }

  #handleEnd(): void {
    if (this.#sawEnd) return;
    this.#sawEnd = true;
    if (this.#reader.end()) this.push(null);
  }
}
