// Zero-config TLS for the DERP listener: a self-signed ECDSA P-256 certificate for the DERP
// host names/IPs, kept as PEM files (created on first start, reused while still valid for the
// same names, replaced when expiring within 30 days or not covering them), and the
// DERPNode.CertName pin "sha256-raw:<hex SHA-256 of the leaf DER>" that lets tailscaled
// (and `tailscale debug derp`) trust it without a CA.

import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import type tls from 'node:tls';
import { createSelfSignedCertificate, derToPem } from './x509.js';
import { certPin } from '../../protocol/derp/http-client.js';
import { DerpError } from '../../protocol/derp/errors.js';

export { certPin };

const DAY_MS = 24 * 3600 * 1000;
const RENEW_BEFORE_MS = 30 * DAY_MS;

export interface DerpCertificate {
  certPem: string;
  keyPem: string;
  certDer: Buffer;
  /** "sha256-raw:<hex>", for DERPNode.CertName. */
  pin: string;
  notAfter: Date;
  /** Why the files were (re)written, or undefined when reused as they were. */
  created: 'missing' | 'expiring' | 'names-changed' | 'invalid' | undefined;
}

export interface DerpCertificateOptions {
  certPath: string;
  keyPath: string;
  /** DNS names and/or IPs the clients dial (DERPNode.HostName, IPv4, IPv6). */
  hostNames: string[];
  /** Validity of a new certificate (default 5 years). */
  validDays?: number;
  now?: Date;
}

/** Makes a fresh key and certificate (not written anywhere). */
export function generateDerpCertificate(hostNames: string[], opts: { validDays?: number; now?: Date } = {}): Omit<DerpCertificate, 'created'> {
  const now = opts.now ?? new Date();
  const { privateKey } = crypto.generateKeyPairSync('ec', { namedCurve: 'P-256' });
  const notAfter = new Date(now.getTime() + (opts.validDays ?? 5 * 365) * DAY_MS);
  const certDer = createSelfSignedCertificate({
    privateKey,
    commonName: hostNames[0] ?? 'derp',
    hostNames,
    notBefore: new Date(now.getTime() - 3600 * 1000), // an hour of slack for clock skew
    notAfter,
  });
  return {
    certPem: derToPem(certDer),
    keyPem: privateKey.export({ type: 'pkcs8', format: 'pem' }) as string,
    certDer,
    pin: certPin(certDer),
    notAfter: new Date(Math.floor(notAfter.getTime() / 1000) * 1000),
  };
}

function covers(cert: crypto.X509Certificate, host: string): boolean {
  return net.isIP(host) ? cert.checkIP(host) !== undefined : cert.checkHost(host, { wildcards: false }) !== undefined;
}

function readIfPresent(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw new DerpError('ERR_DERP_TLS', `cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

/** Checks stored PEM files; returns the certificate or why it must be replaced. */
function inspect(certPem: string | undefined, keyPem: string | undefined, hostNames: string[], now: Date): DerpCertificate | DerpCertificate['created'] {
  if (certPem === undefined || keyPem === undefined) return 'missing';
  let cert: crypto.X509Certificate;
  try {
    cert = new crypto.X509Certificate(certPem);
    if (!cert.checkPrivateKey(crypto.createPrivateKey(keyPem))) return 'invalid';
  } catch {
    return 'invalid';
  }
  const notAfter = new Date(cert.validTo);
  if (notAfter.getTime() - now.getTime() < RENEW_BEFORE_MS || new Date(cert.validFrom) > now) return 'expiring';
  if (!hostNames.every((h) => covers(cert, h))) return 'names-changed';
  return { certPem, keyPem, certDer: cert.raw, pin: certPin(cert.raw), notAfter, created: undefined };
}

/** Writes atomically (temp file + rename), creating parent directories. */
function writeFileAtomic(file: string, data: string, mode: number): void {
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString('hex')}.tmp`;
  fs.writeFileSync(tmp, data, { mode });
  fs.renameSync(tmp, file);
}

/**
 * Loads the DERP certificate and key from their PEM files, or creates them (key mode 0600).
 * Files these paths point at are managed: an unusable, expiring or wrong-name pair is replaced.
 */
export function loadOrCreateDerpCertificate(opts: DerpCertificateOptions): DerpCertificate {
  if (opts.hostNames.length === 0) throw new DerpError('ERR_DERP_TLS', 'the DERP certificate needs at least one host name');
  const now = opts.now ?? new Date();
  const found = inspect(readIfPresent(opts.certPath), readIfPresent(opts.keyPath), opts.hostNames, now);
  if (typeof found === 'object') return found;
  const fresh = generateDerpCertificate(opts.hostNames, { ...(opts.validDays !== undefined ? { validDays: opts.validDays } : {}), now });
  try {
    writeFileAtomic(opts.keyPath, fresh.keyPem, 0o600);
    writeFileAtomic(opts.certPath, fresh.certPem, 0o644);
  } catch (err) {
    throw new DerpError('ERR_DERP_TLS', `cannot store the DERP certificate: ${(err as Error).message}`, { cause: err });
  }
  return { ...fresh, created: found };
}

/**
 * Options for tls.createServer / https.createServer: this certificate only (Go's pin check
 * wants exactly one), HTTP/1.1 only (DERP needs the Upgrade; the Go client offers no ALPN).
 */
export function derpTlsServerOptions(c: Pick<DerpCertificate, 'certPem' | 'keyPem'>): tls.TlsOptions {
  return { cert: c.certPem, key: c.keyPem, ALPNProtocols: ['http/1.1'], minVersion: 'TLSv1.2' };
}
