// A minimal RFC 6455 WebSocket endpoint presented as a byte-stream Duplex, enough to carry
// DERP for browser/wasm clients: the server handshake (with subprotocol selection and no
// compression), a client handshake (tests, diagnostics), and the stream itself. Data frames
// (binary or text, fragmented or not) are concatenated into one byte stream; each write
// becomes one binary message. Pings are answered, close frames are echoed.

import crypto from 'node:crypto';
import type { IncomingMessage } from 'node:http';
import { Duplex } from 'node:stream';
import { readHttpResponseHead } from '../../protocol/derp/http-client.js';
import { WsCloseCode, WsFrameParser, WsOpcode, closePayload, encodeWsFrame, type WsFrame } from './websocket-frames.js';

const WS_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
const DEFAULT_MAX_FRAME = 1 << 20;

export function webSocketAccept(key: string): string {
  return crypto.createHash('sha1').update(key + WS_GUID).digest('base64');
}

export interface WebSocketDuplexOptions {
  role: 'server' | 'client';
  /** Largest frame payload accepted (default 1 MiB); bigger ones close with 1009. */
  maxFramePayload?: number;
  /** The subprotocol agreed in the handshake, if any. */
  protocol?: string;
}

export class WebSocketDuplex extends Duplex {
  readonly protocol: string | undefined;
  readonly #socket: Duplex;
  readonly #role: 'server' | 'client';
  readonly #parser: WsFrameParser;
  #inMessage = false;
  #closeSent = false;
  #peerCloseCode: number | undefined;

  constructor(socket: Duplex, opts: WebSocketDuplexOptions) {
    super();
    this.#socket = socket;
    this.#role = opts.role;
    this.protocol = opts.protocol;
    this.#parser = new WsFrameParser({
      expectMasked: opts.role === 'server',
      maxPayload: opts.maxFramePayload ?? DEFAULT_MAX_FRAME,
      onFrame: (f) => this.#onFrame(f),
      onError: (e) => this.#protocolError(e.closeCode, e.message),
    });
    socket.on('data', (chunk: Buffer) => this.#parser.push(chunk));
    socket.on('end', () => this.push(null));
    socket.on('error', (err: Error) => this.destroy(err));
    socket.on('close', () => {
      this.push(null);
      if (!this.destroyed) this.destroy();
    });
  }

  /** The status code of the close frame the peer sent, once one arrived. */
  get peerCloseCode(): number | undefined {
    return this.#peerCloseCode;
  }

  /** Sends a close frame with `code` and ends the stream (e.g. 1008 for a wrong subprotocol). */
  closeWith(code: number, reason = ''): void {
    this.#sendClose(code, reason);
    this.#socket.end();
  }

  #mask(): Uint8Array | undefined {
    return this.#role === 'client' ? crypto.randomBytes(4) : undefined;
  }

  #sendFrame(opcode: number, payload: Uint8Array, cb?: (err?: Error | null) => void): void {
    const maskKey = this.#mask();
    this.#socket.write(encodeWsFrame(opcode, payload, maskKey ? { maskKey } : {}), cb);
  }

  #sendClose(code: number, reason: string): void {
    if (this.#closeSent || this.#socket.destroyed) return;
    this.#closeSent = true;
    this.#sendFrame(WsOpcode.Close, closePayload(code, reason));
  }

  #onFrame(f: WsFrame): void {
    switch (f.opcode) {
      case WsOpcode.Text:
      case WsOpcode.Binary:
        if (this.#inMessage) return this.#protocolError(WsCloseCode.ProtocolError, 'new message inside a fragmented one');
        this.#inMessage = !f.fin;
        return this.#pushData(f.payload);
      case WsOpcode.Continuation:
        if (!this.#inMessage) return this.#protocolError(WsCloseCode.ProtocolError, 'continuation without a message');
        this.#inMessage = !f.fin;
        return this.#pushData(f.payload);
      case WsOpcode.Ping:
        return this.#sendFrame(WsOpcode.Pong, f.payload);
      case WsOpcode.Pong:
        return;
      case WsOpcode.Close: {
        // Echo the peer's status code (RFC 6455 §5.5.1), then end our side.
        const code = f.payload.length >= 2 ? f.payload.readUInt16BE(0) : WsCloseCode.Normal;
        this.#peerCloseCode = code;
        this.#sendClose(code, '');
        this.push(null);
        this.#socket.end();
        return;
      }
      default:
        return;
    }
  }

  #pushData(payload: Buffer): void {
    if (payload.length === 0) return;
    if (!this.push(payload)) this.#socket.pause();
  }

  #protocolError(code: number, message: string): void {
    this.#sendClose(code, message);
    this.#socket.end();
    this.destroy(new Error(`websocket protocol error: ${message}`));
  }

  override _read(): void {
    this.#socket.resume();
  }

  override _write(chunk: Buffer, _enc: BufferEncoding, cb: (err?: Error | null) => void): void {
    if (this.#closeSent) return cb(new Error('websocket is closing'));
    this.#sendFrame(WsOpcode.Binary, chunk, cb);
  }

  override _final(cb: (err?: Error | null) => void): void {
    this.#sendClose(WsCloseCode.Normal, '');
    this.#socket.end();
    cb();
  }

  override _destroy(err: Error | null, cb: (err?: Error | null) => void): void {
    this.#socket.destroy();
    cb(err);
  }
}

function rejectHandshake(socket: Duplex, status: string, body: string, extra = ''): void {
  socket.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\n${extra}Connection: close\r\n\r\n${body}`);
}

/**
 * Completes a server-side WebSocket handshake on an HTTP 'upgrade'. Picks the first client
 * subprotocol that is in `protocols`. Answers 400/426 itself and returns undefined when the
 * request is not a valid RFC 6455 upgrade.
 */
export function acceptWebSocket(
  req: IncomingMessage,
  socket: Duplex,
  head: Buffer,
  opts: { protocols?: string[]; maxFramePayload?: number } = {},
): WebSocketDuplex | undefined {
  const key = req.headers['sec-websocket-key'];
  const version = req.headers['sec-websocket-version'];
  if (req.method !== 'GET' || typeof key !== 'string' || Buffer.from(key, 'base64').length !== 16) {
    rejectHandshake(socket, '400 Bad Request', 'bad WebSocket handshake\n');
    return undefined;
  }
  if (version !== '13') {
    rejectHandshake(socket, '426 Upgrade Required', 'unsupported WebSocket version\n', 'Sec-WebSocket-Version: 13\r\n');
    return undefined;
  }
  const offered = String(req.headers['sec-websocket-protocol'] ?? '')
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean);
  const protocol = offered.find((p) => (opts.protocols ?? []).includes(p));
  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${webSocketAccept(key)}\r\n` +
      (protocol ? `Sec-WebSocket-Protocol: ${protocol}\r\n` : '') +
      '\r\n',
  );
  if (head.length > 0) socket.unshift(head);
  const o: WebSocketDuplexOptions = { role: 'server' };
  if (protocol) o.protocol = protocol;
  if (opts.maxFramePayload) o.maxFramePayload = opts.maxFramePayload;
  return new WebSocketDuplex(socket, o);
}

/** Client side: sends the upgrade request on a connected socket and waits for the 101. */
export async function connectWebSocket(
  socket: Duplex,
  opts: { host: string; path: string; protocols?: string[]; timeoutMs?: number },
): Promise<WebSocketDuplex> {
  const key = crypto.randomBytes(16).toString('base64');
  socket.write(
    `GET ${opts.path} HTTP/1.1\r\nHost: ${opts.host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
      `Sec-WebSocket-Key: ${key}\r\nSec-WebSocket-Version: 13\r\n` +
      (opts.protocols?.length ? `Sec-WebSocket-Protocol: ${opts.protocols.join(', ')}\r\n` : '') +
      '\r\n',
  );
  const res = await readHttpResponseHead(socket, opts.timeoutMs ?? 10_000);
  if (res.statusCode !== 101) throw new Error(`WebSocket upgrade failed: HTTP ${res.statusCode}`);
  if (res.headers['sec-websocket-accept'] !== webSocketAccept(key)) throw new Error('WebSocket upgrade failed: bad Sec-WebSocket-Accept');
  const protocol = res.headers['sec-websocket-protocol'];
  return new WebSocketDuplex(socket, protocol ? { role: 'client', protocol } : { role: 'client' });
}
