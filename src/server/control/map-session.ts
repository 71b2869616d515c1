// One streaming /machine/map response: writes length-prefixed (optionally zstd) MapResponse
// frames, sends a keep-alive after 50 s plus jitter of silence, and bounds what it buffers: a
// client that stops reading is cut off instead of growing memory.

import type { H2ServerStream } from '../../protocol/h2/server-stream.js';
import type { MapSink } from '../../mapper/batcher.js';
import { encodeFrame, keepAliveFrame } from '../../mapper/frames.js';

const KEEP_ALIVE_MS = 50_000;
const KEEP_ALIVE_JITTER_MS = 9_000;
/** Bytes a session may have queued in the transport before it is considered stuck. */
const MAX_BUFFERED_BYTES = 32 << 20;

export class MapSession implements MapSink {
  readonly nodeId: number;
  readonly #stream: H2ServerStream;
  readonly zstd: boolean;
  #timer: NodeJS.Timeout | undefined;
  #lastWriteAt = 0;
  readonly #silenceMs = KEEP_ALIVE_MS + Math.random() * KEEP_ALIVE_JITTER_MS;
  #ended = false;
  readonly #onEnd: () => void;

  constructor(stream: H2ServerStream, nodeId: number, zstd: boolean, onEnd: () => void) {
    this.#stream = stream;
    this.nodeId = nodeId;
    this.zstd = zstd;
    this.#onEnd = onEnd;
    stream.once('close', () => this.#finish());
  }

  get ended(): boolean {
    return this.#ended;
  }

  /** Answers the request and writes the first (full map) frame; false while the stream buffers it. */
  start(firstFrame: Buffer): boolean {
    this.#stream.respond(200, { 'content-type': 'application/octet-stream' });
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
    this.#lastWriteAt = Date.now();
    if (this.#timer === undefined) this.#armKeepAlive(this.#silenceMs);
    return taken;
  }

  /**
   * One timer per session, armed once per silence: a write only notes its time, and the timer,
   * when it fires early, waits out the rest. Re-arming on every write would put ten thousand
   * sessions' distinct delays into the timer heap on every message.
   */
  #armKeepAlive(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      const quiet = Date.now() - this.#lastWriteAt;
      if (quiet >= this.#silenceMs) this.#write(keepAliveFrame(this.zstd));
      else if (!this.#ended) this.#armKeepAlive(this.#silenceMs - quiet);
    }, ms);
    this.#timer.unref();
  }

  end(): void {
    if (this.#ended) return;
    this.#stream.end();
    this.#finish();
  }

  #finish(): void {
    if (this.#ended) return;
    this.#ended = true;
    clearTimeout(this.#timer);
    this.#onEnd();
  }
}
