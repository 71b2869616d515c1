// The DERP relay core, independent of HTTP: accepts already-upgraded byte streams, keeps the
// registry of connected node keys, routes SendPacket -> RecvPacket by destination key, and
// sends PeerGone to receivers when a sender's last connection leaves.
//
// Duplicate connections for one key (as Tailscale's server): all stay open and are read, the
// newest is active, and afterwards whichever most recently sent a frame is active; only the
// active one receives packets. PeerGone(Disconnected) goes out when the key's last one closes.

import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import { KEEP_ALIVE_MS, KEY_LEN } from '../../protocol/derp/frames.js';
import { x25519PublicKey } from '../../protocol/derp/nacl-box.js';
import { DerpError } from '../../protocol/derp/errors.js';
import type { ClientInfo } from '../../protocol/derp/info.js';
import { PeerGoneReason } from '../../protocol/derp/frames.js';
import { ClientConn, type ConnHost, type ConnSettings } from './client-conn.js';
import { newCounters, type DerpCounters } from './counters.js';

export interface DerpServerOptions {
  /** The server's long-term 32-byte X25519 private key (Tailscale "privkey:"). */
  privateKey: Buffer;
  /** Admission check (derp.server.verify_clients): false, a throw or a rejection refuses. */
  verifyClient?: (nodePublicKey: Buffer, info: ClientInfo & { remoteAddress?: string }) => boolean | Promise<boolean>;
  /** KeepAlive period (default 60 s) plus a random 0..jitter per connection (default 5 s). */
  keepAliveMs?: number;
  keepAliveJitterMs?: number;
  /** ServerKey -> ClientInfo -> admission deadline (default 10 s). */
  handshakeTimeoutMs?: number;
  /** A connection whose writes stay blocked this long is closed (default 2 s; 0 = never). */
  writeTimeoutMs?: number;
  /** Per-client queue depth, separately for disco and other packets (default 32). */
  sendQueueDepth?: number;
  /** Optional per-client receive limit, enforced and announced in ServerInfo. */
  rateLimit?: { bytesPerSecond: number; burst: number };
}

export interface AcceptOptions {
  /** Called once when the connection ends; err is undefined for a normal hang-up. */
  onClose?: (err: DerpError | undefined) => void;
  remoteAddress?: string;
}

export interface DerpClientStats {
  key: string;
  remoteAddress: string | undefined;
  active: boolean;
  preferred: boolean;
  queuedPackets: number;
  bufferedBytes: number;
}

interface KeySet {
  conns: ClientConn[]; // in registration order
  active: ClientConn;
}

export class DerpServer {
  readonly publicKey: Buffer;
  readonly #privateKey: Buffer;
  readonly #opts: DerpServerOptions;
  readonly #settings: ConnSettings;
  readonly #counters: DerpCounters = newCounters();
  readonly #all = new Set<ClientConn>();
  readonly #clients = new Map<string, KeySet>();
  readonly #peerGoneWatchers = new Map<string, Set<ClientConn>>(); // sender key hex -> receivers
  readonly #host: ConnHost;
  #closed = false;
  /** Bumped whenever a key joins or leaves #clients: invalidates every routeCache. */
  #epoch = 0;

  constructor(opts: DerpServerOptions) {
    if (opts.privateKey.length !== KEY_LEN) throw new RangeError('DERP private key must be 32 bytes');
    this.#opts = opts;
    this.#privateKey = Buffer.from(opts.privateKey);
    this.publicKey = x25519PublicKey(this.#privateKey);
    this.#settings = {
      keepAliveMs: opts.keepAliveMs ?? KEEP_ALIVE_MS,
      keepAliveJitterMs: opts.keepAliveJitterMs ?? 5000,
      handshakeTimeoutMs: opts.handshakeTimeoutMs ?? 10_000,
      writeTimeoutMs: opts.writeTimeoutMs ?? 2000,
      sendQueueDepth: opts.sendQueueDepth ?? 32,
      rateLimit: opts.rateLimit && opts.rateLimit.bytesPerSecond > 0 ? opts.rateLimit : undefined,
    };
    this.#host = this.#makeHost();
  }

  /** A snapshot of the counters. */
  get counters(): Readonly<DerpCounters> {
    return { ...this.#counters };
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Whether a client with this 32-byte key is connected and past the handshake. */
  isConnected(key: Uint8Array): boolean {
    return this.#clients.has(Buffer.from(key).toString('hex'));
  }

  clientStats(): DerpClientStats[] {
    const out: DerpClientStats[] = [];
    for (const set of this.#clients.values()) {
      for (const c of set.conns) {
        out.push({
          key: c.keyHex,
          remoteAddress: c.remoteAddress,
          active: set.active === c,
          preferred: c.preferred,
          queuedPackets: c.queuedPackets,
          bufferedBytes: c.bufferedBytes,
        });
      }
    }
    return out;
  }

  /**
   * Serves one already-upgraded connection (after the HTTP 101, or a raw test stream):
   * writes ServerKey at once, then runs the handshake and the relay until it closes.
   */
  accept(duplex: Duplex, opts: AcceptOptions = {}): void {
    if (this.#closed) {
      duplex.destroy();
      opts.onClose?.(new DerpError('ERR_DERP_CLOSED', 'DERP server is closed'));
      return;
    }
    this.#counters.connectionsAccepted++;
    const conn = new ClientConn(this.#host, duplex, {
      ...(opts.remoteAddress !== undefined ? { remoteAddress: opts.remoteAddress } : {}),
      onClose: (err) => {
        this.#all.delete(conn);
        opts.onClose?.(err);
      },
    });
    this.#all.add(conn);
    conn.start();
  }

  /** Closes every connection and refuses new ones. */
  close(): void {
    this.#closed = true;
    for (const c of [...this.#all]) c.close(new DerpError('ERR_DERP_CLOSED', 'DERP server is closing'));
  }

  #makeHost(): ConnHost {
    return {
      privateKey: this.#privateKey,
      publicKey: this.publicKey,
      counters: this.#counters,
      settings: this.#settings,
      admit: (conn, info) => this.#admit(conn, info),
      register: (conn) => this.#register(conn),
      unregister: (conn) => this.#unregister(conn),
      noteActivity: (conn) => this.#noteActivity(conn),
      route: (from, payload) => this.#route(from, payload),
      watchPeer: (src, conn) => this.#watchPeer(src, conn),
      unwatchPeer: (src, conn) => this.#unwatchPeer(src, conn),
    };
  }

  async #admit(conn: ClientConn, info: ClientInfo): Promise<boolean> {
    if (this.#closed) return false;
    const verify = this.#opts.verifyClient;
    if (!verify) return true;
    const extra = conn.remoteAddress !== undefined ? { remoteAddress: conn.remoteAddress } : {};
    return (await verify(Buffer.from(conn.key), { ...info, ...extra })) === true;
  }

  #register(conn: ClientConn): void {
    this.#counters.connectionsCurrent++;
    const set = this.#clients.get(conn.keyHex);
    if (!set) {
      this.#clients.set(conn.keyHex, { conns: [conn], active: conn });
      this.#epoch++;
      this.#counters.clientKeysCurrent++;
      return;
    }
    set.conns.push(conn);
    set.active = conn; // the newest connection wins
    this.#counters.duplicateConnections++;
  }

  #unregister(conn: ClientConn): void {
    this.#counters.connectionsCurrent--;
    const set = this.#clients.get(conn.keyHex);
    if (!set) return;
    set.conns = set.conns.filter((c) => c !== conn);
    if (set.conns.length > 0) {
      if (set.active === conn) set.active = set.conns[set.conns.length - 1]!;
      return;
    }
    this.#clients.delete(conn.keyHex);
    this.#epoch++;
    this.#counters.clientKeysCurrent--;
    // The key's last connection left: tell everyone it sent packets to.
    const watchers = this.#peerGoneWatchers.get(conn.keyHex);
    this.#peerGoneWatchers.delete(conn.keyHex);
    for (const w of watchers ?? []) {
      w.forgetSource(conn.keyHex);
      w.enqueuePeerGone(conn.key, PeerGoneReason.Disconnected);
    }
  }

  /** "Last writer is active" among duplicates. */
  #noteActivity(conn: ClientConn): void {
    const set = this.#clients.get(conn.keyHex);
    if (set && set.conns.length > 1) set.active = conn;
  }

  /** `payload`: destination key(32) + packet, as SendPacket carried it. */
  #route(from: ClientConn, payload: Buffer): void {
    // A sender mostly talks to the same peer: remember its last lookup (a KeySet stays the
    // key's entry until the key leaves, and any join or leave bumps the epoch).
    const cache = from.routeCache;
    let set: KeySet | undefined;
    if (cache.epoch === this.#epoch && sameKey(cache.dst, payload)) {
      set = cache.target as KeySet | undefined;
    } else {
      set = this.#clients.get(payload.toString('hex', 0, KEY_LEN));
      cache.dst.set(payload.subarray(0, KEY_LEN));
      cache.target = set;
      cache.epoch = this.#epoch;
    }
    if (!set) {
      this.#counters.packetsDropped++;
      this.#counters.dropsUnknownDest++;
      from.replyNotHere(Buffer.from(payload.subarray(0, KEY_LEN)), payload.subarray(KEY_LEN));
      return;
    }
    set.active.enqueuePacket(from, payload);
  }

  #watchPeer(src: string, conn: ClientConn): void {
    if (!this.#clients.has(src)) {
      // The sender already left before its packet was written: report it right away.
      conn.forgetSource(src);
      conn.enqueuePeerGone(Buffer.from(src, 'hex'), PeerGoneReason.Disconnected);
      return;
    }
    let set = this.#peerGoneWatchers.get(src);
    if (!set) this.#peerGoneWatchers.set(src, (set = new Set()));
    set.add(conn);
  }

  #unwatchPeer(src: string, conn: ClientConn): void {
    const set = this.#peerGoneWatchers.get(src);
    if (!set) return;
    set.delete(conn);
    if (set.size === 0) this.#peerGoneWatchers.delete(src);
  }
}

/** Whether the first KEY_LEN bytes of a and b are equal. */
function sameKey(a: Uint8Array, b: Uint8Array): boolean {
  for (let i = 0; i < KEY_LEN; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** A fresh random DERP server key (for tests; production keys live in a key file). */
export function randomDerpPrivateKey(): Buffer {
  return crypto.randomBytes(KEY_LEN);
}
