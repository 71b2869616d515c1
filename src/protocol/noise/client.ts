// Our own ts2021 client side (for tests, the in-process protocol client and the load
// generator): does what control/controlhttp/client.go and client_js.go do on a connected
// Duplex (e.g. net.connect): the HTTP/1.1 upgrade request carrying the Noise initiation (native
// POST, or the WebSocket GET variant), checks the 101, finishes the handshake from the server's
// 51-byte answer, reads the optional early payload, and returns a NoiseStream ready for HTTP/2.

import crypto from 'node:crypto';
import type { Duplex } from 'node:stream';
import { readEarlyPayload, type EarlyNoise } from './early-payload.js';
import { NoiseError } from './errors.js';
import { initiateHandshake, type PrivateKeyInput } from './handshake.js';
import { handshakeAnswerSize } from './messages.js';
import { NoiseStream } from './transport.js';
import { HANDSHAKE_HEADER_NAME, TS2021_PATH, UPGRADE_HEADER_VALUE } from './upgrade.js';
import { websocketAccept } from './websocket-frame.js';
import { WebSocketDuplex } from './websocket.js';

export interface DialTs2021Options {
  /** A connected byte stream to the server (TCP socket, TLS socket, one end of a duplexPair). */
  socket: Duplex;
  machinePrivateKey: PrivateKeyInput;
  serverPublicKey: Uint8Array;
  /** Sent in the initiation header and prologue; tailscaled sends its capability version. */
  protocolVersion: number;
  /** Host header value (default "localhost"). */
  host?: string;
  /** 'http' = POST upgrade (native clients), 'websocket' = GET + RFC 6455 (JS clients). */
  carrier?: 'http' | 'websocket';
  /** Read the optional early payload before returning (default: on 'http' yes, on 'websocket' no, where the reference server never sends it). */
  readEarlyPayload?: boolean;
  /** Give up after this long (default 30 s); the socket is destroyed. */
  timeoutMs?: number;
}

export interface DialedTs2021 {
  stream: NoiseStream;
  earlyPayload: EarlyNoise | undefined;
  handshakeHash: Buffer;
  protocolVersion: number;
}

const MAX_RESPONSE_HEAD = 16 * 1024;

export async function dialTs2021(opts: DialTs2021Options): Promise<DialedTs2021> {
  const socket = opts.socket;
  const carrier = opts.carrier ?? 'http';
  const host = opts.host ?? 'localhost';
  const { initiation, handshake } = initiateHandshake({
    machinePrivateKey: opts.machinePrivateKey,
    serverPublicKey: opts.serverPublicKey,
    protocolVersion: opts.protocolVersion,
  });
  const b64 = initiation.toString('base64');
  const timer = setTimeout(() => socket.destroy(new NoiseError('ERR_NOISE_CLOSED', 'ts2021 dial timed out')), opts.timeoutMs ?? 30_000);
  try {
    const wsKey = crypto.randomBytes(16).toString('base64');
    if (carrier === 'http') {
      socket.write(
        `POST ${TS2021_PATH} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: ${UPGRADE_HEADER_VALUE}\r\nConnection: upgrade\r\n` +
          `${HANDSHAKE_HEADER_NAME}: ${b64}\r\nContent-Length: 0\r\n\r\n`,
      );
    } else {
      const query = new URLSearchParams({ [HANDSHAKE_HEADER_NAME]: b64 }).toString();
      socket.write(
        `GET ${TS2021_PATH}?${query} HTTP/1.1\r\nHost: ${host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n` +
          `Sec-WebSocket-Key: ${wsKey}\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Protocol: ${UPGRADE_HEADER_VALUE}\r\n\r\n`,
      );
    }

    // HTTP response head: status must be 101 and the Upgrade header the expected protocol.
    const headEnd = (b: Buffer): number | undefined => {
      const i = b.indexOf('\r\n\r\n');
      return i === -1 ? undefined : i + 4;
    };
    const { unit: httpHead, rest } = await collect(socket, headEnd, MAX_RESPONSE_HEAD);
    const { status, headers } = parseResponseHead(httpHead.toString('latin1'));
    if (status !== 101) throw new NoiseError('ERR_NOISE_BAD_UPGRADE', `unexpected HTTP response status ${status}`);
    let carrierStream: Duplex = socket;
    let afterHead = rest;
    if (carrier === 'http') {
      if (headers.get('upgrade') !== UPGRADE_HEADER_VALUE) throw new NoiseError('ERR_NOISE_BAD_UPGRADE', 'server switched to an unexpected protocol');
    } else {
      if (headers.get('sec-websocket-accept') !== websocketAccept(wsKey)) throw new NoiseError('ERR_NOISE_BAD_UPGRADE', 'bad Sec-WebSocket-Accept');
      if (headers.get('sec-websocket-protocol') !== UPGRADE_HEADER_VALUE) throw new NoiseError('ERR_NOISE_BAD_UPGRADE', 'server did not select the control subprotocol');
      carrierStream = new WebSocketDuplex(socket, { role: 'client', head: rest });
      afterHead = Buffer.alloc(0);
    }

    // <- e, ee, se: the 51-byte response (or a type-3 error frame).
    const answer = await collect(carrierStream, handshakeAnswerSize, 3 + 0xffff, afterHead);
    const keys = handshake.finish(answer.unit);
    const stream = new NoiseStream(carrierStream, {
      tx: keys.tx,
      rx: keys.rx,
      head: answer.rest,
      peerPublicKey: keys.serverKey,
      protocolVersion: keys.protocolVersion,
      handshakeHash: keys.handshakeHash,
    });
    stream.setNoDelay(true);
    let earlyPayload: EarlyNoise | undefined;
    if (opts.readEarlyPayload ?? carrier === 'http') earlyPayload = await readEarlyPayload(stream);
    return { stream, earlyPayload, handshakeHash: keys.handshakeHash, protocolVersion: keys.protocolVersion };
  } catch (err) {
    if (!socket.destroyed) socket.destroy();
    throw err;
  } finally {
    clearTimeout(timer);
  }
}

function parseResponseHead(text: string): { status: number; headers: Map<string, string> } {
  const lines = text.split('\r\n');
  const m = /^HTTP\/1\.[01] (\d{3})/.exec(lines[0] ?? '');
  if (!m) throw new NoiseError('ERR_NOISE_BAD_UPGRADE', 'malformed HTTP response');
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const i = line.indexOf(':');
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { status: Number(m[1]), headers };
}

/**
 * Reads from `stream` until `size(buffer)` reports how long the leading unit is and that many
 * bytes are in; returns the unit and the bytes after it, leaving the stream paused with our
 * listeners removed. Fails past `limit` bytes, on end/close, or on error.
 */
function collect(
  stream: Duplex,
  size: (b: Buffer) => number | undefined,
  limit: number,
  initial: Buffer = Buffer.alloc(0),
): Promise<{ unit: Buffer; rest: Buffer }> {
  return new Promise((resolve, reject) => {
    let buf: Buffer = initial;
    let settled = false;
    const settle = (fn: () => void): void => {
      if (settled) return;
      settled = true;
      stream.pause();
      stream.off('data', onData);
      stream.off('end', onEnd);
      stream.off('close', onEnd);
      stream.off('error', onError);
      fn();
    };
    const check = (): void => {
      let n: number | undefined;
      try {
        n = size(buf);
      } catch (err) {
        settle(() => reject(err));
        return;
      }
      if (n !== undefined && buf.length >= n) {
        const unit = buf.subarray(0, n);
        const rest = buf.subarray(n);
        settle(() => resolve({ unit, rest }));
      } else if (buf.length > limit) {
        settle(() => reject(new NoiseError('ERR_NOISE_BAD_RESPONSE', 'server answer too long')));
      }
    };
    const onData = (chunk: Buffer): void => {
      buf = buf.length === 0 ? chunk : Buffer.concat([buf, chunk]);
      check();
    };
    const onEnd = (): void => settle(() => reject(new NoiseError('ERR_NOISE_CLOSED', 'connection closed during the ts2021 handshake')));
    const onError = (err: Error): void => settle(() => reject(err));
    stream.on('error', onError);
    stream.on('end', onEnd);
    stream.on('close', onEnd);
    stream.on('data', onData);
    stream.resume(); // an earlier collect paused it; 'data' events start on a later tick
    if (buf.length > 0) check();
  });
}
