// Server side of the /ts2021 protocol switch, for a node:http 'upgrade' event
// (control/controlhttp/controlhttpserver, Tailscale v1.102.3):
//   native:    POST /ts2021, Upgrade: tailscale-control-protocol, X-Tailscale-Handshake: <std b64>
//              → "101 Switching Protocols" + Upgrade: tailscale-control-protocol + Connection: upgrade,
//                then the 51-byte response and (optionally) the early payload, in one write.
//   WebSocket: GET /ts2021?X-Tailscale-Handshake=<b64>, Upgrade: websocket,
//              Sec-WebSocket-Protocol: tailscale-control-protocol → RFC 6455 101, then the Noise
//              frames ride in binary messages (websocket.ts). No early payload on this path.
// Refusals before the switch are a 400 with a fixed text (the reference server's wording) and a
// closed socket. A bad initiation after the switch gets a fixed error frame (type 3) or nothing.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { createEarlyPayload } from './early-payload.js';
import { NoiseError, isNoiseError } from './errors.js';
import { acceptHandshake, type PrivateKeyInput, type ServerHandshakeResult } from './handshake.js';
import { encodeErrorFrame } from './messages.js';
import { NoiseStream, sealRecords } from './transport.js';
import { websocketAccept } from './websocket-frame.js';
import { WebSocketDuplex } from './websocket.js';

export const TS2021_PATH = '/ts2021';
export const UPGRADE_HEADER_VALUE = 'tailscale-control-protocol';
export const HANDSHAKE_HEADER_NAME = 'X-Tailscale-Handshake';

/** The fixed texts of 400 answers (never built from the request). */
export const REFUSALS = {
  missingProtocol: 'missing next protocol',
  unknownProtocol: 'unknown next protocol',
  missingHandshake: 'missing Tailscale handshake header',
  invalidHandshake: 'invalid tailscale handshake header',
  notHttp1: 'make request over HTTP/1',
  badWebSocket: 'bad WebSocket upgrade request',
  wrongSubprotocol: 'client must speak the control subprotocol',
  missingHandshakeParam: 'missing Tailscale handshake parameter',
  invalidHandshakeParam: 'invalid tailscale handshake parameter',
} as const;

export interface AcceptTs2021Options {
  /** The server's Noise static key (the one GET /key publishes). */
  serverPrivateKey: PrivateKeyInput;
  /** Send the early payload with a fresh challenge on the native path (default true). */
  earlyPayload?: boolean;
}

export interface Ts2021Connection {
  /** Decrypted byte stream; hand it to an HTTP/2 server with emit('connection', stream). */
  stream: NoiseStream;
  /** The client's machine public key, authenticated by the handshake. */
  machineKey: Buffer;
  protocolVersion: number;
  handshakeHash: Buffer;
  carrier: 'http' | 'websocket';
  /** Private half of the early-payload challenge, when one was sent. */
  challengePrivateKey: Buffer | undefined;
}

/** True when the request targets /ts2021 (query ignored). */
export function isTs2021Request(req: IncomingMessage): boolean {
  const url = req.url ?? '';
  const q = url.indexOf('?');
  return (q === -1 ? url : url.slice(0, q)) === TS2021_PATH;
}

/**
 * For a /ts2021 request that reached the ordinary request handler (node emits 'upgrade' only
 * when an Upgrade header is present): the reference server's 400 "missing next protocol".
 */
export function refusePlainTs2021(res: ServerResponse): void {
  const body = REFUSALS.missingProtocol + '\n';
  res.writeHead(400, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
    'Content-Length': Buffer.byteLength(body),
  });
  res.end(body);
}

/**
 * Takes over an upgraded socket for /ts2021. Returns the Noise connection, or throws a
 * NoiseError after having answered the client (400 or error frame) and closed the socket.
 */
export function acceptTs2021(req: IncomingMessage, socket: Duplex, head: Buffer, options: AcceptTs2021Options): Ts2021Connection {
  socket.on('error', swallow); // until a stream owns the socket, a reset must not crash us
  try {
    const next = (headerValue(req, 'upgrade') ?? '').toLowerCase();
    if (next === '') refuse(socket, REFUSALS.missingProtocol);
    if (next === 'websocket') return acceptWebSocket(req, socket, head, options);
    if (next !== UPGRADE_HEADER_VALUE) refuse(socket, REFUSALS.unknownProtocol);
    if (!req.httpVersion.startsWith('1.')) refuse(socket, REFUSALS.notHttp1);
    const b64 = headerValue(req, HANDSHAKE_HEADER_NAME) ?? '';
    if (b64 === '') refuse(socket, REFUSALS.missingHandshake);
    const init = decodeStdBase64(b64);
    if (init === undefined) refuse(socket, REFUSALS.invalidHandshake);

    const switching =
      'HTTP/1.1 101 Switching Protocols\r\n' + `Upgrade: ${UPGRADE_HEADER_VALUE}\r\n` + 'Connection: upgrade\r\n' + '\r\n';
    const hs = handshakeOrAnswer(init, options.serverPrivateKey, (frame) =>
      endAndClose(socket, Buffer.concat([Buffer.from(switching, 'latin1'), frame ?? Buffer.alloc(0)])),
    );

    let challengePrivateKey: Buffer | undefined;
    const out = [Buffer.from(switching, 'latin1'), hs.response];
    if (options.earlyPayload !== false) {
      const early = createEarlyPayload();
      challengePrivateKey = early.challengePrivateKey;
      out.push(sealRecords(hs.tx, early.payload));
    }
    setNoDelay(socket);
    socket.write(Buffer.concat(out)); // 101 + response + early payload in one write ("corked")
    const conn = openConnection(socket, hs, 'http', challengePrivateKey, head);
    socket.off('error', swallow);
    return conn;
  } catch (err) {
    if (!closing.has(socket) && !socket.destroyed) socket.destroy();
    throw isNoiseError(err) ? err : new NoiseError('ERR_NOISE_BAD_UPGRADE', 'ts2021 upgrade failed', { cause: err });
  }
}

function acceptWebSocket(req: IncomingMessage, socket: Duplex, head: Buffer, options: AcceptTs2021Options): Ts2021Connection {
  const key = headerValue(req, 'sec-websocket-key') ?? '';
  const connection = (headerValue(req, 'connection') ?? '').toLowerCase().split(',').map((t) => t.trim());
  const keyBytes = decodeStdBase64(key);
  if (
    req.method !== 'GET' ||
    !req.httpVersion.startsWith('1.') ||
    !connection.includes('upgrade') ||
    headerValue(req, 'sec-websocket-version') !== '13' ||
    keyBytes === undefined ||
    keyBytes.length !== 16
  ) {
    refuse(socket, REFUSALS.badWebSocket);
  }
  const protocols = (headerValue(req, 'sec-websocket-protocol') ?? '').split(',').map((t) => t.trim());
  if (!protocols.includes(UPGRADE_HEADER_VALUE)) refuse(socket, REFUSALS.wrongSubprotocol);
  const query = new URLSearchParams((req.url ?? '').split('?')[1] ?? '');
  const b64 = query.get(HANDSHAKE_HEADER_NAME) ?? '';
  if (b64 === '') refuse(socket, REFUSALS.missingHandshakeParam);
  const init = decodeStdBase64(b64);
  if (init === undefined) refuse(socket, REFUSALS.invalidHandshakeParam);

  socket.write(
    'HTTP/1.1 101 Switching Protocols\r\n' +
      'Upgrade: websocket\r\n' +
      'Connection: Upgrade\r\n' +
      `Sec-WebSocket-Accept: ${websocketAccept(key)}\r\n` +
      `Sec-WebSocket-Protocol: ${UPGRADE_HEADER_VALUE}\r\n` +
      '\r\n',
  );
  setNoDelay(socket);
  const ws = new WebSocketDuplex(socket, { role: 'server', head });
  ws.on('error', swallow); // stays on if the handshake fails and the WebSocket closes
  const hs = handshakeOrAnswer(init, options.serverPrivateKey, (frame) => {
    if (frame !== undefined) ws.write(frame);
    ws.end(); // sends a close frame; the socket is closed when the peer answers or on a timer
    endAndClose(socket, undefined, true);
  });
  ws.off('error', swallow);
  ws.write(hs.response);
  const conn = openConnection(ws, hs, 'websocket', undefined);
  socket.off('error', swallow);
  return conn;
}

/** The record stream over `carrier` once the handshake succeeded. */
function openConnection(
  under: Duplex,
  hs: ServerHandshakeResult,
  carrier: Ts2021Connection['carrier'],
  challengePrivateKey: Buffer | undefined,
  head?: Buffer,
): Ts2021Connection {
  const stream = new NoiseStream(under, {
    tx: hs.tx,
    rx: hs.rx,
    ...(head ? { head } : {}),
    peerPublicKey: hs.machineKey,
    protocolVersion: hs.protocolVersion,
    handshakeHash: hs.handshakeHash,
  });
  return { stream, machineKey: hs.machineKey, protocolVersion: hs.protocolVersion, handshakeHash: hs.handshakeHash, carrier, challengePrivateKey };
}

/** Runs the handshake; on failure sends the fixed error frame (if any) via `answer`, then rethrows. */
function handshakeOrAnswer(
  init: Buffer,
  key: PrivateKeyInput,
  answer: (frame: Buffer | undefined) => void,
): ReturnType<typeof acceptHandshake> {
  try {
    return acceptHandshake(init, key);
  } catch (err) {
    answer(isNoiseError(err) && err.peerMessage !== undefined ? encodeErrorFrame(err.peerMessage) : undefined);
    throw err;
  }
}

/** Graceful close with a deadline: end (after `data`), destroy 5 s later if the peer lingers. */
const closing = new WeakSet<Duplex>();

function endAndClose(socket: Duplex, data: Buffer | string | undefined, timerOnly = false): void {
  closing.add(socket);
  if (!timerOnly && !socket.writableEnded && !socket.destroyed) {
    if (data === undefined) socket.end();
    else socket.end(data);
  }
  const timer = setTimeout(() => socket.destroy(), 5000);
  timer.unref();
  socket.once('close', () => clearTimeout(timer));
}

/** Writes a fixed 400 text, closes the socket, and throws. */
function refuse(socket: Duplex, text: string): never {
  const body = text + '\n';
  endAndClose(
    socket,
    'HTTP/1.1 400 Bad Request\r\n' +
      'Content-Type: text/plain; charset=utf-8\r\n' +
      'X-Content-Type-Options: nosniff\r\n' +
      `Content-Length: ${Buffer.byteLength(body)}\r\n` +
      'Connection: close\r\n' +
      '\r\n' +
      body,
  );
  throw new NoiseError('ERR_NOISE_BAD_UPGRADE', `ts2021 upgrade refused: ${text}`);
}

function headerValue(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name.toLowerCase()];
  return Array.isArray(v) ? v[0] : v;
}

/** Strict standard base64 with padding (Go's base64.StdEncoding), or undefined. */
export function decodeStdBase64(text: string): Buffer | undefined {
  const t = text.replace(/[\r\n]/g, '');
  if (t.length % 4 !== 0 || !/^[A-Za-z0-9+/]*={0,2}$/.test(t)) return undefined;
  return Buffer.from(t, 'base64');
}

function setNoDelay(socket: Duplex): void {
  const s = socket as Duplex & { setNoDelay?: (v: boolean) => unknown };
  if (typeof s.setNoDelay === 'function') s.setNoDelay(true);
}

function swallow(): void {}
