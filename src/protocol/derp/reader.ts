// The DERP frame reader: turns a byte stream cut into arbitrary chunks into whole frames.
// An explicit state machine, one method per state:
//   header  -> needs 5 bytes: type(1) | length(4, big-endian); checks length <= maxPayload
//   payload -> needs `length` bytes; hands { type, payload } to onFrame, back to header
//   failed  -> terminal; reached on an oversized frame, a handler error or EOF inside a frame
//   ended   -> terminal; EOF on a frame boundary
// It never throws: problems go to onError once, as a DerpError, and the reader stops.
// A frame handler may throw a DerpError to reject a frame; the reader reports it the same way.

import { FRAME_HEADER_LEN, MAX_SEND_PACKET_PAYLOAD } from './frames.js';
import { DerpError } from './errors.js';
import { ByteQueue } from '../../lib/byte-queue.js';

export interface DerpFrame {
  type: number;
  /** Safe to keep after the handler returns: a view of a stream chunk (never reused) or a copy. */
  payload: Buffer;
}

export interface FrameReaderOptions {
  /** Largest payload accepted (default MAX_SEND_PACKET_PAYLOAD = 32 + 64 KiB). */
  maxPayload?: number;
  onFrame(frame: DerpFrame): void;
  onError(err: DerpError): void;
}

export type FrameReaderState = 'header' | 'payload' | 'failed' | 'ended';

export class FrameReader {
  #state: FrameReaderState = 'header';
  readonly #queue = new ByteQueue();
  #type = 0;
  #length = 0;
  #maxPayload: number;
  #paused = false;
  #draining = false;
  #inPush = false;
  #deferred: Buffer[] = [];
  #eof = false;
  readonly #onFrame: (frame: DerpFrame) => void;
  readonly #onError: (err: DerpError) => void;

  constructor(opts: FrameReaderOptions) {
    this.#maxPayload = opts.maxPayload ?? MAX_SEND_PACKET_PAYLOAD;
    this.#onFrame = opts.onFrame;
    this.#onError = opts.onError;
  }

  get state(): FrameReaderState {
    return this.#state;
  }

  /** Bytes received but not yet handed out as frames. */
  get bufferedBytes(): number {
    return this.#queue.length;
  }

  /** Changes the payload limit for frames whose header has not been read yet. */
  setMaxPayload(n: number): void {
    this.#maxPayload = n;
  }

  /**
   * Adds bytes from the stream and delivers every frame they complete. The chunk is kept by
   * reference until consumed and payloads are views into it where a frame lies within one
   * chunk (stream chunks are never reused, so they stay valid), copies where it spans chunks.
   */
  push(chunk: Uint8Array): void {
    if (this.#state === 'failed' || this.#state === 'ended' || this.#eof) return;
    if (chunk.length === 0) return;
    const buf = Buffer.from(chunk.buffer, chunk.byteOffset, chunk.byteLength);
    if (this.#inPush) {
      this.#deferred.push(buf); // pushed from a frame handler: goes after the rest of this chunk
      return;
    }
    if (this.#draining) {
      this.#queue.push(buf); // pushed from a handler during resume(): that loop goes on with it
      return;
    }
    this.#inPush = true;
    try {
      let rest = buf;
      // A frame already begun gets exactly the bytes it lacks, so the rest can be scanned in place.
      while (rest.length > 0 && !this.#paused && (this.#state === 'payload' || (this.#state === 'header' && this.#queue.length > 0))) {
        const need = (this.#state === 'header' ? FRAME_HEADER_LEN : this.#length) - this.#queue.length;
        if (need <= 0 || rest.length < need) break;
        this.#queue.push(rest.subarray(0, need));
        rest = rest.subarray(need);
        this.#drain();
      }
      if (rest.length > 0 && this.#state === 'header' && this.#queue.length === 0 && !this.#paused) rest = rest.subarray(this.#scan(rest));
      if (this.#stopped()) return;
      if (rest.length > 0) this.#queue.push(rest);
      for (const d of this.#deferred) this.#queue.push(d);
      this.#deferred = [];
    } finally {
      this.#inPush = false;
    }
    this.#drain();
  }

  /**
   * The fast path, for bytes starting on a frame boundary with nothing buffered: delivers the
   * whole frames straight from `buf` (no queue bookkeeping) and returns how many bytes it used.
   * Stops at a partial frame, a pause, a failure or anything but the "header" state.
   */
  #scan(buf: Buffer): number {
    let at = 0;
    this.#draining = true; // a resume() from a handler must not run ahead of this chunk
    try {
      while (this.#state === 'header' && !this.#paused && buf.length - at >= FRAME_HEADER_LEN) {
        const type = buf[at]!;
        const length = buf.readUInt32BE(at + 1);
        if (length > this.#maxPayload) return at; // the slow path reports it
        if (buf.length - at - FRAME_HEADER_LEN < length) return at;
        const payload = buf.subarray(at + FRAME_HEADER_LEN, at + FRAME_HEADER_LEN + length);
        at += FRAME_HEADER_LEN + length;
        try {
          this.#onFrame({ type, payload });
        } catch (err) {
          this.#fail(err instanceof DerpError ? err : new DerpError('ERR_DERP_BAD_FRAME', `frame handler failed: ${String(err)}`, { cause: err }));
          return buf.length;
        }
      }
      return at;
    } finally {
      this.#draining = false;
    }
  }

  /** The stream ended. Reports ERR_DERP_TRUNCATED when it ended inside a frame. */
  end(): void {
    if (this.#state === 'failed' || this.#state === 'ended') return;
    this.#eof = true;
    this.#drain();
  }

  /** Stops delivering frames (bytes keep being buffered) until resume(). */
  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    this.#paused = false;
    this.#drain();
  }

  /** Runs state steps while they make progress. Re-entrant calls (from a handler) are no-ops. */
  #drain(): void {
    if (this.#draining) return;
    this.#draining = true;
    try {
      for (;;) {
        if (this.#paused) return;
        let progressed: boolean;
        if (this.#eof && (this.#state === 'header' || this.#state === 'payload') && !this.#hasWholeStep()) {
          this.#atEof();
          return;
        }
        switch (this.#state) {
          case 'header':
            progressed = this.#readHeader();
            break;
          case 'payload':
            progressed = this.#readPayload();
            break;
          default:
            return;
        }
        if (!progressed) return;
      }
    } finally {
      this.#draining = false;
    }
  }

  /** State "header": type(1) | length(4 BE). */
  #readHeader(): boolean {
    if (this.#queue.length < FRAME_HEADER_LEN) return false;
    const hdr = this.#queue.take(FRAME_HEADER_LEN);
    this.#type = hdr[0]!;
    this.#length = hdr.readUInt32BE(1);
    if (this.#length > this.#maxPayload) {
      this.#fail(
        new DerpError(
          'ERR_DERP_FRAME_TOO_LARGE',
          `frame type 0x${this.#type.toString(16)} announces ${this.#length} bytes, limit ${this.#maxPayload}`,
        ),
      );
      return false;
    }
    this.#state = 'payload';
    return true;
  }

  /** State "payload": `length` bytes, then deliver and go back to "header". */
  #readPayload(): boolean {
    if (this.#queue.length < this.#length) return false;
    const frame: DerpFrame = { type: this.#type, payload: this.#queue.take(this.#length) };
    this.#state = 'header';
    try {
      this.#onFrame(frame);
    } catch (err) {
      const e = err instanceof DerpError ? err : new DerpError('ERR_DERP_BAD_FRAME', `frame handler failed: ${String(err)}`, { cause: err });
      this.#fail(e);
      return false;
    }
    return this.#state === 'header';
  }

  /** In a terminal state (a frame handler may have failed or ended the reader). */
  #stopped(): boolean {
    return this.#state === 'failed' || this.#state === 'ended';
  }

  /** Whether the current state has enough bytes to make progress. */
  #hasWholeStep(): boolean {
    return this.#state === 'header' ? this.#queue.length >= FRAME_HEADER_LEN : this.#queue.length >= this.#length;
  }

  /** EOF with nothing more to deliver: a clean end on a frame boundary, else truncation. */
  #atEof(): void {
    if (this.#state === 'payload' || this.#queue.length > 0) {
      this.#fail(new DerpError('ERR_DERP_TRUNCATED', `stream ended inside a frame (${this.#queue.length} bytes pending)`));
      return;
    }
    this.#state = 'ended';
  }

  /** Terminal state "failed": drop buffers, report once. */
  #fail(err: DerpError): void {
    this.#state = 'failed';
    this.#queue.clear();
    this.#deferred = [];
    this.#onError(err);
  }
}
