// The CLI's connection to a running server, as headscale 0.29's CLI makes it: gRPC over the
// local unix socket (`unix_socket`, no key) when `cli.address` is empty; otherwise gRPC over TLS
// to that host:port with `authorization: Bearer <cli.api_key>` on every call (`cli.insecure`
// or --insecure skip certificate checks). Like headscale's client it never dials plaintext
// remotely. The CLI never opens the database itself.

import fs from 'node:fs';
import net from 'node:net';
import { createClient, ConnectError, Code, type Client } from '@connectrpc/connect';
import { createGrpcTransport } from '@connectrpc/connect-node';
import { HeadscaleService } from '../gen/headscale/v1/headscale_pb.js';
import { SwitchboardError } from '../lib/errors.js';

export type AdminClient = Client<typeof HeadscaleService>;

export function socketClient(socketPath: string, timeoutMs: number): AdminClient {
  if (!fs.existsSync(socketPath)) {
    throw new SwitchboardError(
      'ERR_ADMIN_SOCKET',
      `cannot reach the Switchboard server: unix socket ${socketPath} does not exist (is "switchboard serve" running with this config?)`,
    );
  }
  const transport = createGrpcTransport({
    baseUrl: 'http://localhost',
    defaultTimeoutMs: timeoutMs,
    nodeOptions: { createConnection: () => net.connect(socketPath) },
  });
  return createClient(HeadscaleService, transport);
}

export interface RemoteOptions {
  address: string;
  apiKey: string;
  insecure: boolean;
  timeoutMs: number;
}

export function remoteClient(opts: RemoteOptions): AdminClient {
  if (!opts.apiKey) {
    throw new SwitchboardError('ERR_ARGUMENT', 'HEADSCALE_CLI_API_KEY environment variable needs to be set (or cli.api_key, SWITCHBOARD_CLI_API_KEY)');
  }
  const baseUrl = opts.address.startsWith('https://') ? opts.address : `https://${opts.address}`;
  const bearer = `Bearer ${opts.apiKey}`;
  const transport = createGrpcTransport({
    baseUrl,
    defaultTimeoutMs: opts.timeoutMs,
    interceptors: [
      (next) => async (req) => {
        req.header.set('authorization', bearer);
        return next(req);
      },
    ],
    nodeOptions: { rejectUnauthorized: !opts.insecure },
  });
  return createClient(HeadscaleService, transport);
}

/** Turns a failed call into a one-line error: the server's own message, or where it failed. */
export function describeCallError(err: unknown, socketPath: string, remote?: string): Error {
  if (remote) return describeRemoteError(err, remote);
  if (!(err instanceof ConnectError)) return err as Error;
  if (err.code === Code.Unavailable || err.code === Code.Unknown) {
    const cause = (err.cause as NodeJS.ErrnoException | undefined)?.code ?? '';
    if (cause === 'ECONNREFUSED' || cause === 'ENOENT') {
      return new SwitchboardError('ERR_ADMIN_SOCKET', `cannot reach the Switchboard server on unix socket ${socketPath}: nothing is listening (is "switchboard serve" running?)`);
    }
    if (cause === 'EACCES') {
      return new SwitchboardError('ERR_ADMIN_SOCKET', `permission denied on unix socket ${socketPath}: run as a user in the socket's group`);
    }
  }
  if (err.code === Code.DeadlineExceeded) {
    return new SwitchboardError('ERR_ADMIN_SOCKET', `the Switchboard server on ${socketPath} did not answer in time`);
  }
  return new Error(err.rawMessage);
}

function describeRemoteError(err: unknown, address: string): Error {
  if (!(err instanceof ConnectError)) return err as Error;
  if (err.code === Code.DeadlineExceeded) {
    return new SwitchboardError('ERR_ADMIN_SOCKET', `the Switchboard server at ${address} did not answer in time`);
  }
  if (err.code === Code.Unavailable || err.code === Code.Unknown || err.code === Code.Internal) {
    const cause = err.cause as NodeJS.ErrnoException | undefined;
    if (cause?.code) return new SwitchboardError('ERR_ADMIN_SOCKET', `connecting to ${address}: ${cause.code} ${cause.message ?? ''}`.trim());
  }
  return new Error(err.rawMessage);
}
