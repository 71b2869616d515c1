// The write side of one DERP client connection: what is waiting to be sent (two bounded
// drop-oldest packet queues, disco and other, as Tailscale's server keeps; at most one pending
// Pong; a KeepAlive flag; PeerGone notices), in what order it goes out, and back-pressure:
// frames are written until the stream's write() says stop, then nothing more is written
// until 'drain'; a stall longer than the write timeout is reported so the connection closes.

import type { Duplex } from 'node:stream';
import { PeerGoneReason, keepAliveFrame, looksLikeDisco, peerGoneFrame, pongFrame, recvPacketFrame } from '../../protocol/derp/frames.js';
import { DerpError } from '../../protocol/derp/errors.js';
import { DropOldestQueue } from './send-queue.js';
import type { DerpCounters } from './counters.js';

export interface ClientWriterOptions {
  queueDepth: number;
  /** 0 = never time out. */
  writeTimeoutMs: number;
  /** The first RecvPacket from this source is about to be written (PeerGone bookkeeping). */
  onNewSource(srcHex: string): void;
  /** Writes stayed blocked too long. */
  onStall(err: DerpError): void;
}

interface QueuedPacket {
  src: Buffer;
  data: Buffer;
}

export class ClientWriter {
  readonly #duplex: Duplex;
  readonly #counters: DerpCounters;
  readonly #opts: ClientWriterOptions;
  readonly #packets: DropOldestQueue<QueuedPacket>;
  readonly #disco: DropOldestQueue<QueuedPacket>;
  #pendingPeerGone = new Map<string, number>(); // peer key hex -> reason
  #pendingPong: Buffer | undefined;
  #keepAlivePending = false;
  #started = false;
  #stopped = false;
  #waitingDrain = false;
  #pumping = false;
  #writeTimer: NodeJS.Timeout | undefined;
  readonly #sources = new Set<string>();

  constructor(duplex: Duplex, counters: DerpCounters, opts: ClientWriterOptions) {
    this.#duplex = duplex;
    this.#counters = counters;
    this.#opts = opts;
    this.#packets = new DropOldestQueue(opts.queueDepth);
    this.#disco = new DropOldestQueue(opts.queueDepth);
    duplex.on('drain', () => this.#onDrain());
  }

  get queuedPackets(): number {
    return this.#packets.length + this.#disco.length;
  }

  /** Sources this client has been sent packets from (and still watches for PeerGone). */
  get sources(): ReadonlySet<string> {
    return this.#sources;
  }

  /** Starts writing queued frames (after the handshake's ServerInfo went out). */
  start(): void {
    this.#started = true;
    this.#pump();
  }

  /** Queues a packet; a full queue drops its oldest entry (counted). */
  enqueuePacket(src: Buffer, data: Buffer): void {
    if (this.#stopped) {
      this.#counters.packetsDropped++;
      this.#counters.dropsGone++;
      return;
    }
    const q = looksLikeDisco(data) ? this.#disco : this.#packets;
    if (q.push({ src, data }) !== undefined) {
      this.#counters.packetsDropped++;
      this.#counters.dropsQueueFull++;
    }
    this.#pump();
  }

  /** Queues PeerGone; repeated notices for one peer collapse into one frame. */
  enqueuePeerGone(peer: Buffer, reason: number): void {
    if (this.#stopped) return;
    this.#pendingPeerGone.set(peer.toString('hex'), reason);
    this.#pump();
  }

  /** Queues a Pong, unless one is already waiting (faster pings are dropped, as in Go). */
  enqueuePong(data: Buffer): void {
    if (this.#stopped || this.#pendingPong !== undefined) return;
    this.#pendingPong = data;
    this.#pump();
  }

  keepAlive(): void {
    this.#keepAlivePending = true;
    this.#pump();
  }

  /** The peer left: a later packet from it registers a new PeerGone watch. */
  forgetSource(srcHex: string): void {
    this.#sources.delete(srcHex);
  }

  /** Stops writing; returns how many queued packets were discarded (counted as drops). */
  stop(): number {
    this.#stopped = true;
    clearTimeout(this.#writeTimer);
    const dropped = this.#packets.clear().length + this.#disco.clear().length;
    this.#counters.packetsDropped += dropped;
    this.#counters.dropsGone += dropped;
    return dropped;
  }

  /** The next frame by priority: PeerGone, Pong, KeepAlive, disco, other packets. */
  #nextFrame(): Buffer | undefined {
    const c = this.#counters;
    for (const [peer, reason] of this.#pendingPeerGone) {
      this.#pendingPeerGone.delete(peer);
      if (reason === PeerGoneReason.Disconnected) c.peerGoneDisconnectedSent++;
      else c.peerGoneNotHereSent++;
      return peerGoneFrame(Buffer.from(peer, 'hex'), reason);
    }
    if (this.#pendingPong) {
      const data = this.#pendingPong;
      this.#pendingPong = undefined;
      c.pongsSent++;
      return pongFrame(data);
    }
    if (this.#keepAlivePending) {
      this.#keepAlivePending = false;
      c.keepAlivesSent++;
      return keepAliveFrame();
    }
    const pkt = this.#disco.shift() ?? this.#packets.shift();
    if (!pkt) return undefined;
    c.packetsSent++;
    c.bytesSent += pkt.data.length;
    const srcHex = pkt.src.toString('hex');
    if (!this.#sources.has(srcHex)) {
      this.#sources.add(srcHex);
      this.#opts.onNewSource(srcHex);
    }
    return recvPacketFrame(pkt.src, pkt.data);
  }

  /** Writes frames until the stream pushes back. */
  #pump(): void {
    // Re-entry (building a frame queues another one) is left to the running loop, which keeps
    // the order: a RecvPacket always goes out before a PeerGone it caused.
    if (!this.#started || this.#stopped || this.#waitingDrain || this.#pumping) return;
    this.#pumping = true;
    try {
      for (let frame = this.#nextFrame(); frame; frame = this.#nextFrame()) {
        if (this.#stopped) return;
        if (!this.#duplex.write(frame)) {
          this.#waitingDrain = true;
          const timeout = this.#opts.writeTimeoutMs;
          if (timeout > 0) {
            this.#writeTimer = setTimeout(() => {
              this.#counters.writeTimeouts++;
              this.#opts.onStall(new DerpError('ERR_DERP_TIMEOUT', `write stalled for more than ${timeout} ms`));
            }, timeout);
          }
          return;
        }
      }
    } finally {
      this.#pumping = false;
    }
  }

  #onDrain(): void {
    clearTimeout(this.#writeTimer);
    this.#writeTimer = undefined;
    this.#waitingDrain = false;
    this.#pump();
  }
}
