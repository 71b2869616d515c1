// Bytes received in arbitrary chunks, taken out in exact amounts: the buffer behind every
// incremental parser (Noise records, WebSocket frames, DERP frames). Copies only when a take
// spans chunks; consumed chunk slots are dropped by index, so even 1-byte chunking stays linear.

export class ByteQueue {
  #chunks: Buffer[] = [];
  #head = 0; // index of the first live chunk
  #length = 0;

  get length(): number {
    return this.#length;
  }

  push(chunk: Buffer): void {
    if (chunk.length === 0) return;
    this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /** Removes and returns exactly n bytes; n must not exceed `length`. */
  take(n: number): Buffer {
    if (n > this.#length) throw new RangeError(`take(${n}) with ${this.#length} bytes queued`);
    if (n === 0) return Buffer.alloc(0);
    this.#length -= n;
    const first = this.#chunks[this.#head]!;
    let out: Buffer;
    if (n <= first.length) {
      out = first.subarray(0, n);
      if (n === first.length) this.#head++;
      else this.#chunks[this.#head] = first.subarray(n);
    } else {
      out = Buffer.allocUnsafe(n);
      let offset = 0;
      while (offset < n) {
        const c = this.#chunks[this.#head]!;
        const part = Math.min(c.length, n - offset);
        c.copy(out, offset, 0, part);
        offset += part;
        if (part === c.length) this.#head++;
        else this.#chunks[this.#head] = c.subarray(part);
      }
    }
    this.#compact();
    return out;
  }

  clear(): void {
    this.#chunks = [];
    this.#head = 0;
    this.#length = 0;
  }

  #compact(): void {
    if (this.#head === this.#chunks.length) this.clear();
    else if (this.#head > 1024) {
      this.#chunks = this.#chunks.slice(this.#head);
      this.#head = 0;
    }
  }
}
