// A minimal RFC 6455 WebSocket carrier for ts2021 (the JS/WASM client's transport): turns a
// socket that finished the WebSocket HTTP handshake into a plain byte-stream Duplex, so the
// Noise records can run over it. Message boundaries carry no meaning (Tailscale's wsconn reads
// binary messages as a byte stream). No extensions (no permessage-deflate), no text messages.
// Frame layout and constants: websocket-frame.ts. Client→server frames must be masked,
// server→client frames must not be. The reader is a state machine (one method per state) that
// streams data payloads through without holding a whole frame; control frames (≤125 bytes)
// are the only thing buffered.

import { Duplex } from 'node:stream';
import { NoiseError } from './errors.js';
import { ByteQueue } from '../../lib/byte-queue.js';
import {
  CLOSE_NORMAL,
  CLOSE_PROTOCOL_ERROR,
  CLOSE_UNSUPPORTED_DATA,
  MAX_OUTGOING_MESSAGE,
  OP_BINARY,
  OP_CLOSE,
  OP_CONT,
  OP_PING,
  OP_PONG,
  OP_TEXT,
  WsViolation,
  encodeFrame,
} from './websocket-frame.js';

type State = 'header' | 'length' | 'mask' | 'payload' | 'dead';
const noop = (): void => {};

export interface WebSocketDuplexOptions {
  /** 'server': expect masked input, send unmasked; 'client': the reverse. */
  role: 'server' | 'client';
  /** Bytes that arrived after the HTTP handshake. */
  head?: Buffer;
}

export class WebSocketDuplex extends Duplex {
  readonly #socket: Duplex;
  readonly #role: 'server' | 'client';
  readonly #queue = new ByteQueue();
  #state: State = 'header';
  #opcode = 0;
  #fin = false;
  #masked = false;
  #lengthBytes = 0;
  #remaining = 0;
  #mask = Buffer.alloc(4);
  #maskOffset = 0;
  #control: Buffer[] = [];
  #inMessage = false;
  #sentClose = false;
  #gotClose = false;
  #sawEof = false;
  readonly #onData = (chunk: Buffer): void => this.#feed(chunk);
  readonly #onEnd = (): void => {
    this.#sawEof = true;
    if (!this.#gotClose) this.push(null); // TCP EOF without a close frame: treat as end of stream
  };
  readonly #onError = (err: Error): void => {
    this.destroy(err);
  };
  readonly #onClose = (): void => {
    // Abrupt close; after EOF or a close frame, buffered data is still to be read.
    if (!this.#sawEof && !this.#gotClose) this.destroy();
  };

  constructor(socket: Duplex, options: WebSocketDuplexOptions) {
    super({ allowHalfOpen: true });
    this.#socket = socket;
    this.#role = options.role;
    socket.on('error', this.#onError);
    if (options.head !== undefined && options.head.length > 0) this.#feed(options.head);
    if (this.destroyed) return;
    socket.on('data', this.#onData);
    socket.on('end', this.#onEnd);
    socket.on('close', this.#onClose);
    socket.resume();
  }

  setNoDelay(noDelay = true): this {
    const s = this.#socket as Duplex & { setNoDelay?: (v: boolean) => unknown };
    if (typeof s.setNoDelay === 'function') s.setNoDelay(noDelay);
    return this;
  }

  override _read(): void {
    if (this.#socket.isPaused()) this.#socket.resume();
  }

  override _write(chunk: Buffer, _encoding: BufferEncoding, callback: (error?: Error | null) => void): void {
    if (this.#sentClose || this.#socket.destroyed || this.#socket.writableEnded) {
      callback(new NoiseError('ERR_NOISE_CLOSED', 'WebSocket is closing'));
      return;
    }
    const count = Math.max(1, Math.ceil(chunk.length / MAX_OUTGOING_MESSAGE)); // one message each
    const frames = Array.from({ length: count }, (_, i) =>
      this.#frame(OP_BINARY, chunk.subarray(i * MAX_OUTGOING_MESSAGE, (i + 1) * MAX_OUTGOING_MESSAGE)),
    );
    if (this.#socket.write(frames.length === 1 ? frames[0]! : Buffer.concat(frames))) {
      callback();
      return;
    }
    const done = (err?: Error): void => {
      this.#socket.off('drain', onDrain);
      this.#socket.off('close', onClose);
      callback(err);
    };
    const onDrain = (): void => done();
    const onClose = (): void => done(new NoiseError('ERR_NOISE_CLOSED', 'socket closed during write'));
    this.#socket.on('drain', onDrain);
    this.#socket.on('close', onClose);
  }

  override _final(callback: (error?: Error | null) => void): void {
    this.#sendClose(CLOSE_NORMAL);
    if (this.#gotClose && !this.#socket.writableEnded) this.#socket.end();
    callback();
  }

  override _destroy(err: Error | null, callback: (error?: Error | null) => void): void {
    this.#state = 'dead';
    this.#queue.clear();
    const s = this.#socket;
    s.off('data', this.#onData);
    s.off('end', this.#onEnd);
    s.off('close', this.#onClose);
    s.off('error', this.#onError);
    s.on('error', noop);
    if (err !== null || !s.writableEnded) {
      if (!s.destroyed) s.destroy();
    } else if (!s.destroyed) {
      // Clean close: let the FIN (after our close frame) go out, with a deadline.
      const timer = setTimeout(() => s.destroy(), 5000);
      timer.unref();
      s.once('close', () => clearTimeout(timer));
      if (s.writableFinished) s.destroy();
      else s.once('finish', () => s.destroy());
    }
    callback(err);
  }

  #frame(opcode: number, payload: Buffer): Buffer {
    return encodeFrame(opcode, payload, this.#role === 'client');
  }

  #sendClose(code: number): void {
    if (this.#sentClose || this.#socket.destroyed || this.#socket.writableEnded) return;
    this.#sentClose = true;
    const body = Buffer.alloc(2);
    body.writeUInt16BE(code, 0);
    this.#socket.write(this.#frame(OP_CLOSE, body));
  }

  #feed(chunk: Buffer): void {
    if (this.#state === 'dead' || chunk.length === 0) return;
    this.#queue.push(chunk);
    try {
      for (;;) {
        const progressed =
          this.#state === 'header'
            ? this.#readHeader()
            : this.#state === 'length'
              ? this.#readLength()
              : this.#state === 'mask'
                ? this.#readMask()
                : this.#state === 'payload'
                  ? this.#readPayload()
                  : false;
        if (!progressed) return;
      }
    } catch (err) {
      this.#fail(err instanceof WsViolation ? err.closeCode : CLOSE_PROTOCOL_ERROR, err instanceof Error ? err.message : 'WebSocket error');
    }
  }

  /** State header: 2 bytes — FIN, RSV, opcode, MASK, len7. */
  #readHeader(): boolean {
    if (this.#queue.length < 2) return false;
    const h = this.#queue.take(2);
    const b0 = h[0]!;
    const b1 = h[1]!;
    this.#fin = (b0 & 0x80) !== 0;
    this.#opcode = b0 & 0x0f;
    this.#masked = (b1 & 0x80) !== 0;
    const len7 = b1 & 0x7f;
    if ((b0 & 0x70) !== 0) throw new WsViolation(CLOSE_PROTOCOL_ERROR, 'WebSocket frame has RSV bits set');
    if (this.#masked !== (this.#role === 'server')) throw new WsViolation(CLOSE_PROTOCOL_ERROR, 'WebSocket frame masking is wrong for its direction');
    const op = this.#opcode;
    if (op >= 0x8) {
      if (op !== OP_CLOSE && op !== OP_PING && op !== OP_PONG) throw new WsViolation(CLOSE_PROTOCOL_ERROR, 'unknown WebSocket control opcode');
      if (!this.#fin || len7 > 125) throw new WsViolation(CLOSE_PROTOCOL_ERROR, 'fragmented or oversize WebSocket control frame');
    } else if (op === OP_TEXT) {
      throw new WsViolation(CLOSE_UNSUPPORTED_DATA, 'WebSocket text messages are not accepted');
    } else if (op === OP_BINARY) {
      if (this.#inMessage) throw new WsViolation(CLOSE_PROTOCOL_ERROR, 'new WebSocket message inside a fragmented one');
      this.#inMessage = !this.#fin;
    } else if (op === OP_CONT) {
      if (!this.#inMessage) throw new WsViolation(CLOSE_PROTOCOL_ERROR, 'WebSocket continuation without a message');
      this.#inMessage = !this.#fin;
    } else {
      throw new WsViolation(CLOSE_PROTOCOL_ERROR, 'unknown WebSocket data opcode');
    }
    this.#lengthBytes = len7 === 126 ? 2 : len7 === 127 ? 8 : 0;
    this.#remaining = len7 < 126 ? len7 : 0;
    this.#state = this.#lengthBytes > 0 ? 'length' : this.#masked ? 'mask' : 'payload';
    return true;
  }

  /** State length: the 2- or 8-byte extended payload length. */
  #readLength(): boolean {
    if (this.#queue.length < this.#lengthBytes) return false;
    const b = this.#queue.take(this.#lengthBytes);
    if (this.#lengthBytes === 2) {
      this.#remaining = b.readUInt16BE(0);
    } else {
      const n = b.readBigUInt64BE(0);
      if (n > BigInt(Number.MAX_SAFE_INTEGER)) throw new WsViolation(CLOSE_PROTOCOL_ERROR, 'WebSocket frame length out of range');
      this.#remaining = Number(n);
    }
    this.#state = this.#masked ? 'mask' : 'payload';
    return true;
  }

  /** State mask: the 4-byte masking key. */
  #readMask(): boolean {
    if (this.#queue.length < 4) return false;
    this.#mask = Buffer.from(this.#queue.take(4));
    this.#maskOffset = 0;
    this.#state = 'payload';
    return true;
  }

  /** State payload: data is unmasked and passed on as it comes; control payloads are collected. */
  #readPayload(): boolean {
    if (this.#remaining > 0) {
      if (this.#queue.length === 0) return false;
      const part = this.#unmask(this.#queue.take(Math.min(this.#remaining, this.#queue.length, 64 * 1024)));
      this.#remaining -= part.length;
      if (this.#opcode >= 0x8) this.#control.push(part);
      else if (!this.push(part)) this.#socket.pause();
      if (this.#remaining > 0) return true;
    }
    this.#state = 'header';
    if (this.#opcode >= 0x8) this.#handleControl(Buffer.concat(this.#control));
    this.#control = [];
    return (this.#state as State) !== 'dead'; // #handleControl may have killed the reader
  }

  #handleControl(payload: Buffer): void {
    if (this.#opcode === OP_PING) {
      if (!this.#sentClose && !this.#socket.writableEnded) this.#socket.write(this.#frame(OP_PONG, payload));
    } else if (this.#opcode === OP_CLOSE) {
      if (payload.length === 1) throw new WsViolation(CLOSE_PROTOCOL_ERROR, 'WebSocket close frame with a 1-byte body');
      this.#gotClose = true;
      this.#state = 'dead';
      this.#sendClose(payload.length >= 2 ? payload.readUInt16BE(0) : CLOSE_NORMAL);
      if (!this.#socket.writableEnded) this.#socket.end();
      this.push(null);
    }
    // OP_PONG: nothing to do.
  }

  #unmask(data: Buffer): Buffer {
    if (!this.#masked) return data;
    const out = Buffer.allocUnsafe(data.length);
    for (let i = 0; i < data.length; i++) out[i] = data[i]! ^ this.#mask[(this.#maskOffset + i) & 3]!;
    this.#maskOffset = (this.#maskOffset + data.length) & 3;
    return out;
  }


  #fail(closeCode: number, message: string): void {
    if (this.#state === 'dead' && this.destroyed) return;
    this.#state = 'dead';
    this.#sendClose(closeCode);
    this.destroy(new NoiseError('ERR_NOISE_WEBSOCKET', message));
  }
}
