// A bounded FIFO for one DERP client's outgoing packets: a fixed-size ring that, when full,
// drops its oldest entry to make room (fresher packets matter more to WireGuard and disco),
// so a slow reader costs at most `capacity` queued packets of memory.

export class DropOldestQueue<T> {
  readonly capacity: number;
  #items: (T | undefined)[];
  #head = 0;
  #size = 0;

  constructor(capacity: number) {
    if (!Number.isInteger(capacity) || capacity < 1) throw new RangeError(`queue capacity must be a positive integer, got ${capacity}`);
    this.capacity = capacity;
    this.#items = new Array<T | undefined>(capacity);
  }

  get length(): number {
    return this.#size;
  }

  /** Appends item; returns the entry dropped to make room, if the queue was full. */
  push(item: T): T | undefined {
    let dropped: T | undefined;
    if (this.#size === this.capacity) dropped = this.shift();
    this.#items[(this.#head + this.#size) % this.capacity] = item;
    this.#size++;
    return dropped;
  }

  shift(): T | undefined {
    if (this.#size === 0) return undefined;
    const item = this.#items[this.#head];
    this.#items[this.#head] = undefined;
    this.#head = (this.#head + 1) % this.capacity;
    this.#size--;
    return item;
  }

  clear(): T[] {
    const all: T[] = [];
    for (let item = this.shift(); item !== undefined; item = this.shift()) all.push(item);
    return all;
  }
}
