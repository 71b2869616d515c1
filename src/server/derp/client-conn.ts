// One client connection on the DERP server: the server half of the handshake, the read side
// (frame dispatch, receive rate limit) and the timers. What it writes goes through
// ./client-writer.ts; routing and the key registry live in ./server.ts, reached via ConnHost.
//
// Life cycle: handshake (ServerKey sent, waiting for ClientInfo) -> verifying (admission
// running; reading paused) -> running (registered, ServerInfo sent) -> closed.

import type { Duplex } from 'node:stream';
import {
  FrameType,
  KEY_LEN,
  MAX_CLIENT_INFO_LEN,
  MAX_PING_LEN,
  MAX_SEND_PACKET_PAYLOAD,
  PING_LEN,
  PROTOCOL_VERSION,
  PeerGoneReason,
  looksLikeDisco,
  serverInfoFrame,
  serverKeyFrame,
} from '../../protocol/derp/frames.js';
import { FrameReader, type DerpFrame } from '../../protocol/derp/reader.js';
import { openClientInfo, sealServerInfo, type ClientInfo } from '../../protocol/derp/info.js';
import { DerpError } from '../../protocol/derp/errors.js';
import { ClientWriter, type PacketSource } from './client-writer.js';
import { TokenBucket } from './token-bucket.js';
import type { DerpCounters } from './counters.js';

export interface ConnSettings {
  keepAliveMs: number;
  keepAliveJitterMs: number;
  handshakeTimeoutMs: number;
  writeTimeoutMs: number;
  sendQueueDepth: number;
  rateLimit: { bytesPerSecond: number; burst: number } | undefined;
}

/** What a connection needs from its server. */
export interface ConnHost {
  readonly privateKey: Buffer;
  readonly publicKey: Buffer;
  readonly counters: DerpCounters;
  readonly settings: ConnSettings;
  admit(conn: ClientConn, info: ClientInfo): Promise<boolean>;
  register(conn: ClientConn): void;
  unregister(conn: ClientConn): void;
  noteActivity(conn: ClientConn): void;
  /** `payload` is a SendPacket payload: destination key(32) + packet. */
  route(from: ClientConn, payload: Buffer): void;
  watchPeer(src: string, conn: ClientConn): void;
  unwatchPeer(src: string, conn: ClientConn): void;
}

export type ConnState = 'handshake' | 'verifying' | 'running' | 'closed';

export class ClientConn {
  readonly remoteAddress: string | undefined;
  /** The server's last routing lookup for packets from this connection (see DerpServer). */
  readonly routeCache: { dst: Buffer; target: unknown; epoch: number } = { dst: Buffer.alloc(KEY_LEN), target: undefined, epoch: -1 };
  #state: ConnState = 'handshake';
  #key: Buffer | undefined;
  #keyHex = '';
  #info: ClientInfo = {};
  #preferred = false;
  readonly #host: ConnHost;
  readonly #duplex: Duplex;
  readonly #reader: FrameReader;
  readonly #onClose: (err: DerpError | undefined) => void;
  readonly #writer: ClientWriter;
  #timers: NodeJS.Timeout[] = [];
  #recvLimit: TokenBucket | undefined;
  readonly #peerGoneLimit = new TokenBucket(1, 3); // NotHere replies: 1/s, burst 3

  constructor(host: ConnHost, duplex: Duplex, opts: { remoteAddress?: string; onClose?: (err: DerpError | undefined) => void }) {
    this.#host = host;
    this.#duplex = duplex;
    this.remoteAddress = opts.remoteAddress;
    this.#onClose = opts.onClose ?? (() => {});
    this.#writer = new ClientWriter(duplex, host.counters, {
      queueDepth: host.settings.sendQueueDepth,
      writeTimeoutMs: host.settings.writeTimeoutMs,
      onNewSource: (src) => host.watchPeer(src, this),
      onStall: (err) => this.close(err),
    });
    const rl = host.settings.rateLimit;
    if (rl) this.#recvLimit = new TokenBucket(rl.bytesPerSecond, Math.max(rl.burst, MAX_SEND_PACKET_PAYLOAD));
    this.#reader = new FrameReader({
      maxPayload: MAX_CLIENT_INFO_LEN, // lowered to MAX_SEND_PACKET_PAYLOAD after the handshake
      onFrame: (f) => this.#onFrame(f),
      onError: (e) => this.close(e),
    });
  }

  get state(): ConnState {
    return this.#state;
  }
  /** The client's node public key (32 zero bytes until ClientInfo arrived). */
  get key(): Buffer {
    return this.#key ?? Buffer.alloc(KEY_LEN);
  }
  get keyHex(): string {
    return this.#keyHex;
  }
  get info(): Readonly<ClientInfo> {
    return this.#info;
  }
  get preferred(): boolean {
    return this.#preferred;
  }
  get queuedPackets(): number {
    return this.#writer.queuedPackets;
  }
  get bufferedBytes(): number {
    return this.#duplex.writableLength;
  }

  /** Starts the handshake: sends ServerKey and waits (bounded) for ClientInfo. */
  start(): void {
    const d = this.#duplex;
    d.on('data', (chunk: Buffer) => this.#reader.push(chunk));
    d.on('end', () => {
      this.#reader.end();
      if (this.#reader.state === 'ended') this.close(this.#state === 'running' ? undefined : this.#handshakeEof());
    });
    d.on('error', (err: Error) => this.close(new DerpError('ERR_DERP_CLOSED', `connection error: ${err.message}`, { cause: err })));
    d.on('close', () => this.close(this.#state === 'running' ? undefined : this.#handshakeEof()));
    // Not unref'd: a handshake in progress is work, and it is bounded by this very timer.
    const t = setTimeout(() => this.close(new DerpError('ERR_DERP_TIMEOUT', 'DERP handshake timed out')), this.#host.settings.handshakeTimeoutMs);
    this.#timers.push(t);
    d.write(serverKeyFrame(this.#host.publicKey));
  }

  #handshakeEof(): DerpError {
    return new DerpError('ERR_DERP_HANDSHAKE', 'connection closed during the DERP handshake');
  }

  #onFrame(f: DerpFrame): void {
    if (this.#state === 'handshake') return this.#onClientInfo(f);
    if (this.#state !== 'running') return;
    this.#host.noteActivity(this);
    this.#applyRateLimit(f.payload.length);
    const p = f.payload;
    switch (f.type) {
      case FrameType.SendPacket: // dst key(32) + packet (<= 64 KiB, enforced by the reader limit)
        if (p.length < KEY_LEN) throw new DerpError('ERR_DERP_BAD_FRAME', 'short SendPacket frame');
        this.#host.counters.packetsReceived++;
        this.#host.counters.bytesReceived += p.length - KEY_LEN;
        return this.#host.route(this, p);
      case FrameType.NotePreferred: // exactly 1 byte
        if (p.length !== 1) throw new DerpError('ERR_DERP_BAD_FRAME', 'NotePreferred frame of wrong size');
        this.#preferred = p[0] !== 0;
        return;
      case FrameType.Ping: // 8..1000 bytes; the first 8 are echoed
        if (p.length < PING_LEN) throw new DerpError('ERR_DERP_BAD_FRAME', `short ping: ${p.length}`);
        if (p.length > MAX_PING_LEN) throw new DerpError('ERR_DERP_BAD_FRAME', `ping body too large: ${p.length}`);
        this.#host.counters.pingsReceived++;
        return this.#writer.enqueuePong(p.subarray(0, PING_LEN));
      case FrameType.WatchConns:
      case FrameType.ClosePeer:
      case FrameType.ForwardPacket:
        throw new DerpError('ERR_DERP_PERMISSION', `frame type 0x${f.type.toString(16)} needs the mesh key (mesh is not supported)`);
      default:
        this.#host.counters.unknownFrames++; // forward compatibility: skip it
        return;
    }
  }

  /** ClientInfo: client key(32) + nonce(24) + box(JSON); must be the first frame. */
  #onClientInfo(f: DerpFrame): void {
    if (f.type !== FrameType.ClientInfo) throw new DerpError('ERR_DERP_HANDSHAKE', `first frame is type 0x${f.type.toString(16)}, want ClientInfo`);
    const { clientKey, info } = openClientInfo(f.payload, this.#host.privateKey);
    this.#key = clientKey;
    this.#keyHex = clientKey.toString('hex');
    this.#info = info;
    this.#state = 'verifying';
    this.#reader.pause();
    this.#duplex.pause();
    this.#host.admit(this, info).then(
      (ok) => this.#admitted(ok),
      (err: unknown) => this.close(new DerpError('ERR_DERP_REJECTED', `client verification failed: ${String(err)}`, { cause: err })),
    );
  }

  #admitted(ok: boolean): void {
    if (this.#state !== 'verifying') return; // closed meanwhile
    if (!ok) {
      this.#host.counters.clientsRejected++;
      return this.close(new DerpError('ERR_DERP_REJECTED', `client nodekey:${this.#keyHex} rejected`));
    }
    clearTimeout(this.#timers.shift());
    this.#state = 'running';
    this.#host.register(this);
    const rl = this.#host.settings.rateLimit;
    const info = rl
      ? { version: PROTOCOL_VERSION, TokenBucketBytesPerSecond: rl.bytesPerSecond, TokenBucketBytesBurst: rl.burst }
      : { version: PROTOCOL_VERSION };
    this.#duplex.write(serverInfoFrame(sealServerInfo(info, this.#host.privateKey, this.key)));
    const { keepAliveMs, keepAliveJitterMs } = this.#host.settings;
    const ka = setInterval(() => this.#writer.keepAlive(), keepAliveMs + Math.floor(Math.random() * keepAliveJitterMs));
    ka.unref();
    this.#timers.push(ka);
    this.#writer.start();
    this.#reader.setMaxPayload(MAX_SEND_PACKET_PAYLOAD);
    this.#reader.resume();
    if (this.#state === 'running') this.#duplex.resume();
  }

  /** Receive rate limit (frame payload bytes): over budget, stop reading for a while. */
  #applyRateLimit(n: number): void {
    const wait = this.#recvLimit?.take(n) ?? 0;
    if (wait <= 0) return;
    this.#host.counters.rateLimitWaits++;
    this.#reader.pause();
    this.#duplex.pause();
    const t = setTimeout(() => {
      this.#timers = this.#timers.filter((x) => x !== t);
      if (this.#state !== 'running') return;
      this.#reader.resume();
      if (this.#state === 'running') this.#duplex.resume();
    }, wait);
    this.#timers.push(t);
  }

  /**
   * Queues a packet from `src` for this client; `payload` is the SendPacket payload as read
   * (destination key(32) + packet). A full queue drops its oldest entry.
   */
  enqueuePacket(src: PacketSource, payload: Buffer): void {
    this.#writer.enqueuePacket(src, payload);
  }

  /** Queues PeerGone(peer, reason). */
  enqueuePeerGone(peer: Buffer, reason: number): void {
    this.#writer.enqueuePeerGone(peer, reason);
  }

  /** Rate-limited PeerGone(NotHere) in reply to a disco packet for an unknown destination. */
  replyNotHere(dst: Buffer, packet: Buffer): void {
    if (looksLikeDisco(packet) && this.#peerGoneLimit.allow()) this.enqueuePeerGone(dst, PeerGoneReason.NotHere);
  }

  /** Called when `peer` left the server: forget it so a later return re-registers the watch. */
  forgetSource(peerHex: string): void {
    this.#writer.forgetSource(peerHex);
  }

  /** Closes the connection (idempotent); `err` says why, undefined for a normal hang-up. */
  close(err?: DerpError): void {
    if (this.#state === 'closed') return;
    const was = this.#state;
    this.#state = 'closed';
    for (const t of this.#timers) clearTimeout(t);
    this.#timers = [];
    this.#writer.stop();
    if (was === 'running') {
      this.#host.unregister(this);
      for (const src of this.#writer.sources) this.#host.unwatchPeer(src, this);
    } else {
      this.#host.counters.handshakeFailures++;
    }
    this.#duplex.destroy();
    this.#onClose(err);
  }
}
