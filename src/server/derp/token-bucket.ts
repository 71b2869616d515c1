// A token bucket for DERP's optional per-client receive rate limit (bytes per second with a
// burst), in the style of Go's rate.Limiter.ReserveN: taking more than is available is allowed,
// and the caller is told how long to wait before reading again.

export class TokenBucket {
  readonly ratePerSecond: number;
  readonly burst: number;
  #tokens: number;
  #last: number;
  readonly #now: () => number;

  constructor(ratePerSecond: number, burst: number, now: () => number = () => performance.now()) {
    if (!(ratePerSecond > 0) || !(burst > 0)) throw new RangeError('token bucket rate and burst must be positive');
    this.ratePerSecond = ratePerSecond;
    this.burst = burst;
    this.#tokens = burst;
    this.#now = now;
    this.#last = now();
  }

  #refill(): void {
    const t = this.#now();
    this.#tokens = Math.min(this.burst, this.#tokens + ((t - this.#last) / 1000) * this.ratePerSecond);
    this.#last = t;
  }

  /** Takes n tokens (n is clamped to the burst); returns the milliseconds to wait (0 = none). */
  take(n: number): number {
    this.#refill();
    this.#tokens -= Math.min(n, this.burst);
    return this.#tokens >= 0 ? 0 : (-this.#tokens / this.ratePerSecond) * 1000;
  }

  /** Takes one token if available without going into debt (for "at most 1/s, burst 3"). */
  allow(): boolean {
    this.#refill();
    if (this.#tokens < 1) return false;
    this.#tokens -= 1;
    return true;
  }
}
