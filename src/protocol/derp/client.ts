// A small DERP client over any already-upgraded byte stream (TCP, TLS, WebSocket, in-memory):
// the client half of the handshake (ServerKey -> ClientInfo -> ServerInfo), sending and
// receiving packets, ping/pong, NotePreferred. Used by the tests and by diagnostics; the
// Tailscale client itself is Go.

import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import {
  FrameType,
  KEY_LEN,
  MAX_INFO_LEN,
  MAX_SERVER_KEY_LEN,
  PING_LEN,
  PROTOCOL_VERSION,
  encodeFrame,
  notePreferredFrame,
  pingFrame,
  pongFrame,
  sendPacketFrame,
} from './frames.js';
import { FrameReader, type DerpFrame } from './reader.js';
import { openServerInfo, parseServerKeyPayload, sealClientInfo, type ClientInfo, type ServerInfo } from './info.js';
import { x25519PublicKey } from './nacl-box.js';
import { DerpError } from './errors.js';

export type DerpMessage =
  | { type: 'packet'; source: Buffer; data: Buffer }
  | { type: 'peerGone'; peer: Buffer; reason: number }
  | { type: 'keepAlive' }
  | { type: 'pong'; data: Buffer }
  | { type: 'health'; problem: string }
  | { type: 'restarting'; reconnectInMs: number; tryForMs: number }
  | { type: 'other'; frameType: number; payload: Buffer };

export interface DerpClientOptions {
  privateKey: Buffer;
  /** Sent in ClientInfo; also makes the client answer server Pings (default true). */
  canAckPings?: boolean;
  appName?: string;
  isProber?: boolean;
  meshKey?: string;
  /** From the start to ServerInfo (default 10 s, as the Go client's connect timeout). */
  handshakeTimeoutMs?: number;
  /** Received messages kept for next(); the oldest is dropped beyond this (default 4096). */
  maxQueued?: number;
}

type Phase = 'awaitServerKey' | 'awaitServerInfo' | 'running' | 'closed';

export class DerpClient {
  readonly publicKey: Buffer;
  #serverPublicKey: Buffer | undefined;
  #serverInfo: ServerInfo | undefined;
  readonly #privateKey: Buffer;
  readonly #duplex: Duplex;
  readonly #reader: FrameReader;
  readonly #opts: DerpClientOptions;
  #phase: Phase = 'awaitServerKey';
  #queue: DerpMessage[] = [];
  #waiters: { type: DerpMessage['type'] | undefined; resolve: (m: DerpMessage) => void; reject: (e: Error) => void }[] = [];
  #pings = new Map<string, () => void>();
  #closeError: Error | undefined;
  #handshake: { resolve: () => void; reject: (e: Error) => void } | undefined;
  #dropped = 0;
  readonly closed: Promise<Error | undefined>;
  #markClosed!: (e: Error | undefined) => void;

  private constructor(duplex: Duplex, opts: DerpClientOptions) {
    this.#duplex = duplex;
    this.#opts = opts;
    this.#privateKey = opts.privateKey;
    this.publicKey = x25519PublicKey(opts.privateKey);
    this.closed = new Promise((resolve) => (this.#markClosed = resolve));
    // Frames up to 1 MiB are accepted, as the Go client does; bigger ones are fatal.
    this.#reader = new FrameReader({
      maxPayload: MAX_INFO_LEN,
      onFrame: (f) => this.#onFrame(f),
      onError: (e) => this.#shutdown(e),
    });
    duplex.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    duplex.on('end', () => {
      this.#reader.end(); // a truncated frame reports itself through onError
      this.#shutdown(undefined);
    });
    duplex.on('error', (err: Error) => this.#shutdown(new DerpError('ERR_DERP_CLOSED', `connection error: ${err.message}`, { cause: err })));
    duplex.on('close', () => this.#shutdown(undefined));
  }

  /** Runs the client handshake on `duplex`; resolves once the server's ServerInfo arrived. */
  static connect(duplex: Duplex, opts: DerpClientOptions): Promise<DerpClient> {
    const client = new DerpClient(duplex, opts);
    return new Promise<DerpClient>((resolve, reject) => {
      const timer = setTimeout(
        () => client.#shutdown(new DerpError('ERR_DERP_TIMEOUT', 'DERP handshake timed out')),
        opts.handshakeTimeoutMs ?? 10_000,
      );
      client.#handshake = {
        resolve: () => {
          clearTimeout(timer);
          resolve(client);
        },
        reject: (e) => {
          clearTimeout(timer);
          reject(e);
        },
      };
    });
  }

  get serverPublicKey(): Buffer {
    return this.#serverPublicKey ?? Buffer.alloc(KEY_LEN);
  }

  get serverInfo(): ServerInfo | undefined {
    return this.#serverInfo;
  }

  get isClosed(): boolean {
    return this.#phase === 'closed';
  }

  /** Messages dropped because nobody read them (queue above maxQueued). */
  get droppedMessages(): number {
    return this.#dropped;
  }

  /** Relays `packet` to `dst` through the server. Returns the stream's write() verdict. */
  send(dst: Uint8Array, packet: Uint8Array): boolean {
    return this.#write(sendPacketFrame(dst, packet));
  }

  notePreferred(preferred: boolean): boolean {
    return this.#write(notePreferredFrame(preferred));
  }

  /** Sends a Ping and resolves with the round-trip time in milliseconds when the Pong arrives. */
  ping(timeoutMs = 3000): Promise<number> {
    const data = crypto.randomBytes(PING_LEN);
    const started = performance.now();
    return new Promise<number>((resolve, reject) => {
      const key = data.toString('hex');
      const timer = setTimeout(() => {
        this.#pings.delete(key);
        reject(new DerpError('ERR_DERP_TIMEOUT', `no pong within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#pings.set(key, () => {
        clearTimeout(timer);
        resolve(performance.now() - started);
      });
      if (!this.#write(pingFrame(data)) && this.#phase === 'closed') {
        clearTimeout(timer);
        this.#pings.delete(key);
        reject(this.#closeError ?? new DerpError('ERR_DERP_CLOSED', 'connection closed'));
      }
    });
  }

  /**
   * The next received message (of `type`, if given; others stay queued), waiting up to
   * timeoutMs. Rejects with ERR_DERP_CLOSED once the connection is gone and nothing matches.
   */
  next<T extends DerpMessage['type']>(type?: T, timeoutMs = 5000): Promise<Extract<DerpMessage, { type: T }>> {
    const i = this.#queue.findIndex((m) => type === undefined || m.type === type);
    if (i >= 0) return Promise.resolve(this.#queue.splice(i, 1)[0] as Extract<DerpMessage, { type: T }>);
    if (this.#phase === 'closed') return Promise.reject(this.#closeError ?? new DerpError('ERR_DERP_CLOSED', 'connection closed'));
    return new Promise((resolve, reject) => {
      const waiter = {
        type,
        resolve: (m: DerpMessage) => {
          clearTimeout(timer);
          resolve(m as Extract<DerpMessage, { type: T }>);
        },
        reject: (e: Error) => {
          clearTimeout(timer);
          reject(e);
        },
      };
      const timer = setTimeout(() => {
        this.#waiters = this.#waiters.filter((w) => w !== waiter);
        reject(new DerpError('ERR_DERP_TIMEOUT', `no ${type ?? 'message'} within ${timeoutMs} ms`));
      }, timeoutMs);
      this.#waiters.push(waiter);
    });
  }

  /** Closes the connection. */
  close(): void {
    this.#duplex.destroy();
    this.#shutdown(undefined);
  }

  #write(frame: Buffer): boolean {
    if (this.#phase === 'closed' || this.#duplex.destroyed) return false;
    return this.#duplex.write(frame);
  }

  #onFrame(f: DerpFrame): void {
    switch (this.#phase) {
      case 'awaitServerKey':
        return this.#onServerKey(f);
      case 'awaitServerInfo':
        if (f.type === FrameType.ServerInfo) return this.#onServerInfo(f);
        return this.#onSteadyFrame(f);
      case 'running':
        if (f.type === FrameType.ServerInfo) return; // only the first one counts
        return this.#onSteadyFrame(f);
      default:
        return;
    }
  }

  #onServerKey(f: DerpFrame): void {
    if (f.type !== FrameType.ServerKey) throw new DerpError('ERR_DERP_HANDSHAKE', `expected ServerKey, got frame type 0x${f.type.toString(16)}`);
    if (f.payload.length > MAX_SERVER_KEY_LEN) throw new DerpError('ERR_DERP_HANDSHAKE', 'ServerKey frame too long');
    this.#serverPublicKey = parseServerKeyPayload(f.payload);
    const info: ClientInfo = { version: PROTOCOL_VERSION, CanAckPings: this.#opts.canAckPings ?? true };
    if (this.#opts.appName) info.AppName = this.#opts.appName;
    if (this.#opts.isProber) info.IsProber = true;
    if (this.#opts.meshKey) info.meshKey = this.#opts.meshKey;
    this.#phase = 'awaitServerInfo';
    this.#write(encodeFrame(FrameType.ClientInfo, sealClientInfo(info, this.#privateKey, this.publicKey, this.#serverPublicKey)));
  }

  #onServerInfo(f: DerpFrame): void {
    this.#serverInfo = openServerInfo(f.payload, this.#privateKey, this.serverPublicKey);
    this.#phase = 'running';
    this.#handshake?.resolve();
    this.#handshake = undefined;
  }

  /** Steady-state frames; short or malformed ones are dropped, as the Go client does. */
  #onSteadyFrame(f: DerpFrame): void {
    const p = f.payload;
    switch (f.type) {
      case FrameType.RecvPacket: // src key(32) + packet
        if (p.length >= KEY_LEN) this.#deliver({ type: 'packet', source: p.subarray(0, KEY_LEN), data: p.subarray(KEY_LEN) });
        return;
      case FrameType.PeerGone: // key(32) [+ reason(1); absent = disconnected]
        if (p.length >= KEY_LEN) this.#deliver({ type: 'peerGone', peer: p.subarray(0, KEY_LEN), reason: p.length > KEY_LEN ? p[KEY_LEN]! : 0 });
        return;
      case FrameType.KeepAlive:
        return this.#deliver({ type: 'keepAlive' });
      case FrameType.Ping: // 8 bytes, answered at once
        if (p.length >= PING_LEN && (this.#opts.canAckPings ?? true)) this.#write(pongFrame(p.subarray(0, PING_LEN)));
        return;
      case FrameType.Pong: {
        if (p.length < PING_LEN) return;
        const data = p.subarray(0, PING_LEN);
        const done = this.#pings.get(data.toString('hex'));
        if (done) {
          this.#pings.delete(data.toString('hex'));
          return done();
        }
        return this.#deliver({ type: 'pong', data });
      }
      case FrameType.Health:
        return this.#deliver({ type: 'health', problem: p.toString('utf8') });
      case FrameType.Restarting: // reconnect-in ms(4 BE) + try-for ms(4 BE)
        if (p.length >= 8) this.#deliver({ type: 'restarting', reconnectInMs: p.readUInt32BE(0), tryForMs: p.readUInt32BE(4) });
        return;
      default:
        return this.#deliver({ type: 'other', frameType: f.type, payload: p });
    }
  }

  #deliver(m: DerpMessage): void {
    const i = this.#waiters.findIndex((w) => w.type === undefined || w.type === m.type);
    if (i >= 0) return this.#waiters.splice(i, 1)[0]!.resolve(m);
    this.#queue.push(m);
    if (this.#queue.length > (this.#opts.maxQueued ?? 4096)) {
      this.#queue.shift();
      this.#dropped++;
    }
  }

  #shutdown(err: Error | undefined): void {
    if (this.#phase === 'closed') return;
    const during = this.#phase;
    this.#phase = 'closed';
    let e = err;
    if (!e && during === 'awaitServerInfo') e = new DerpError('ERR_DERP_REJECTED', 'server closed the connection before ServerInfo (client rejected?)');
    if (!e && during === 'awaitServerKey') e = new DerpError('ERR_DERP_HANDSHAKE', 'connection closed before the ServerKey frame');
    this.#closeError = e;
    this.#handshake?.reject(e ?? new DerpError('ERR_DERP_CLOSED', 'connection closed'));
    this.#handshake = undefined;
    const closedErr = e ?? new DerpError('ERR_DERP_CLOSED', 'connection closed');
    for (const w of this.#waiters) w.reject(closedErr);
    this.#waiters = [];
    if (!this.#duplex.destroyed) this.#duplex.destroy();
    this.#markClosed(e);
  }
}
