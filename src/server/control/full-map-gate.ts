// Bounds how many full maps are being written at once. A full map of ten thousand peers is
// about a megabyte and a half; when every node reconnects at once (a server restart), writing
// them all immediately would queue gigabytes for clients that read slower than we build. Here a
// full map is built only when a slot is free, and its slot is held until the HTTP/2 stream has
// taken the frame (its 'drain', or its end), so memory in flight stays near SLOTS × map size.
// Waiting requests are served in arrival order; a stream closed while waiting gives up its turn.

import type { H2ServerStream } from '../../protocol/h2/server-stream.js';

export class FullMapGate {
  readonly #slots: number;
  #busy = 0;
  readonly #waiting: Array<() => void> = [];

  constructor(slots: number) {
    this.#slots = Math.max(1, slots);
  }

  get waiting(): number {
    return this.#waiting.length;
  }

  /** Resolves true when this stream may build and write its full map, false if it closed meanwhile. */
  async enter(stream: H2ServerStream): Promise<boolean> {
    if (this.#busy < this.#slots) {
      this.#busy++;
      return true;
    }
    await new Promise<void>((resolve) => this.#waiting.push(resolve));
    if (stream.closed) {
      this.#release();
      return false;
    }
    return true;
  }

  /** Frees the slot now if the stream took the frame (`written`), else once it drains or closes. */
  hold(stream: H2ServerStream, written: boolean): void {
    if (written || stream.closed) {
      this.#release();
      return;
    }
    let done = false;
    const release = (): void => {
      if (done) return;
      done = true;
      stream.off('drain', release);
      stream.off('close', release);
      this.#release();
    };
    stream.on('drain', release);
    stream.on('close', release);
  }

  #release(): void {
    const next = this.#waiting.shift();
    if (next) next(); // the slot passes straight on
    else this.#busy--;
  }
}
