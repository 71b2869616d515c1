// The main listener (`listen_addr`): the public HTTP surface clients and browsers reach.
// Routes: GET /key, GET /health, GET /version, GET /robots.txt, GET /, and the /ts2021 upgrade.
// Errors to unauthenticated callers are fixed strings and never repeat the request.

import http from 'node:http';
import type { Duplex } from 'node:stream';
import { SwitchboardError, describeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { formatKey } from '../../crypto/keys.js';
import { versionInfo } from '../../version.js';
import { publishHttpRequest } from '../diagnostics.js';

export interface MainListenerDeps {
  noisePublicKey: Buffer;
  ping(): Promise<boolean>;
  logger: Logger;
}

export interface MainListener {
  /** "http://host:port" of the bound socket (the port is real even when 0 was asked). */
  url: string;
  port: number;
  close(): Promise<void>;
}

const SECURITY_HEADERS = {
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

const ZERO_MKEY = formatKey('mkey', Buffer.alloc(32));

function send(res: http.ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendJson(res: http.ServerResponse, status: number, value: unknown, type = 'application/json; charset=utf-8'): void {
  send(res, status, JSON.stringify(value), type);
}

export function createMainHandler(deps: MainListenerDeps): http.RequestListener {
  const publicKey = formatKey('mkey', deps.noisePublicKey);
  return (req, res) => {
    publishHttpRequest({ method: req.method ?? '', url: req.url ?? '', remoteAddress: req.socket.remoteAddress });
    const url = new URL(req.url ?? '/', 'http://switchboard.invalid');
    const get = req.method === 'GET' || req.method === 'HEAD';
    switch (url.pathname) {
      case '/key': {
        if (!get) return send(res, 405, 'method not allowed');
        const v = url.searchParams.get('v');
        if (v === null || !/^\d{1,6}$/.test(v)) return send(res, 400, 'missing or invalid capability version (v)');
        return sendJson(res, 200, { legacyPublicKey: ZERO_MKEY, publicKey });
      }
      case '/health':
        deps.ping().then(
          (ok) => sendJson(res, ok ? 200 : 500, { status: ok ? 'pass' : 'fail' }, 'application/health+json; charset=utf-8'),
          () => sendJson(res, 500, { status: 'fail' }, 'application/health+json; charset=utf-8'),
        );
        return;
      case '/version':
        return sendJson(res, 200, versionInfo());
      case '/robots.txt':
        return send(res, 200, 'User-agent: *\nDisallow: /\n');
      case '/ts2021':
        return send(res, 501, 'the Tailscale control protocol is not implemented yet');
      case '/':
        return send(res, 200, '<!doctype html><title>Switchboard</title><p>Switchboard is running.</p>', 'text/html; charset=utf-8');
      default:
        return send(res, 404, 'not found');
    }
  };
}

/** Requests carrying an Upgrade header land here; until the protocol handlers exist, refuse them. */
function refuseUpgrade(req: http.IncomingMessage, socket: Duplex): void {
  publishHttpRequest({ method: req.method ?? '', url: req.url ?? '', remoteAddress: req.socket.remoteAddress });
  socket.end('HTTP/1.1 501 Not Implemented\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nupgrade not implemented yet\n');
}

export async function startMainListener(listenAddr: string, deps: MainListenerDeps): Promise<MainListener> {
  const { host, port } = splitHostPort(listenAddr);
  const server = http.createServer(createMainHandler(deps));
  server.on('upgrade', refuseUpgrade);
  server.on('clientError', (_err, socket) => socket.destroy());
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new SwitchboardError('ERR_CONFIG_INVALID', `cannot listen on listen_addr ${listenAddr}: ${describeError(err)}`, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address();
  const realPort = typeof bound === 'object' && bound ? bound.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${realPort}`;
  deps.logger.info('listening', { addr: url });
  return {
    url,
    port: realPort,
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }),
  };
}

/** Splits "host:port", "[v6]:port" or ":port" (all interfaces). */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new SwitchboardError('ERR_CONFIG_INVALID', `listen address "${addr}" is not host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}
