// The client side of DERP's HTTP transport: the "GET /derp" + "Upgrade: DERP" request and its
// 101 answer, plus dialing TCP or TLS with the DERPMap's CertName "sha256-raw:<hex>" pin
// (the leaf's DER SHA-256 must match, and the name must match the cert, as Go's tlsdial does).

import crypto from 'node:crypto';
import net from 'node:net';
import tls from 'node:tls';
import type { Duplex } from 'node:stream';
import { DerpClient, type DerpClientOptions } from './client.js';
import { DerpError } from './errors.js';

export interface HttpResponseHead {
  statusCode: number;
  statusText: string;
  /** Lower-cased names; repeated headers joined with ", ". */
  headers: Record<string, string>;
}

const MAX_HEAD = 16 * 1024;

/** Reads an HTTP/1.x response head; bytes after the blank line are unshifted back. */
export function readHttpResponseHead(socket: Duplex, timeoutMs = 10_000): Promise<HttpResponseHead> {
  return new Promise((resolve, reject) => {
    let buf = Buffer.alloc(0);
    const finish = (err: Error | undefined, head?: HttpResponseHead, rest?: Buffer) => {
      clearTimeout(timer);
      socket.off('data', onData);
      socket.off('end', onEnd);
      socket.off('error', onEnd);
      if (err) return reject(err);
      socket.pause();
      if (rest && rest.length > 0) socket.unshift(rest);
      resolve(head!);
    };
    const onData = (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      const end = buf.indexOf('\r\n\r\n');
      if (end < 0) {
        if (buf.length > MAX_HEAD) finish(new DerpError('ERR_DERP_HTTP', 'HTTP response head too large'));
        return;
      }
      const lines = buf.subarray(0, end).toString('latin1').split('\r\n');
      const m = /^HTTP\/1\.[01] (\d{3}) ?(.*)$/.exec(lines[0] ?? '');
      if (!m) return finish(new DerpError('ERR_DERP_HTTP', `bad HTTP status line: ${JSON.stringify(lines[0])}`));
      const headers: Record<string, string> = {};
      for (const line of lines.slice(1)) {
        const i = line.indexOf(':');
        if (i <= 0) continue;
        const name = line.slice(0, i).trim().toLowerCase();
        const value = line.slice(i + 1).trim();
        headers[name] = headers[name] === undefined ? value : `${headers[name]}, ${value}`;
      }
      finish(undefined, { statusCode: Number(m[1]), statusText: m[2] ?? '', headers }, buf.subarray(end + 4));
    };
    const onEnd = (err?: Error) => finish(new DerpError('ERR_DERP_HTTP', 'connection closed before the HTTP response', { cause: err }));
    const timer = setTimeout(() => finish(new DerpError('ERR_DERP_TIMEOUT', 'no HTTP response in time')), timeoutMs);
    timer.unref();
    socket.on('data', onData);
    socket.on('end', onEnd);
    socket.on('error', onEnd);
  });
}

/** Sends "GET /derp" with "Upgrade: DERP" and waits for "101 Switching Protocols". */
export async function derpHttpUpgrade(socket: Duplex, opts: { host: string; path?: string; timeoutMs?: number }): Promise<HttpResponseHead> {
  socket.write(`GET ${opts.path ?? '/derp'} HTTP/1.1\r\nHost: ${opts.host}\r\nUpgrade: DERP\r\nConnection: Upgrade\r\nUser-Agent: switchboard-derp-client\r\n\r\n`);
  const head = await readHttpResponseHead(socket, opts.timeoutMs);
  if (head.statusCode !== 101) throw new DerpError('ERR_DERP_HTTP', `DERP upgrade refused: HTTP ${head.statusCode} ${head.statusText}`);
  return head;
}

/** "sha256-raw:<hex>" for a DER certificate, the DERPNode.CertName pin form. */
export function certPin(certDer: Uint8Array): string {
  return `sha256-raw:${crypto.createHash('sha256').update(certDer).digest('hex')}`;
}

/**
 * Checks a TLS peer the way Go's tlsdial.SetConfigExpectedCertHash does: exactly one
 * certificate (ignoring "derpkey…" meta certs) whose DER hash is the pin, valid now, and
 * valid for `host` (IP SAN for an address, DNS SAN otherwise). Returns an error or undefined.
 */
export function checkPinnedPeer(socket: tls.TLSSocket, pin: string, host: string): Error | undefined {
  const want = pin.replace(/^sha256-raw:/, '').toLowerCase();
  const chain: crypto.X509Certificate[] = [];
  let cert: tls.DetailedPeerCertificate | undefined = socket.getPeerCertificate(true);
  const seen = new Set<string>();
  while (cert && cert.raw && !seen.has(cert.fingerprint256)) {
    seen.add(cert.fingerprint256);
    chain.push(new crypto.X509Certificate(cert.raw));
    cert = cert.issuerCertificate;
  }
  const leaves = chain.filter((c) => !/CN=derpkey/.test(c.subject));
  if (leaves.length !== 1) return new DerpError('ERR_DERP_HTTP', `expected exactly one certificate, got ${leaves.length}`);
  const leaf = leaves[0]!;
  if (crypto.createHash('sha256').update(leaf.raw).digest('hex') !== want) return new DerpError('ERR_DERP_HTTP', 'cert hash does not match the pin');
  const now = Date.now();
  if (now < Date.parse(leaf.validFrom) || now > Date.parse(leaf.validTo)) return new DerpError('ERR_DERP_HTTP', 'cert not valid now');
  const ok = net.isIP(host) ? leaf.checkIP(host) !== undefined : leaf.checkHost(host) !== undefined;
  if (!ok) return new DerpError('ERR_DERP_HTTP', `cert does not match server name ${host}`);
  return undefined;
}

export interface DialDerpOptions extends DerpClientOptions {
  host: string;
  port: number;
  /** Speak TLS; `pin` ("sha256-raw:<hex>") replaces CA verification like DERPNode.CertName. */
  tls?: { pin?: string; ca?: string | Buffer; servername?: string };
  path?: string;
  timeoutMs?: number;
}

/** Dials a DERP server over HTTP(S), upgrades, and runs the DERP client handshake. */
export async function dialDerp(opts: DialDerpOptions): Promise<DerpClient> {
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const socket = await new Promise<net.Socket>((resolve, reject) => {
    const fail = (err: Error) => reject(new DerpError('ERR_DERP_HTTP', `cannot connect to ${opts.host}:${opts.port}: ${err.message}`, { cause: err }));
    if (!opts.tls) {
      const s = net.connect({ host: opts.host, port: opts.port }, () => resolve(s));
      s.once('error', fail);
      return;
    }
    const name = opts.tls.servername ?? opts.host;
    const pin = opts.tls.pin;
    const s = tls.connect(
      {
        host: opts.host,
        port: opts.port,
        ...(net.isIP(name) ? {} : { servername: name }),
        ...(opts.tls.ca ? { ca: opts.tls.ca } : {}),
        rejectUnauthorized: pin === undefined,
      },
      () => {
        const err = pin ? checkPinnedPeer(s, pin, name) : undefined;
        if (err) {
          s.destroy();
          return reject(err);
        }
        resolve(s);
      },
    );
    s.once('error', fail);
  });
  socket.setNoDelay(true);
  try {
    await derpHttpUpgrade(socket, { host: opts.tls ? opts.host : `${opts.host}:${opts.port}`, path: opts.path ?? '/derp', timeoutMs });
    const client = DerpClient.connect(socket, { ...opts, handshakeTimeoutMs: opts.handshakeTimeoutMs ?? timeoutMs });
    socket.resume();
    return await client;
  } catch (err) {
    socket.destroy();
    throw err;
  }
}
