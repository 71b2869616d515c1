// An in-memory, connected pair of byte streams (what node:stream's duplexPair() does in
// Node >= 22.6), with real back-pressure: a write completes only once the other side has room
// to read it. Closing one side ends and then closes the other, like a TCP hang-up.

import { Duplex } from 'node:stream';

class PairSide extends Duplex {
  peer: PairSide | undefined;
  #pendingWrite: (() => void) | undefined;

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    const peer = this.peer;
    if (!peer || peer.destroyed) return cb(new Error('peer closed'));
    if (peer.push(chunk)) cb();
    else peer.#pendingWrite = () => cb();
  }

  override _read(): void {
    const resume = this.#pendingWrite;
    this.#pendingWrite = undefined;
    resume?.();
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.peer?.push(null);
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    const peer = this.peer;
    this.peer = undefined;
    if (peer && !peer.destroyed) {
      peer.push(null);
      setImmediate(() => peer.destroy());
    }
    cb(err);
  }
}

export function duplexPair(highWaterMark = 16 * 1024): [Duplex, Duplex] {
  const a = new PairSide({ highWaterMark });
  const b = new PairSide({ highWaterMark });
  a.peer = b;
  b.peer = a;
  return [a, b];
}
