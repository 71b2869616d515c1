// The load generator's HTTP/2 client: just what a simulated node needs (POST a small JSON body,
// read the response or a never-ending map stream), built on src/protocol/h2's frames and HPACK.
// node:http2's client costs the simulated nodes more CPU than the server spends on them (each
// byte crosses a JS stream wrapper into nghttp2 and back), and they share the server's two
// cores; this client parses frames in place. Like Go's client, which tailscaled uses, it opens a
// 4 MiB stream window and a 1 GiB connection window and returns them as it reads.
//
// Not a general client: request bodies must fit the server's initial windows (a few hundred
// bytes here; both servers allow 64 KiB or more), and server pushes are refused in SETTINGS.

import { EventEmitter } from 'node:events';
import type { Duplex } from 'node:stream';
import {
  CLIENT_PREFACE, DEFAULT_WINDOW, ErrorCode, Flag, FrameReader, FrameType, Setting,
  encodeFrame, rstStreamFrame, settingsFrame, windowUpdateFrame, type Frame,
} from '../../src/protocol/h2/frames.js';
import { HpackDecoder, encodeHeaders } from '../../src/protocol/h2/hpack.js';

const STREAM_WINDOW = 4 << 20;
const CONNECTION_WINDOW = 1 << 30;

export class H2ClientStream extends EventEmitter {
  status = 0;
  unacked = 0;
  closed = false;

  constructor(
    readonly id: number,
    private readonly connection: H2ClientConnection,
  ) {
    super();
  }

  /** Cancels the request (RST_STREAM CANCEL). */
  close(): void {
    this.connection.cancel(this);
  }
}

/** Events: 'close' once the connection is gone. Streams emit 'response' (status), 'data', 'end', 'close'. */
export class H2ClientConnection extends EventEmitter {
  readonly #transport: Duplex;
  readonly #reader = new FrameReader(false);
  readonly #decoder = new HpackDecoder();
  readonly #streams = new Map<number, H2ClientStream>();
  readonly #authority: string;
  #nextId = 1;
  #connUnacked = 0;
  #headerBlock: { streamId: number; endStream: boolean; parts: Buffer[] } | undefined;
  #closed = false;

  constructor(transport: Duplex, authority: string) {
    super();
    this.#transport = transport;
    this.#authority = authority;
    this.#reader.maxFrameSize = 1 << 24;
    transport.write(
      Buffer.concat([
        CLIENT_PREFACE,
        settingsFrame([
          [Setting.ENABLE_PUSH, 0],
          [Setting.INITIAL_WINDOW_SIZE, STREAM_WINDOW],
          [Setting.MAX_FRAME_SIZE, 1 << 20],
        ]),
        windowUpdateFrame(0, CONNECTION_WINDOW - DEFAULT_WINDOW),
      ]),
    );
    transport.on('data', (chunk: Buffer) => {
      try {
        this.#reader.push(chunk, (f) => this.#onFrame(f));
      } catch {
        this.destroy();
      }
    });
    transport.on('close', () => this.destroy());
    transport.on('end', () => this.destroy());
    transport.on('error', () => this.destroy());
  }

  get closed(): boolean {
    return this.#closed;
  }

  request(path: string, body: Buffer): H2ClientStream {
    if (this.#closed) throw new Error('connection closed');
    const stream = new H2ClientStream(this.#nextId, this);
    this.#nextId += 2;
    this.#streams.set(stream.id, stream);
    const block = encodeHeaders([
      [':method', 'POST'],
      [':scheme', 'https'],
      [':authority', this.#authority],
      [':path', path],
      ['content-type', 'application/json'],
      ['content-length', String(body.length)],
    ]);
    this.#transport.write(
      Buffer.concat([encodeFrame(FrameType.HEADERS, Flag.END_HEADERS, stream.id, block), encodeFrame(FrameType.DATA, Flag.END_STREAM, stream.id, body)]),
    );
    return stream;
  }

  cancel(stream: H2ClientStream): void {
    if (stream.closed) return;
    if (!this.#closed) this.#transport.write(rstStreamFrame(stream.id, ErrorCode.CANCEL));
    this.#finish(stream);
  }

  destroy(): void {
    if (this.#closed) return;
    this.#closed = true;
    for (const s of [...this.#streams.values()]) this.#finish(s);
    this.#transport.destroy();
    this.emit('close');
  }

  #finish(stream: H2ClientStream): void {
    if (stream.closed) return;
    stream.closed = true;
    this.#streams.delete(stream.id);
    stream.emit('close');
  }

  #onFrame(f: Frame): void {
    switch (f.type) {
      case FrameType.DATA:
        return this.#onData(f);
      case FrameType.HEADERS:
      case FrameType.CONTINUATION: {
        let fragment = f.payload;
        if (f.type === FrameType.HEADERS) {
          if (f.flags & Flag.PADDED) fragment = fragment.subarray(1, fragment.length - fragment[0]!);
          if (f.flags & Flag.PRIORITY) fragment = fragment.subarray(5);
          this.#headerBlock = { streamId: f.streamId, endStream: (f.flags & Flag.END_STREAM) !== 0, parts: [] };
        }
        const block = this.#headerBlock;
        if (!block) throw new Error('CONTINUATION without HEADERS');
        block.parts.push(fragment);
        if (!(f.flags & Flag.END_HEADERS)) return;
        this.#headerBlock = undefined;
        return this.#onHeaders(block.streamId, block.endStream, Buffer.concat(block.parts));
      }
      case FrameType.RST_STREAM: {
        const s = this.#streams.get(f.streamId);
        if (s) this.#finish(s);
        return;
      }
      case FrameType.SETTINGS:
        if (!(f.flags & Flag.ACK)) this.#transport.write(encodeFrame(FrameType.SETTINGS, Flag.ACK, 0));
        return;
      case FrameType.PING:
        if (!(f.flags & Flag.ACK)) this.#transport.write(encodeFrame(FrameType.PING, Flag.ACK, 0, f.payload));
        return;
      case FrameType.GOAWAY:
        return this.destroy();
      default:
        return; // WINDOW_UPDATE (bodies fit the initial windows), PRIORITY, unknown
    }
  }

  #onHeaders(streamId: number, endStream: boolean, block: Buffer): void {
    const fields = this.#decoder.decode(block);
    const stream = this.#streams.get(streamId);
    if (!stream) return;
    if (stream.status === 0) {
      stream.status = Number(fields.find(([name]) => name === ':status')?.[1] ?? 0);
      stream.emit('response', stream.status);
    }
    if (endStream) this.#end(stream);
  }

  #onData(f: Frame): void {
    const length = f.payload.length;
    this.#connUnacked += length;
    if (this.#connUnacked >= CONNECTION_WINDOW / 2) {
      this.#transport.write(windowUpdateFrame(0, this.#connUnacked));
      this.#connUnacked = 0;
    }
    const stream = this.#streams.get(f.streamId);
    if (!stream) return;
    const data = f.flags & Flag.PADDED ? f.payload.subarray(1, length - f.payload[0]!) : f.payload;
    if (data.length > 0) stream.emit('data', data);
    if (f.flags & Flag.END_STREAM) return this.#end(stream);
    stream.unacked += length;
    if (stream.unacked >= STREAM_WINDOW / 2) {
      this.#transport.write(windowUpdateFrame(stream.id, stream.unacked));
      stream.unacked = 0;
    }
  }

  #end(stream: H2ClientStream): void {
    stream.emit('end');
    this.#finish(stream);
  }
}
