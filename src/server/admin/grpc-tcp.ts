// The remote admin service: gRPC on `grpc_listen_addr`, over TLS (the main listener's
// certificate) or, with `grpc_allow_insecure: true`, plaintext HTTP/2 (h2c, prior knowledge).
// Every call must carry `authorization: Bearer <api key>`; there is no reflection here. Statuses
// follow headscale: no header → Unauthenticated "authorization token not supplied", anything
// else that is not a valid, unexpired key → Unauthenticated "invalid token".

import http2 from 'node:http2';
import type net from 'node:net';
import { connectNodeAdapter } from '@connectrpc/connect-node';
import { Code, ConnectError, type Interceptor } from '@connectrpc/connect';
import { HeadscaleService } from '../../gen/headscale/v1/headscale_pb.js';
import { SwitchboardError, describeError } from '../../lib/errors.js';
import type { Logger } from '../../lib/logger.js';
import type { Impl } from './service.js';
import type { ApiKeyAuthenticator } from './api-key-auth.js';
import { splitHostPort } from '../http/main-listener.js';
import { withSafeAuthority } from './safe-handler.js';

export interface AdminTcpServer {
  port: number;
  /** "host:port" as a client dials it. */
  address: string;
  tls: boolean;
  close(): Promise<void>;
}

export interface AdminTcpOptions {
  addr: string;
  service: Impl;
  auth: ApiKeyAuthenticator;
  logger: Logger;
  /** PEM certificate and key; without them the listener is plaintext. */
  tls?: { cert: string | Buffer; key: string | Buffer };
}

/** Refuses a call without a valid Bearer API key, before the handler runs. */
export function apiKeyInterceptor(auth: ApiKeyAuthenticator, logger: Logger): Interceptor {
  return (next) => async (req) => {
    const outcome = await auth.check(req.header.get('authorization'));
    if (outcome === 'missing') throw new ConnectError('authorization token not supplied', Code.Unauthenticated);
    if (outcome !== 'ok') {
      logger.info('admin gRPC call with an invalid token', { method: req.method.name });
      throw new ConnectError('invalid token', Code.Unauthenticated);
    }
    return next(req);
  };
}

export async function startAdminTcp(opts: AdminTcpOptions): Promise<AdminTcpServer> {
  const { host, port } = splitHostPort(opts.addr);
  const handler = connectNodeAdapter({
    routes: (router) => router.service(HeadscaleService, opts.service),
    interceptors: [apiKeyInterceptor(opts.auth, opts.logger)],
    // gRPC only: this port speaks what the headscale CLI and grpc clients speak.
    grpc: true,
    grpcWeb: false,
    connect: false,
  });
  const safe = withSafeAuthority(handler);
  const server = opts.tls
    ? http2.createSecureServer({ cert: opts.tls.cert, key: opts.tls.key, allowHTTP1: false }, safe)
    : http2.createServer(safe);
  const sessions = new Set<http2.ServerHttp2Session>();
  server.on('session', (s) => {
    sessions.add(s);
    s.on('close', () => sessions.delete(s));
    s.on('error', () => {});
  });
  server.on('tlsClientError', () => {});
  await new Promise<void>((resolve, reject) => {
    server.once('error', (err) =>
      reject(new SwitchboardError('ERR_CONFIG_INVALID', `cannot listen on grpc_listen_addr ${opts.addr}: ${describeError(err)}`, { cause: err })),
    );
    server.listen(port, host, () => resolve());
  });
  const bound = server.address() as net.AddressInfo;
  const shownHost = host === '0.0.0.0' ? '127.0.0.1' : host;
  const address = `${shownHost.includes(':') ? `[${shownHost}]` : shownHost}:${bound.port}`;
  opts.logger.info('admin gRPC listening', { addr: address, tls: !!opts.tls });
  return {
    port: bound.port,
    address,
    tls: !!opts.tls,
    close: () =>
      new Promise<void>((resolve) => {
        for (const s of sessions) s.destroy();
        server.close(() => resolve());
      }),
  };
}
