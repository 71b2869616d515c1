// One streaming /machine/map response: writes length-prefixed (optionally zstd) MapResponse
// frames, sends a keep-alive after 50 s plus jitter of silence, and bounds what it buffers: a
// client that stops reading is cut off instead of growing memory.

import type http2 from 'node:http2';
import type { MapSink } from '../../mapper/batcher.js';
import { encodeFrame, keepAliveFrame } from '../../mapper/frames.js';

const KEEP_ALIVE_MS = 50_000;
const KEEP_ALIVE_JITTER_MS = 9_000;
/** Bytes a session may have queued in the transport before it is considered stuck. */
const MAX_BUFFERED_BYTES = 32 << 20;

export class MapSession implements MapSink {
  readonly nodeId: number;
  readonly #stream: http2.ServerHttp2Stream;
  readonly zstd: boolean;
  #timer: NodeJS.Timeout | undefined;
  #ended = false;
  readonly #onEnd: () => void;

  constructor(stream: http2.ServerHttp2Stream, nodeId: number, zstd: boolean, onEnd: () => void) {
    this.#stream = stream;
    this.nodeId = nodeId;
    this.zstd = zstd;
    this.#onEnd = onEnd;
    stream.once('close', () => this.#finish());
    stream.on('error', () => this.#finish());
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Answers the request and writes the first (full map) frame; false while the stream buffers it. */
  start(firstFrame: Buffer): boolean {
    this.#stream.respond({ ':status': 200, 'content-type': 'application/octet-stream' });
    return this.#write(firstFrame);
  }

  send(json: string): void {
    this.#write(encodeFrame(json, this.zstd));
  }

  sendFrame(frame: Buffer): void {
    this.#write(frame);
  }

  #write(frame: Buffer): boolean {
    if (this.#ended) return true;
    if (this.#stream.writableLength > MAX_BUFFERED_BYTES) {
      this.end();
      return true;
    }
    const taken = this.#stream.write(frame);
    this.#armKeepAlive();
    return taken;
  }

  #armKeepAlive(): void {
    clearTimeout(this.#timer);
    this.#timer = setTimeout(() => this.#write(keepAliveFrame(this.zstd)), KEEP_ALIVE_MS + Math.random() * KEEP_ALIVE_JITTER_MS);
    this.#timer.unref();
  }

  end(): void {
    if (this.#ended) return;
    if (!this.#stream.destroyed) this.#stream.end();
    this.#finish();
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#onEnd();
  }
}
