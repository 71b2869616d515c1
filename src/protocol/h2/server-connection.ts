// The server side of one HTTP/2 connection with prior knowledge (RFC 9113), over any Duplex: in
// Switchboard, the decrypted Noise stream of one node. It replaces node:http2 there, which runs
// every byte through a JS stream wrapper into nghttp2 and back; here frames are parsed and built
// in place, a stream's DATA is framed straight into the connection's output, and all output of
// one turn of the event loop leaves in one transport write (one Noise seal, one system call).
//
// What it does: checks the preface, exchanges SETTINGS, opens a stream per request HEADERS
// (CONTINUATION joined, HPACK decoded, the header list validated), hands it to `onStream`,
// delivers its body, and sends the response under both flow-control windows, splitting at the
// peer's SETTINGS_MAX_FRAME_SIZE. It answers PING and SETTINGS, honours WINDOW_UPDATE,
// RST_STREAM and GOAWAY, and ignores PRIORITY and unknown frame types. A fault of one stream resets
// that stream; a fault of the connection sends GOAWAY with a fixed text of ours and closes it.
// Nothing the peer sends can throw out of this class.

import type { Duplex } from 'node:stream';
import { H2Error } from './errors.js';
import {
  DEFAULT_MAX_FRAME_SIZE, DEFAULT_WINDOW, ErrorCode, Flag, FRAME_HEADER_LEN, FrameReader, FrameType, MAX_ALLOWED_FRAME_SIZE,
  MAX_WINDOW, Setting, encodeFrame, goAwayFrame, rstStreamFrame, settingsFrame, windowUpdateFrame, writeFrameHeader, type Frame,
} from './frames.js';
import { HpackDecoder, encodeHeaders, type HeaderField } from './hpack.js';
import { requestHeaders } from './request-headers.js';
import { H2ServerStream, WRITE_HIGH_WATER, type StreamOwner } from './server-stream.js';

export interface H2ServerOptions {
  /** Called for each new request; read its body, then respond. */
  onStream(stream: H2ServerStream): void;
  /** Connection faults, for logging (the peer has already been told). */
  onError?(err: H2Error): void;
  maxConcurrentStreams?: number;
  /** Our stream window: the most request body a peer may send before we read it. */
  streamWindow?: number;
}

/** Our connection window, topped up as bodies are read. */
const CONNECTION_WINDOW = 16 << 20;
const MAX_HEADER_BLOCK = 64 * 1024;
/** Client resets of streams per 10 s before we call it an attack (RFC 9113 §10.5, "rapid reset"). */
const MAX_RESETS_PER_WINDOW = 200;
/** Output a peer may leave unread (answers to its PINGs and SETTINGS) before we give up on it. */
const MAX_CONTROL_BACKLOG = 16 << 20;

function connectionError(code: H2Error['code'], message: string, h2Code: number): H2Error {
  return new H2Error(code, message, h2Code);
}

export class H2ServerConnection implements StreamOwner {
  readonly #transport: Duplex;
  readonly #options: H2ServerOptions;
  readonly #reader = new FrameReader(true);
  readonly #decoder = new HpackDecoder();
  readonly #streams = new Map<number, H2ServerStream>();
  readonly #maxStreams: number;
  readonly #streamWindow: number;
  #lastStreamId = 0;
  #sawSettings = false;
  #peerInitialWindow = DEFAULT_WINDOW;
  #peerMaxFrameSize = DEFAULT_MAX_FRAME_SIZE;
  #sendWindow = DEFAULT_WINDOW;
  #recvWindow = CONNECTION_WINDOW;
  #recvUnacked = 0;
  #continuation: { streamId: number; endStream: boolean; parts: Buffer[]; size: number } | undefined;
  /** Streams with queued DATA and no window to send it. */
  readonly #blocked = new Set<H2ServerStream>();
  #out: Buffer[] = [];
  #outBytes = 0;
  #flushQueued = false;
  #resets = 0;
  #resetWindowStart = 0;
  #peerGoingAway = false;
  #closed = false;

  constructor(transport: Duplex, options: H2ServerOptions) {
    this.#transport = transport;
    this.#options = options;
    this.#maxStreams = options.maxConcurrentStreams ?? 100;
    this.#streamWindow = options.streamWindow ?? (1 << 20) + DEFAULT_MAX_FRAME_SIZE;
    this.#queue(
      settingsFrame([
        [Setting.MAX_CONCURRENT_STREAMS, this.#maxStreams],
        [Setting.INITIAL_WINDOW_SIZE, this.#streamWindow],
        [Setting.MAX_HEADER_LIST_SIZE, MAX_HEADER_BLOCK],
      ]),
      windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW),
    );
    transport.on('data', (chunk: Buffer) => this.#onBytes(chunk));
    transport.on('end', () => this.destroy());
    transport.on('close', () => this.destroy());
    transport.on('error', () => this.destroy());
    transport.on('drain', () => {
      for (const s of this.#streams.values()) s.drained();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  get streamCount(): number {
    return this.#streams.size;
  }

  /** Closes at once: every stream ends, the transport is destroyed after what is queued. */
  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#flush();
    for (const s of this.#streams.values()) s.finish();
    this.#streams.clear();
    this.#blocked.clear();
    if (!this.#transport.destroyed) this.#transport.end(() => this.#transport.destroy());
    const timer = setTimeout(() => this.#transport.destroy(), 2000);
    timer.unref();
  }

  // ---- StreamOwner ----

  sendHeaders(stream: H2ServerStream, fields: HeaderField[], endStream: boolean): void {
    const block = encodeHeaders(fields);
    this.#queue(encodeFrame(FrameType.HEADERS, Flag.END_HEADERS | (endStream ? Flag.END_STREAM : 0), stream.id, block));
  }

  pump(stream: H2ServerStream): void {
    while (stream.queuedBytes > 0) {
      const room = Math.min(this.#sendWindow, stream.sendWindow, this.#peerMaxFrameSize);
      if (room <= 0) {
        this.#blocked.add(stream);
        return;
      }
      const head = stream.queue[0]!;
      const piece = head.length <= room ? head : head.subarray(0, room);
      if (piece === head) stream.queue.shift();
      else stream.queue[0] = head.subarray(room);
      stream.queuedBytes -= piece.length;
      this.#sendWindow -= piece.length;
      stream.sendWindow -= piece.length;
      const last = stream.endQueued && stream.queuedBytes === 0;
      const header = Buffer.allocUnsafe(FRAME_HEADER_LEN);
      writeFrameHeader(header, 0, piece.length, FrameType.DATA, last ? Flag.END_STREAM : 0, stream.id);
      this.#queue(header, piece);
      if (last) return this.#sentEnd(stream);
    }
    this.#blocked.delete(stream);
    if (stream.endQueued && !stream.localEnded) {
      this.#queue(encodeFrame(FrameType.DATA, Flag.END_STREAM, stream.id));
      return this.#sentEnd(stream);
    }
    if (this.backlog() < WRITE_HIGH_WATER) stream.drained();
  }

  reset(stream: H2ServerStream, code: number): void {
    this.#queue(rstStreamFrame(stream.id, code));
    this.#forget(stream);
  }

  backlog(): number {
    return this.#outBytes + this.#transport.writableLength;
  }

  // ---- input ----

  #onBytes(chunk: Buffer): void {
    if (this.#closed) return;
    try {
      this.#reader.push(chunk, (frame) => {
        try {
          this.#onFrame(frame);
        } catch (err) {
          if (!(err instanceof H2Error) || err.streamId === undefined) throw err;
          const stream = this.#streams.get(err.streamId);
          if (stream) this.reset(stream, err.h2Code);
          else this.#queue(rstStreamFrame(err.streamId, err.h2Code));
        }
      });
    } catch (err) {
      const fault = err instanceof H2Error ? err : connectionError('ERR_H2_PROTOCOL', 'internal error while reading frames', ErrorCode.INTERNAL_ERROR);
      this.#options.onError?.(fault);
      this.#queue(goAwayFrame(this.#lastStreamId, fault.h2Code, fault.message));
      this.destroy();
    }
  }

  #onFrame(f: Frame): void {
    if (this.#closed) return;
    if (this.#continuation && (f.type !== FrameType.CONTINUATION || f.streamId !== this.#continuation.streamId)) {
      throw connectionError('ERR_H2_PROTOCOL', 'a header block was interrupted by another frame', ErrorCode.PROTOCOL_ERROR);
    }
    if (!this.#sawSettings && (f.type !== FrameType.SETTINGS || f.flags & Flag.ACK)) {
      throw connectionError('ERR_H2_PROTOCOL', 'the first frame after the preface must be SETTINGS', ErrorCode.PROTOCOL_ERROR);
    }
    const onStreamZero = f.streamId === 0;
    switch (f.type) {
      case FrameType.DATA:
        return this.#onData(f);
      case FrameType.HEADERS:
        return this.#onHeaders(f);
      case FrameType.CONTINUATION:
        return this.#onContinuation(f);
      case FrameType.PRIORITY:
        if (onStreamZero) throw connectionError('ERR_H2_PROTOCOL', 'PRIORITY on stream 0', ErrorCode.PROTOCOL_ERROR);
        if (f.payload.length !== 5) throw new H2Error('ERR_H2_FRAME_SIZE', 'PRIORITY is not 5 bytes', ErrorCode.FRAME_SIZE_ERROR, f.streamId);
        return;
      case FrameType.RST_STREAM:
        return this.#onReset(f);
      case FrameType.SETTINGS:
        return this.#onSettings(f);
      case FrameType.PING:
        if (!onStreamZero) throw connectionError('ERR_H2_PROTOCOL', 'PING on a stream', ErrorCode.PROTOCOL_ERROR);
        if (f.payload.length !== 8) throw connectionError('ERR_H2_FRAME_SIZE', 'PING is not 8 bytes', ErrorCode.FRAME_SIZE_ERROR);
        if (!(f.flags & Flag.ACK)) this.#queueControl(encodeFrame(FrameType.PING, Flag.ACK, 0, f.payload));
        return;
      case FrameType.GOAWAY:
        if (!onStreamZero) throw connectionError('ERR_H2_PROTOCOL', 'GOAWAY on a stream', ErrorCode.PROTOCOL_ERROR);
        if (f.payload.length < 8) throw connectionError('ERR_H2_FRAME_SIZE', 'GOAWAY shorter than 8 bytes', ErrorCode.FRAME_SIZE_ERROR);
        this.#peerGoingAway = true;
        if (this.#streams.size === 0) this.destroy();
        return;
      case FrameType.WINDOW_UPDATE:
        return this.#onWindowUpdate(f);
      case FrameType.PUSH_PROMISE:
        throw connectionError('ERR_H2_PROTOCOL', 'a client sent PUSH_PROMISE', ErrorCode.PROTOCOL_ERROR);
      default:
        return; // unknown frame types are ignored (RFC 9113 §4.1)
    }
  }

  #onData(f: Frame): void {
    if (f.streamId === 0) throw connectionError('ERR_H2_PROTOCOL', 'DATA on stream 0', ErrorCode.PROTOCOL_ERROR);
    const flowLength = f.payload.length;
    this.#recvWindow -= flowLength;
    if (this.#recvWindow < 0) throw connectionError('ERR_H2_FLOW_CONTROL', 'DATA beyond the connection window', ErrorCode.FLOW_CONTROL_ERROR);
    this.#recvUnacked += flowLength;
    if (this.#recvUnacked >= CONNECTION_WINDOW / 2) {
      this.#queue(windowUpdateFrame(0, this.#recvUnacked));
      this.#recvWindow += this.#recvUnacked;
      this.#recvUnacked = 0;
    }
    const body = withoutPadding(f);
    const stream = this.#streams.get(f.streamId);
    if (!stream) {
      if (f.streamId > this.#lastStreamId) throw connectionError('ERR_H2_PROTOCOL', 'DATA on an idle stream', ErrorCode.PROTOCOL_ERROR);
      throw new H2Error('ERR_H2_STREAM_CLOSED', 'DATA on a closed stream', ErrorCode.STREAM_CLOSED, f.streamId);
    }
    if (stream.remoteEnded) throw new H2Error('ERR_H2_STREAM_CLOSED', 'DATA after END_STREAM', ErrorCode.STREAM_CLOSED, f.streamId);
    stream.recvWindow -= flowLength;
    if (stream.recvWindow < 0) throw new H2Error('ERR_H2_FLOW_CONTROL', 'DATA beyond the stream window', ErrorCode.FLOW_CONTROL_ERROR, f.streamId);
    if (body.length > 0) stream.receive(body);
    if (f.flags & Flag.END_STREAM) return this.#remoteEnd(stream);
    stream.recvUnacked += flowLength;
    if (stream.recvUnacked >= this.#streamWindow / 2) {
      this.#queue(windowUpdateFrame(stream.id, stream.recvUnacked));
      stream.recvWindow += stream.recvUnacked;
      stream.recvUnacked = 0;
    }
  }

  #onHeaders(f: Frame): void {
    if (f.streamId === 0 || f.streamId % 2 === 0) throw connectionError('ERR_H2_PROTOCOL', `HEADERS on stream ${f.streamId}, not a client stream`, ErrorCode.PROTOCOL_ERROR);
    let fragment = withoutPadding(f);
    if (f.flags & Flag.PRIORITY) {
      if (fragment.length < 5) throw connectionError('ERR_H2_FRAME_SIZE', 'HEADERS too short for its priority fields', ErrorCode.FRAME_SIZE_ERROR);
      fragment = fragment.subarray(5);
    }
    const endStream = (f.flags & Flag.END_STREAM) !== 0;
    if (f.flags & Flag.END_HEADERS) return this.#onHeaderBlock(f.streamId, endStream, fragment);
    this.#continuation = { streamId: f.streamId, endStream, parts: [fragment], size: fragment.length };
  }

  #onContinuation(f: Frame): void {
    const c = this.#continuation;
    if (!c) throw connectionError('ERR_H2_PROTOCOL', 'CONTINUATION without a header block', ErrorCode.PROTOCOL_ERROR);
    c.parts.push(f.payload);
    c.size += f.payload.length;
    if (c.size > MAX_HEADER_BLOCK) throw connectionError('ERR_H2_HEADERS', `header block larger than ${MAX_HEADER_BLOCK} bytes`, ErrorCode.ENHANCE_YOUR_CALM);
    if (!(f.flags & Flag.END_HEADERS)) return;
    this.#continuation = undefined;
    this.#onHeaderBlock(c.streamId, c.endStream, Buffer.concat(c.parts, c.size));
  }

  #onHeaderBlock(streamId: number, endStream: boolean, block: Buffer): void {
    const fields = this.#decoder.decode(block); // always, to keep the dynamic table in step
    const existing = this.#streams.get(streamId);
    if (existing) {
      // Trailers: they must end the stream; their content is not used.
      if (!endStream || existing.remoteEnded) throw new H2Error('ERR_H2_PROTOCOL', 'a second header block that does not end the stream', ErrorCode.PROTOCOL_ERROR, streamId);
      return this.#remoteEnd(existing);
    }
    if (streamId <= this.#lastStreamId) return; // a stream we already closed
    this.#lastStreamId = streamId;
    if (this.#peerGoingAway) return;
    if (this.#streams.size >= this.#maxStreams) {
      throw new H2Error('ERR_H2_PROTOCOL', 'too many concurrent streams', ErrorCode.REFUSED_STREAM, streamId);
    }
    const headers = requestHeaders(fields, streamId);
    const stream = new H2ServerStream(this, streamId, headers, this.#peerInitialWindow, this.#streamWindow);
    this.#streams.set(streamId, stream);
    if (endStream) stream.remoteEnd();
    this.#options.onStream(stream);
  }

  #onReset(f: Frame): void {
    if (f.streamId === 0) throw connectionError('ERR_H2_PROTOCOL', 'RST_STREAM on stream 0', ErrorCode.PROTOCOL_ERROR);
    if (f.payload.length !== 4) throw connectionError('ERR_H2_FRAME_SIZE', 'RST_STREAM is not 4 bytes', ErrorCode.FRAME_SIZE_ERROR);
    if (f.streamId > this.#lastStreamId) throw connectionError('ERR_H2_PROTOCOL', 'RST_STREAM on an idle stream', ErrorCode.PROTOCOL_ERROR);
    const stream = this.#streams.get(f.streamId);
    if (!stream) return;
    const now = Date.now();
    if (now - this.#resetWindowStart > 10_000) {
      this.#resetWindowStart = now;
      this.#resets = 0;
    }
    if (++this.#resets > MAX_RESETS_PER_WINDOW) {
      throw connectionError('ERR_H2_CALM', `more than ${MAX_RESETS_PER_WINDOW} stream resets in 10 s`, ErrorCode.ENHANCE_YOUR_CALM);
    }
    this.#forget(stream);
  }

  #onSettings(f: Frame): void {
    if (f.streamId !== 0) throw connectionError('ERR_H2_PROTOCOL', 'SETTINGS on a stream', ErrorCode.PROTOCOL_ERROR);
    if (f.flags & Flag.ACK) {
      if (f.payload.length !== 0) throw connectionError('ERR_H2_FRAME_SIZE', 'SETTINGS acknowledgement with a payload', ErrorCode.FRAME_SIZE_ERROR);
      return;
    }
    if (f.payload.length % 6 !== 0) throw connectionError('ERR_H2_FRAME_SIZE', 'SETTINGS length is not a multiple of 6', ErrorCode.FRAME_SIZE_ERROR);
    this.#sawSettings = true;
    for (let at = 0; at < f.payload.length; at += 6) {
      const id = f.payload.readUInt16BE(at);
      const value = f.payload.readUInt32BE(at + 2);
      if (id === Setting.ENABLE_PUSH && value > 1) throw connectionError('ERR_H2_PROTOCOL', 'SETTINGS_ENABLE_PUSH is not 0 or 1', ErrorCode.PROTOCOL_ERROR);
      if (id === Setting.INITIAL_WINDOW_SIZE) {
        if (value > MAX_WINDOW) throw connectionError('ERR_H2_FLOW_CONTROL', 'SETTINGS_INITIAL_WINDOW_SIZE above 2^31 - 1', ErrorCode.FLOW_CONTROL_ERROR);
        const delta = value - this.#peerInitialWindow;
        this.#peerInitialWindow = value;
        for (const s of this.#streams.values()) {
          s.sendWindow += delta;
          if (s.sendWindow > MAX_WINDOW) throw connectionError('ERR_H2_FLOW_CONTROL', 'a stream window grew past 2^31 - 1', ErrorCode.FLOW_CONTROL_ERROR);
        }
      }
      if (id === Setting.MAX_FRAME_SIZE) {
        if (value < DEFAULT_MAX_FRAME_SIZE || value > MAX_ALLOWED_FRAME_SIZE) throw connectionError('ERR_H2_PROTOCOL', 'SETTINGS_MAX_FRAME_SIZE out of range', ErrorCode.PROTOCOL_ERROR);
        this.#peerMaxFrameSize = value;
      }
    }
    this.#queueControl(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
    this.#unblock();
  }

  #onWindowUpdate(f: Frame): void {
    if (f.payload.length !== 4) throw connectionError('ERR_H2_FRAME_SIZE', 'WINDOW_UPDATE is not 4 bytes', ErrorCode.FRAME_SIZE_ERROR);
    const increment = f.payload.readUInt32BE(0) & MAX_WINDOW;
    if (f.streamId === 0) {
      if (increment === 0) throw connectionError('ERR_H2_PROTOCOL', 'WINDOW_UPDATE of 0', ErrorCode.PROTOCOL_ERROR);
      this.#sendWindow += increment;
      if (this.#sendWindow > MAX_WINDOW) throw connectionError('ERR_H2_FLOW_CONTROL', 'the connection window grew past 2^31 - 1', ErrorCode.FLOW_CONTROL_ERROR);
      return this.#unblock();
    }
    const stream = this.#streams.get(f.streamId);
    if (!stream) {
      if (f.streamId > this.#lastStreamId) throw connectionError('ERR_H2_PROTOCOL', 'WINDOW_UPDATE on an idle stream', ErrorCode.PROTOCOL_ERROR);
      return;
    }
    if (increment === 0) throw new H2Error('ERR_H2_PROTOCOL', 'WINDOW_UPDATE of 0', ErrorCode.PROTOCOL_ERROR, f.streamId);
    stream.sendWindow += increment;
    if (stream.sendWindow > MAX_WINDOW) throw new H2Error('ERR_H2_FLOW_CONTROL', 'a stream window grew past 2^31 - 1', ErrorCode.FLOW_CONTROL_ERROR, f.streamId);
    this.pump(stream);
  }

  // ---- stream bookkeeping ----

  #remoteEnd(stream: H2ServerStream): void {
    stream.remoteEnd();
    if (stream.localEnded) this.#forget(stream);
  }

  #sentEnd(stream: H2ServerStream): void {
    this.#blocked.delete(stream);
    stream.localEndSent(); // finishes it, or resets it with NO_ERROR if the request is still open
    if (stream.closed) this.#forget(stream);
  }

  #forget(stream: H2ServerStream): void {
    this.#streams.delete(stream.id);
    this.#blocked.delete(stream);
    stream.finish();
    if (this.#peerGoingAway && this.#streams.size === 0) this.destroy();
  }

  #unblock(): void {
    for (const s of [...this.#blocked]) this.pump(s);
  }

  // ---- output ----

  /** Output that answers the peer (PING, SETTINGS): refused once the peer has stopped reading. */
  #queueControl(frame: Buffer): void {
    if (this.backlog() > MAX_CONTROL_BACKLOG) {
      throw connectionError('ERR_H2_CALM', 'the peer does not read what it asks for', ErrorCode.ENHANCE_YOUR_CALM);
    }
    this.#queue(frame);
  }

  #queue(...buffers: Buffer[]): void {
    for (const b of buffers) {
      this.#out.push(b);
      this.#outBytes += b.length;
    }
    if (!this.#flushQueued) {
      this.#flushQueued = true;
      queueMicrotask(() => this.#flush());
    }
  }

  #flush(): void {
    this.#flushQueued = false;
    if (this.#out.length === 0) return;
    const data = this.#out.length === 1 ? this.#out[0]! : Buffer.concat(this.#out, this.#outBytes);
    this.#out = [];
    this.#outBytes = 0;
    const t = this.#transport;
    if (t.destroyed || t.writableEnded) return;
    if (t.write(data) && t.writableLength < WRITE_HIGH_WATER) {
      for (const s of this.#streams.values()) if (s.needDrain) s.drained();
    }
  }
}

function withoutPadding(f: Frame): Buffer {
  if (!(f.flags & Flag.PADDED)) return f.payload;
  const padLength = f.payload[0];
  if (padLength === undefined || padLength >= f.payload.length) {
    throw connectionError('ERR_H2_PROTOCOL', 'padding longer than the frame', ErrorCode.PROTOCOL_ERROR);
  }
  return f.payload.subarray(1, f.payload.length - padLength);
}
