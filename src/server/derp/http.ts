// DERP's HTTP surface, as Tailscale's derpserver.Handler / cmd/derper serve it:
//   GET /derp + "Upgrade: DERP"       -> hand-written 101, then the raw DERP stream
//   GET /derp + "Upgrade: websocket"  -> RFC 6455 with subprotocol "derp" (browser clients);
//        without "derp" in Sec-WebSocket-Protocol it is treated as raw DERP (very old clients)
//   /derp without an Upgrade          -> 426 "DERP requires connection upgrade"
//   /derp/probe, /derp/latency-check  -> HEAD/GET: empty 200 + Access-Control-Allow-Origin: *;
//                                        other methods: 405 "bogus probe method"
//   /generate_204                     -> 204 + X-Tailscale-Response for a valid challenge
// Use handleDerpUpgrade from the http(s) server's 'upgrade' event and handleDerpRequest from
// its 'request' handler; both return false for paths they do not own.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Duplex } from 'node:stream';
import { PROTOCOL_VERSION } from '../../protocol/derp/frames.js';
import type { DerpServer } from './server.js';
import type { DerpError } from '../../protocol/derp/errors.js';
import { acceptWebSocket } from './websocket.js';
import { WsCloseCode } from './websocket-frames.js';

export interface DerpHttpOptions {
  /** Accept WebSocket DERP (default true). */
  websocket?: boolean;
  /** Told when a DERP connection ends (err undefined = normal hang-up). */
  onConnectionClose?: (err: DerpError | undefined, remoteAddress: string | undefined) => void;
}

function pathOf(req: IncomingMessage): string {
  const url = req.url ?? '/';
  const q = url.indexOf('?');
  return q < 0 ? url : url.slice(0, q);
}

function header(req: IncomingMessage, name: string): string {
  const v = req.headers[name];
  return Array.isArray(v) ? v.join(', ') : (v ?? '');
}

/** Go's http.Error: text/plain, nosniff, the message plus a newline. */
function rawHttpError(socket: Duplex, status: number, reason: string, message: string): void {
  const body = message + '\n';
  socket.end(
    `HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nX-Content-Type-Options: nosniff\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`,
  );
}

function tuneSocket(socket: Duplex): void {
  const s = socket as Duplex & { setNoDelay?: (v: boolean) => void; setTimeout?: (ms: number) => void };
  s.setNoDelay?.(true);
  s.setTimeout?.(0);
}

/**
 * Serves an HTTP upgrade for "/derp". Returns false (touching nothing) for other paths.
 * `head` (bytes already read past the request) is fed to the DERP stream first.
 */
export function handleDerpUpgrade(server: DerpServer, req: IncomingMessage, socket: Duplex, head: Buffer, opts: DerpHttpOptions = {}): boolean {
  if (pathOf(req) !== '/derp') return false;
  const remoteAddress = req.socket.remoteAddress;
  const onClose = (err: DerpError | undefined) => opts.onConnectionClose?.(err, remoteAddress);
  const accept = remoteAddress !== undefined ? { onClose, remoteAddress } : { onClose };
  const upgrade = header(req, 'upgrade').toLowerCase();
  const wantsWs = upgrade === 'websocket' && header(req, 'sec-websocket-protocol').includes('derp');

  if (wantsWs && opts.websocket !== false) {
    tuneSocket(socket);
    const ws = acceptWebSocket(req, socket, head, { protocols: ['derp'] });
    if (!ws) return true;
    if (ws.protocol !== 'derp') {
      ws.closeWith(WsCloseCode.PolicyViolation, 'client must speak the derp subprotocol');
      return true;
    }
    server.accept(ws, accept);
    return true;
  }
  if (upgrade !== 'derp' && upgrade !== 'websocket') {
    rawHttpError(socket, 426, 'Upgrade Required', 'DERP requires connection upgrade');
    return true;
  }

  tuneSocket(socket);
  // Derp-Fast-Start: 1 means the client skips the 101 and already sent its ClientInfo.
  if (header(req, 'derp-fast-start') !== '1') {
    socket.write(
      'HTTP/1.1 101 Switching Protocols\r\nUpgrade: DERP\r\nConnection: Upgrade\r\n' +
        `Derp-Version: ${PROTOCOL_VERSION}\r\nDerp-Public-Key: ${server.publicKey.toString('hex')}\r\n\r\n`,
    );
  }
  if (head.length > 0) socket.unshift(head);
  server.accept(socket, accept);
  socket.resume();
  return true;
}

/** Returns an 'upgrade' listener bound to `server`. */
export function createDerpUpgradeHandler(server: DerpServer, opts: DerpHttpOptions = {}): (req: IncomingMessage, socket: Duplex, head: Buffer) => boolean {
  return (req, socket, head) => handleDerpUpgrade(server, req, socket, head, opts);
}

/** The probe endpoint used for HTTPS latency measurement. */
export function derpProbeHandler(req: IncomingMessage, res: ServerResponse): void {
  if (req.method === 'HEAD' || req.method === 'GET') {
    res.writeHead(200, { 'Access-Control-Allow-Origin': '*', 'Content-Length': '0' });
    res.end();
    return;
  }
  const body = 'bogus probe method\n';
  res.writeHead(405, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

/** Captive-portal check: 204, echoing a valid X-Tailscale-Challenge as X-Tailscale-Response. */
export function serveNoContent(req: IncomingMessage, res: ServerResponse): void {
  const challenge = header(req, 'x-tailscale-challenge');
  const headers: Record<string, string> = { 'Cache-Control': 'no-cache, no-store, must-revalidate, no-transform, max-age=0' };
  if (challenge && challenge.length <= 64 && /^[A-Za-z0-9._:-]+$/.test(challenge)) headers['X-Tailscale-Response'] = `response ${challenge}`;
  res.writeHead(204, headers);
  res.end();
}

/**
 * Plain (non-upgrade) requests for DERP paths: /derp (426), /derp/probe,
 * /derp/latency-check and /generate_204. Returns false for anything else.
 */
export function handleDerpRequest(req: IncomingMessage, res: ServerResponse): boolean {
  switch (pathOf(req)) {
    case '/derp/probe':
    case '/derp/latency-check':
      derpProbeHandler(req, res);
      return true;
    case '/generate_204':
      serveNoContent(req, res);
      return true;
    case '/derp': {
      const body = 'DERP requires connection upgrade\n';
      res.writeHead(426, { 'Content-Type': 'text/plain; charset=utf-8', 'X-Content-Type-Options': 'nosniff', 'Content-Length': Buffer.byteLength(body) });
      res.end(body);
      return true;
    }
    default:
      return false;
  }
}
