// The write side of one DERP client connection: what is waiting to be sent (two bounded
// drop-oldest packet queues, disco and other, as Tailscale's server keeps; at most one pending
// Pong; a KeepAlive flag; PeerGone notices), in what order it goes out, and back-pressure.
//
// Frames are not written one by one: what is queued goes out as one buffer per write(), built
// at the end of the current tick (process.nextTick, so a read chunk's worth of packets for this
// client shares a write) or as soon as the queue holds a write's worth. A write's worth is what
// fits below the stream's high-water mark, so the stream never buffers more than that plus one
// frame. When write() says stop, nothing more is written until 'drain'; packets then wait in
// the queues (the oldest dropped beyond their depth) and a stall longer than the write timeout
// is reported so the connection closes.

import type { Duplex } from 'node:stream';
import { FRAME_HEADER_LEN, FrameType, KEY_LEN, PeerGoneReason, keepAliveFrame, looksLikeDisco, peerGoneFrame, pongFrame } from '../../protocol/derp/frames.js';
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

/** Who sent a packet: its node key, raw and as hex. */
export interface PacketSource {
  readonly key: Buffer;
  readonly keyHex: string;
}

/** A packet as it arrived in SendPacket: destination key(32) + packet; the key is skipped. */
interface QueuedPacket {
  src: PacketSource;
  payload: Buffer;
}

export class ClientWriter {
  readonly #duplex: Duplex;
  readonly #counters: DerpCounters;
  readonly #opts: ClientWriterOptions;
  readonly #packets: DropOldestQueue<QueuedPacket>;
  readonly #disco: DropOldestQueue<QueuedPacket>;
  #queuedBytes = 0; // RecvPacket frame bytes in both queues
  #pendingPeerGone = new Map<string, number>(); // peer key hex -> reason
  #pendingPong: Buffer | undefined;
  #keepAlivePending = false;
  #started = false;
  #stopped = false;
  #waitingDrain = false;
  #pumping = false;
  #flushScheduled = false;
  #writeTimer: NodeJS.Timeout | undefined;
  readonly #sources = new Set<string>();
  readonly #flushLater = () => {
    this.#flushScheduled = false;
    this.#pump();
  };

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

  /**
   * Queues a packet from `src`; `payload` is the SendPacket payload, destination key(32) +
   * packet, kept by reference until written this tick, copied if it must wait for the stream.
   * A full queue drops its oldest entry (counted).
   */
  enqueuePacket(src: PacketSource, payload: Buffer): void {
    if (this.#stopped) {
      this.#counters.packetsDropped++;
      this.#counters.dropsGone++;
      return;
    }
    const q = looksLikeDisco(payload, KEY_LEN) ? this.#disco : this.#packets;
    // Not blocked: a full queue or a write's worth of bytes goes out now, so a burst from one
    // read chunk is never dropped for want of a flush. Blocked: the queue takes the overflow.
    if (!this.#waitingDrain && (q.length === q.capacity || this.#queuedBytes >= this.#writeBudget())) this.#pump();
    // A packet that has to wait for 'drain' gets its own copy: a view would pin the whole read
    // chunk it came in (up to 64 KiB) for as long as this client is slow.
    const dropped = q.push({ src, payload: this.#waitingDrain ? Buffer.from(payload) : payload });
    this.#queuedBytes += FRAME_HEADER_LEN + payload.length;
    if (dropped !== undefined) {
      this.#queuedBytes -= FRAME_HEADER_LEN + dropped.payload.length;
      this.#counters.packetsDropped++;
      this.#counters.dropsQueueFull++;
    }
    this.#schedule();
  }

  /** Queues PeerGone; repeated notices for one peer collapse into one frame. */
  enqueuePeerGone(peer: Buffer, reason: number): void {
    if (this.#stopped) return;
    this.#pendingPeerGone.set(peer.toString('hex'), reason);
    this.#schedule();
  }

  /** Queues a Pong, unless one is already waiting (faster pings are dropped, as in Go). */
  enqueuePong(data: Buffer): void {
    if (this.#stopped || this.#pendingPong !== undefined) return;
    this.#pendingPong = data;
    this.#schedule();
  }

  keepAlive(): void {
    this.#keepAlivePending = true;
    this.#schedule();
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
    this.#queuedBytes = 0;
    this.#counters.packetsDropped += dropped;
    this.#counters.dropsGone += dropped;
    return dropped;
  }

  /** Bytes one write may carry: up to the stream's high-water mark (at least one frame). */
  #writeBudget(): number {
    return this.#duplex.writableHighWaterMark - this.#duplex.writableLength;
  }

  #schedule(): void {
    if (this.#flushScheduled || !this.#started || this.#waitingDrain) return;
    this.#flushScheduled = true;
    process.nextTick(this.#flushLater);
  }

  /**
   * The next frames by priority (PeerGone, Pong, KeepAlive, disco, other packets), up to about
   * `budget` bytes (at least one frame), as buffers and queued packets with their total size.
   */
  #take(budget: number): { parts: (Buffer | QueuedPacket)[]; bytes: number } {
    const c = this.#counters;
    const parts: (Buffer | QueuedPacket)[] = [];
    let bytes = 0;
    while (parts.length === 0 || bytes < budget) {
      let frame: Buffer | undefined;
      for (const [peer, reason] of this.#pendingPeerGone) {
        this.#pendingPeerGone.delete(peer);
        if (reason === PeerGoneReason.Disconnected) c.peerGoneDisconnectedSent++;
        else c.peerGoneNotHereSent++;
        frame = peerGoneFrame(Buffer.from(peer, 'hex'), reason);
        break;
      }
      if (!frame && this.#pendingPong) {
        frame = pongFrame(this.#pendingPong);
        this.#pendingPong = undefined;
        c.pongsSent++;
      }
      if (!frame && this.#keepAlivePending) {
        this.#keepAlivePending = false;
        c.keepAlivesSent++;
        frame = keepAliveFrame();
      }
      if (frame) {
        parts.push(frame);
        bytes += frame.length;
        continue;
      }
      const pkt = this.#disco.shift() ?? this.#packets.shift();
      if (!pkt) break;
      const size = FRAME_HEADER_LEN + pkt.payload.length;
      this.#queuedBytes -= size;
      c.packetsSent++;
      c.bytesSent += pkt.payload.length - KEY_LEN;
      parts.push(pkt);
      bytes += size;
      // May queue a PeerGone for this source (it already left): it follows this packet.
      if (!this.#sources.has(pkt.src.keyHex)) {
        this.#sources.add(pkt.src.keyHex);
        this.#opts.onNewSource(pkt.src.keyHex);
      }
    }
    return { parts, bytes };
  }

  /** Writes batches of frames until the queues are empty or the stream pushes back. */
  #pump(): void {
    // Re-entry (building a batch queues another frame) is left to the running loop, which keeps
    // the order: a RecvPacket always goes out before a PeerGone it caused.
    if (!this.#started || this.#stopped || this.#waitingDrain || this.#pumping) return;
    this.#pumping = true;
    try {
      for (;;) {
        const { parts, bytes } = this.#take(this.#writeBudget());
        if (parts.length === 0) return;
        if (this.#stopped) return;
        if (!this.#duplex.write(encodeBatch(parts, bytes))) {
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

/** One buffer holding the frames in order; queued packets become RecvPacket(src, packet). */
function encodeBatch(parts: (Buffer | QueuedPacket)[], bytes: number): Buffer {
  if (parts.length === 1 && Buffer.isBuffer(parts[0])) return parts[0];
  const out = allocBatch(bytes);
  let at = 0;
  for (const p of parts) {
    if (Buffer.isBuffer(p)) {
      out.set(p, at);
      at += p.length;
      continue;
    }
    // RecvPacket: src key(32) + packet, the same length as the SendPacket payload (dst key(32)
    // + packet) it came in. Copy that payload whole, then put the source key over the
    // destination's: two plain copies, no views to allocate.
    const len = p.payload.length;
    out[at] = FrameType.RecvPacket;
    out[at + 1] = len >>> 24;
    out[at + 2] = (len >>> 16) & 0xff;
    out[at + 3] = (len >>> 8) & 0xff;
    out[at + 4] = len & 0xff;
    out.set(p.payload, at + FRAME_HEADER_LEN);
    out.set(p.src.key, at + FRAME_HEADER_LEN);
    at += FRAME_HEADER_LEN + len;
  }
  return out;
}

// Batches are carved from shared slabs, as Buffer.allocUnsafe does for small sizes with its
// 8 KiB pool: memory is never reused while a write may still hold it (a slab is freed when
// its last slice is), and a batch costs a view instead of a fresh ArrayBuffer.
const SLAB_SIZE = 64 * 1024;
let slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
let slabUsed = 0;

function allocBatch(n: number): Buffer {
  if (n > SLAB_SIZE / 2) return Buffer.allocUnsafeSlow(n);
  if (slabUsed + n > SLAB_SIZE) {
    slab = Buffer.allocUnsafeSlow(SLAB_SIZE);
    slabUsed = 0;
  }
  const out = slab.subarray(slabUsed, slabUsed + n);
  slabUsed = (slabUsed + n + 7) & ~7;
  return out;
}
