// One request on our HTTP/2 server connection: its headers, its body (buffered until someone
// reads it, never more than the stream's flow-control window), and the response written back.
// Writes are queued here and framed by the connection as the peer's windows allow.
//
// Events: 'drain' after a write() returned false and everything queued has gone to the
// transport; 'close' once, when the stream is over (both sides ended, reset by either side, or
// the connection gone).

import { EventEmitter } from 'node:events';
import { H2Error } from './errors.js';
import { ErrorCode } from './frames.js';
import type { HeaderField } from './hpack.js';

/** What a stream needs from its connection. */
export interface StreamOwner {
  sendHeaders(stream: H2ServerStream, fields: HeaderField[], endStream: boolean): void;
  /** Frames as much of the stream's queue as the windows allow. */
  pump(stream: H2ServerStream): void;
  /** Sends RST_STREAM and forgets the stream. */
  reset(stream: H2ServerStream, code: number): void;
  /** Bytes written by every stream and not yet taken by the transport. */
  backlog(): number;
}

/** Above this much unsent output, write() asks the caller to wait for 'drain'. */
export const WRITE_HIGH_WATER = 256 * 1024;

/** Request body a stream holds before anyone asks to read it; more resets the stream. */
const UNREAD_BODY_LIMIT = 4 << 20;

export class H2ServerStream extends EventEmitter {
  readonly id: number;
  /** Request headers, lower-case names; repeated fields joined with ", ". */
  readonly headers: Readonly<Record<string, string>>;
  readonly #owner: StreamOwner;
  /** Flow-control window for what we send (the peer's), and for what we receive (ours). */
  sendWindow: number;
  recvWindow: number;
  /** Received DATA bytes not yet returned to the peer with WINDOW_UPDATE. */
  recvUnacked = 0;
  /** Response bytes waiting for window; `endQueued` sends END_STREAM after them. */
  readonly queue: Buffer[] = [];
  queuedBytes = 0;
  endQueued = false;
  needDrain = false;
  remoteEnded = false;
  localEnded = false;
  #headersSent = false;
  #closed = false;
  #body: Buffer[] = [];
  #bodyBytes = 0;
  #reader: { limit: number; resolve: (b: Buffer) => void; reject: (e: Error) => void } | undefined;

  constructor(owner: StreamOwner, id: number, headers: Record<string, string>, sendWindow: number, recvWindow: number) {
    super();
    this.#owner = owner;
    this.id = id;
    this.headers = headers;
    this.sendWindow = sendWindow;
    this.recvWindow = recvWindow;
  }

  get closed(): boolean {
    return this.#closed;
  }

  get headersSent(): boolean {
    return this.#headersSent;
  }

  /** Bytes written and not yet handed to the transport, this stream's and the connection's. */
  get writableLength(): number {
    return this.queuedBytes + this.#owner.backlog();
  }

  /**
   * The whole request body. Rejects with ERR_H2_BODY_TOO_LARGE past `limit` bytes (the rest is
   * discarded) and with ERR_H2_STREAM_CLOSED if the stream ends first.
   */
  readBody(limit: number): Promise<Buffer> {
    if (this.#reader) return Promise.reject(new Error('readBody called twice'));
    return new Promise((resolve, reject) => {
      this.#reader = { limit, resolve, reject };
      this.#settleBody();
    });
  }

  respond(status: number, headers: Record<string, string> = {}, options: { endStream?: boolean } = {}): void {
    if (this.#closed || this.#headersSent) return;
    this.#headersSent = true;
    const fields: HeaderField[] = [[':status', String(status)]];
    for (const [name, value] of Object.entries(headers)) fields.push([name.toLowerCase(), value]);
    const endStream = options.endStream === true;
    this.#owner.sendHeaders(this, fields, endStream);
    if (endStream) this.#localEnd();
  }

  /** Queues response bytes; false when the caller should wait for 'drain' before writing more. */
  write(data: Buffer): boolean {
    if (this.#closed || this.endQueued) return true;
    if (!this.#headersSent) this.respond(200);
    if (data.length > 0) {
      this.queue.push(data);
      this.queuedBytes += data.length;
      this.#owner.pump(this);
    }
    const ok = this.queuedBytes === 0 && this.#owner.backlog() < WRITE_HIGH_WATER;
    if (!ok) this.needDrain = true;
    return ok;
  }

  /** Ends the response after what is queued (and `data`, if given). */
  end(data?: Buffer | string): void {
    if (this.#closed || this.endQueued) return;
    if (!this.#headersSent) {
      if (data === undefined || data.length === 0) return this.respond(200, {}, { endStream: true });
      this.respond(200);
    }
    if (data !== undefined && data.length > 0) this.write(typeof data === 'string' ? Buffer.from(data, 'utf8') : data);
    this.endQueued = true;
    this.#owner.pump(this);
  }

  /** Abandons the stream with RST_STREAM (default CANCEL). */
  close(code: number = ErrorCode.CANCEL): void {
    if (this.#closed) return;
    this.#owner.reset(this, code);
  }

  // ---- called by the connection ----

  /** DATA payload from the peer (padding already removed). */
  receive(data: Buffer): void {
    if (!this.#reader && this.#bodyBytes + data.length > UNREAD_BODY_LIMIT) {
      throw new H2Error('ERR_H2_BODY_TOO_LARGE', `more than ${UNREAD_BODY_LIMIT} bytes of request body nobody reads`, ErrorCode.CANCEL, this.id);
    }
    if (this.#bodyBytes > (this.#reader?.limit ?? Infinity)) return;
    this.#bodyBytes += data.length;
    this.#body.push(data);
    this.#settleBody();
  }

  remoteEnd(): void {
    this.remoteEnded = true;
    this.#settleBody();
  }

  /** END_STREAM has gone out. */
  localEndSent(): void {
    this.#localEnd();
  }

  /** The stream is over; idempotent. */
  finish(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.queue.length = 0;
    this.queuedBytes = 0;
    this.#body = [];
    const reader = this.#reader;
    if (reader && !this.remoteEnded) reader.reject(new H2Error('ERR_H2_STREAM_CLOSED', 'the stream closed before its body ended', ErrorCode.CANCEL, this.id));
    this.emit('close');
  }

  drained(): void {
    if (!this.needDrain || this.queuedBytes > 0 || this.#closed) return;
    this.needDrain = false;
    this.emit('drain');
  }

  #localEnd(): void {
    this.localEnded = true;
    if (this.remoteEnded) this.finish();
    else this.#owner.reset(this, ErrorCode.NO_ERROR); // the response is complete; the rest of the request is not wanted
  }

  #settleBody(): void {
    const reader = this.#reader;
    if (!reader) return;
    if (this.#bodyBytes > reader.limit) {
      this.#body = [];
      reader.reject(new H2Error('ERR_H2_BODY_TOO_LARGE', `request body larger than ${reader.limit} bytes`, ErrorCode.CANCEL, this.id));
      this.#reader = { ...reader, resolve: () => {}, reject: () => {} };
      return;
    }
    if (!this.remoteEnded) return;
    const body = this.#body.length === 1 ? this.#body[0]! : Buffer.concat(this.#body);
    this.#body = [];
    this.#reader = { ...reader, resolve: () => {}, reject: () => {} };
    reader.resolve(body);
  }
}
