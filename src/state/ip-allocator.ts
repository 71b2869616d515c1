// Hands out tailnet addresses from `prefixes.v4` and `prefixes.v6`: at most one of each family
// per node, never an address in use or reserved, sequentially (from the last one handed out,
// never wrapping) or at random (a random start, then forward, wrapping once).

import crypto from 'node:crypto';
import { SwitchboardError } from '../lib/errors.js';
import { formatIp, parseIp, parsePrefix, prefixContains, prefixSize, type Prefix } from '../lib/ip.js';

export type Allocation = 'sequential' | 'random';

/** Addresses Tailscale itself uses and that no node may have. */
const RESERVED: Array<[4 | 6, string]> = [
  [4, '100.100.100.100'], // MagicDNS resolver
  [6, 'fd7a:115c:a1e0::53'], // the same resolver over IPv6
];
const CHROMEOS_VM_RANGE = parsePrefix('100.115.92.0/23') as Prefix;

class Pool {
  readonly #prefix: Prefix;
  readonly #allocation: Allocation;
  readonly #used = new Set<bigint>();
  #next: bigint;

  constructor(prefix: Prefix, allocation: Allocation) {
    this.#prefix = prefix;
    this.#allocation = allocation;
    this.#next = prefix.base + 1n;
  }

  markUsed(value: bigint): void {
    this.#used.add(value);
  }

  release(value: bigint): void {
    this.#used.delete(value);
  }

  #usable(value: bigint): boolean {
    const p = this.#prefix;
    if (value <= p.base || value >= p.base + prefixSize(p) - 1n) return false; // network, broadcast
    if (this.#used.has(value)) return false;
    if (p.family === 4 && prefixContains(CHROMEOS_VM_RANGE, 4, value)) return false;
    return !RESERVED.some(([f, ip]) => f === p.family && parseIp(ip)?.value === value);
  }

  take(): bigint | undefined {
    const p = this.#prefix;
    const end = p.base + prefixSize(p);
    if (this.#allocation === 'sequential') {
      for (let v = this.#next; v < end; v++) {
        if (this.#usable(v)) {
          this.#used.add(v);
          this.#next = v + 1n;
          return v;
        }
      }
      return undefined;
    }
    const size = prefixSize(p);
    const start = p.base + (BigInt('0x' + crypto.randomBytes(16).toString('hex')) % size);
    // Scan forward from a random start, wrapping once; bounded so a full pool ends the search.
    const limit = size < 1_000_000n ? size : 1_000_000n;
    for (let i = 0n; i < limit; i++) {
      const v = p.base + ((start - p.base + i) % size);
      if (this.#usable(v)) {
        this.#used.add(v);
        return v;
      }
    }
    return undefined;
  }
}

export class IpAllocator {
  readonly #pools = new Map<4 | 6, Pool>();

  constructor(prefixes: { v4: string; v6: string }, allocation: Allocation, inUse: Array<string | null>) {
    for (const text of [prefixes.v4, prefixes.v6]) {
      if (!text) continue;
      const prefix = parsePrefix(text);
      if (!prefix) throw new SwitchboardError('ERR_CONFIG_INVALID', `prefix "${text}" is not a CIDR prefix`);
      this.#pools.set(prefix.family, new Pool(prefix, allocation));
    }
    for (const ip of inUse) if (ip) this.#mark(ip);
  }

  #mark(ip: string): void {
    const parsed = parseIp(ip);
    if (parsed) this.#pools.get(parsed.family)?.markUsed(parsed.value);
  }

  /** One new address per configured family; throws when a pool is exhausted. */
  allocate(): { ipv4: string | null; ipv6: string | null } {
    const out: { ipv4: string | null; ipv6: string | null } = { ipv4: null, ipv6: null };
    for (const [family, pool] of this.#pools) {
      const v = pool.take();
      if (v === undefined) {
        this.release(out);
        throw new SwitchboardError('ERR_INTERNAL', `no free IPv${family} address left in the configured prefix`);
      }
      if (family === 4) out.ipv4 = formatIp(4, v);
      else out.ipv6 = formatIp(6, v);
    }
    return out;
  }

  release(ips: { ipv4: string | null; ipv6: string | null }): void {
    for (const ip of [ips.ipv4, ips.ipv6]) {
      const parsed = ip ? parseIp(ip) : undefined;
      if (parsed) this.#pools.get(parsed.family)?.release(parsed.value);
    }
  }
}
