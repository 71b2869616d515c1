// Bytes received in arbitrary chunks, taken out in exact amounts: the buffer behind every
// incremental parser (Noise records, WebSocket frames). Copies only when a take spans chunks.

export class ByteQueue {
  #chunks: Buffer[] = [];
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
    this.#length -= n;
    const first = this.#chunks[0];
    if (n === 0 || !first) return Buffer.alloc(0);
    if (n === first.length) {
      this.#chunks.shift();
      return first;
    }
    if (n < first.length) {
      this.#chunks[0] = first.subarray(n);
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let offset = 0;
    while (offset < n) {
      const c = this.#chunks[0]!;
      const part = Math.min(c.length, n - offset);
      c.copy(out, offset, 0, part);
      offset += part;
      if (part === c.length) this.#chunks.shift();
      else this.#chunks[0] = c.subarray(part);
    }
    return out;
  }

  clear(): void {
    this.#chunks = [];
    this.#length = 0;
  }
}
