// The main listener (`listen_addr`): the public HTTP surface clients and browsers reach.
// Routes: GET /key, GET /health, GET /version, GET /robots.txt, GET /register/<id>, GET /, and
// upgrades (/ts2021, /derp) handed to onUpgrade. The same port answers TLS when given a certificate.
// Errors to unauthenticated callers are fixed strings and never repeat the request.

import http from 'node:http';
import type net from 'node:net';
import { createDualServer } from './dual-listener.js';
import type { Duplex } from 'node:stream';
import { SwitchboardError, describeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import { formatKey } from '../../crypto/keys.js';
import { versionInfo } from '../../version.js';
import { publishHttpRequest } from '../diagnostics.js';
import { isAuthId } from '../../state/pending-registrations.js';

export interface MainListenerDeps {
  noisePublicKey: Buffer;
  ping(): Promise<boolean>;
  logger: Logger;
  /** Takes over a request that carries an Upgrade header (/ts2021, /derp). */
  onUpgrade?: (req: http.IncomingMessage, socket: Duplex, head: Buffer) => void;
  /** Extra plain routes by exact path (e.g. /derp/probe); return true when handled. */
  extraRoute?: (req: http.IncomingMessage, res: http.ServerResponse) => boolean;
  /** Certificate and key: when given, the same port also speaks HTTPS (needed by DERP). */
  tls?: { cert: string | Buffer; key: string | Buffer };
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

/**
 * Connections the kernel may queue before we accept them. Node asks for 511; when every node
 * reconnects at once after a restart, the overflow is dropped and each of those clients waits a
 * SYN retransmission (a second or more). Linux caps the value at net.core.somaxconn (4096 on
 * current kernels), which is what Go servers get by default.
 */
const LISTEN_BACKLOG = 65535;

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
    if (deps.extraRoute?.(req, res)) return;
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
        return send(res, 400, 'missing Upgrade header: a reverse proxy in front of Switchboard must pass Upgrade and Connection through');
      case '/':
        return send(res, 200, '<!doctype html><title>Switchboard</title><p>Switchboard is running.</p>', 'text/html; charset=utf-8');
      default:
        if (url.pathname.startsWith('/register/') && get) return registerPage(res, url.pathname.slice('/register/'.length));
        return send(res, 404, 'not found');
    }
  };
}

/** The page a client's login URL opens: the command an admin runs to let the node in. */
function registerPage(res: http.ServerResponse, authId: string): void {
  if (!isAuthId(authId)) return send(res, 400, 'invalid registration ID');
  const html = `<!doctype html><html><head><meta charset="utf-8"><title>Switchboard: log in a node</title></head><body>
<h1>Log in a node</h1>
<p>An administrator completes this login on the Switchboard server with:</p>
<pre>switchboard auth register --auth-id ${authId} --user USERNAME</pre>
<p>To refuse it: <code>switchboard auth reject --auth-id ${authId}</code></p>
</body></html>`;
  send(res, 200, html, 'text/html; charset=utf-8');
}

function refuseUpgrade(socket: Duplex): void {
  socket.end('HTTP/1.1 400 Bad Request\r\nContent-Type: text/plain\r\nConnection: close\r\n\r\nunsupported upgrade\n');
}

export async function startMainListener(listenAddr: string, deps: MainListenerDeps): Promise<MainListener> {
  const { host, port } = splitHostPort(listenAddr);
  const server = http.createServer(createMainHandler(deps));
  server.on('upgrade', (req: http.IncomingMessage, socket: Duplex, head: Buffer) => {
    publishHttpRequest({ method: req.method ?? '', url: req.url ?? '', remoteAddress: req.socket.remoteAddress });
    socket.on('error', () => socket.destroy());
    if (deps.onUpgrade) deps.onUpgrade(req, socket, head);
    else refuseUpgrade(socket);
  });
  server.on('clientError', (_err, socket) => socket.destroy());
  const listener = createDualServer(server, deps.tls);
  // Upgraded sockets leave the HTTP server's bookkeeping; track them to close them on stop.
  const sockets = new Set<net.Socket>();
  listener.on('connection', (s: net.Socket) => {
    sockets.add(s);
    s.once('close', () => sockets.delete(s));
  });
  await new Promise<void>((resolve, reject) => {
    listener.once('error', (err) =>
      reject(new SwitchboardError('ERR_CONFIG_INVALID', `cannot listen on listen_addr ${listenAddr}: ${describeError(err)}`, { cause: err })),
    );
    listener.listen({ port, host, backlog: LISTEN_BACKLOG }, () => resolve());
  });
  const bound = listener.address();
  const realPort = typeof bound === 'object' && bound ? bound.port : port;
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${realPort}`;
  deps.logger.info('listening', { addr: url });
  return {
    url,
    port: realPort,
    close: () =>
      new Promise<void>((resolve) => {
        listener.close(() => resolve());
        server.closeAllConnections();
        for (const s of sockets) s.destroy();
      }),
  };
}

/** Splits "host:port", "[v6]:port" or ":port" (all interfaces). */
export function splitHostPort(addr: string): { host: string; port: number } {
  const m = /^(?:\[([^\]]+)\]|([^:]*)):(\d+)$/.exec(addr);
  if (!m) throw new SwitchboardError('ERR_CONFIG_INVALID', `listen address "${addr}" is not host:port`);
  return { host: m[1] ?? (m[2] || '0.0.0.0'), port: Number(m[3]) };
}
