// The embedded DERP relay as the server runs it (`derp.server.*`): the relay core, its STUN
// listener, the TLS certificate (the configured one, or a self-signed one created beside the
// DERP key and pinned in the DERP map), and the HTTP hooks the main listener calls.

import fs from 'node:fs';
import path from 'node:path';
import type http from 'node:http';
import type { Duplex } from 'node:stream';
import net from 'node:net';
import type { Config } from '../../config/index.js';
import type { Logger } from '../../lib/logger.js';
import { loadOrCreatePrivateKey } from '../../crypto/keys.js';
import type { DERPRegion } from '../../tailcfg/types.js';
import { embeddedRegion } from '../../mapper/derp-map.js';
import { splitHostPort } from '../http/main-listener.js';
import { DerpServer } from './server.js';
import { StunServer } from './stun-server.js';
import { handleDerpRequest, handleDerpUpgrade } from './http.js';
import { loadOrCreateDerpCertificate } from './tls.js';

export interface EmbeddedDerp {
  server: DerpServer;
  stun: StunServer | undefined;
  tls: { cert: string | Buffer; key: string | Buffer };
  /** Takes /derp upgrades; false for other paths. */
  upgrade(req: http.IncomingMessage, socket: Duplex, head: Buffer): boolean;
  /** Serves /derp/probe, /derp/latency-check; false for other paths. */
  route(req: http.IncomingMessage, res: http.ServerResponse): boolean;
  /** The region to advertise once the main listener's port is known. */
  region(listenPort: number): DERPRegion;
  close(): Promise<void>;
}

export async function startEmbeddedDerp(
  config: Config,
  isKnownNode: (nodePublicKey: Buffer) => boolean,
  logger: Logger,
): Promise<EmbeddedDerp> {
  const d = config.derp.server;
  const host = new URL(config.server_url).hostname.replace(/^\[|\]$/g, '');
  const server = new DerpServer({
    privateKey: loadOrCreatePrivateKey(d.private_key_path, 'DERP private key'),
    ...(d.verify_clients ? { verifyClient: (key: Buffer) => isKnownNode(key) } : {}),
  });

  let tls: { cert: string | Buffer; key: string | Buffer };
  let certName: string | undefined;
  if (config.tls_cert_path && config.tls_key_path) {
    tls = { cert: fs.readFileSync(config.tls_cert_path), key: fs.readFileSync(config.tls_key_path) };
  } else {
    const dir = path.dirname(d.private_key_path);
    const cert = loadOrCreateDerpCertificate({
      certPath: path.join(dir, 'derp_tls_cert.pem'),
      keyPath: path.join(dir, 'derp_tls_key.pem'),
      hostNames: [...new Set([host, d.ipv4, d.ipv6].filter(Boolean))],
    });
    if (cert.created) logger.info('created a self-signed DERP certificate', { pin: cert.pin, reason: cert.created });
    tls = { cert: cert.certPem, key: cert.keyPem };
    certName = cert.pin;
  }

  let stun: StunServer | undefined;
  let stunPort = -1;
  if (d.stun_listen_addr) {
    const { host: stunHost, port } = splitHostPort(d.stun_listen_addr);
    stun = new StunServer({ logger });
    stunPort = (await stun.listen(stunHost, port)).port;
    logger.info('STUN listening', { addr: `${stunHost}:${stunPort}` });
  }

  return {
    server,
    stun,
    tls,
    upgrade: (req, socket, head) => handleDerpUpgrade(server, req, socket, head),
    route: (req, res) => handleDerpRequest(req, res),
    region: (listenPort) =>
      embeddedRegion({
        regionId: d.region_id,
        regionCode: d.region_code,
        regionName: d.region_name,
        hostName: host,
        ipv4: d.ipv4 || (net.isIPv4(host) ? host : ''),
        ipv6: d.ipv6 || (net.isIPv6(host) ? host : ''),
        derpPort: listenPort,
        stunPort,
        certName,
      }),
    close: async () => {
      server.close();
      await stun?.close();
    },
  };
}
