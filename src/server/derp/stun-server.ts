// The STUN listener next to the DERP relay (derp.server.stun_listen_addr): a UDP socket that
// answers each valid binding request with the sender's address as XOR-MAPPED-ADDRESS and
// silently ignores everything else (counted).

import dgram from 'node:dgram';
import net from 'node:net';
import type { Logger } from '../../lib/logger.js';
import { buildBindingResponse, parseBindingRequest } from '../../protocol/stun/message.js';

export interface StunServerOptions {
  /** Only answer requests whose SOFTWARE is this (Go's stunserver insists on "tailnode"). */
  requireSoftware?: string;
  /** For a "::" listener: refuse IPv4 (default false = dual-stack). */
  ipv6Only?: boolean;
  logger?: Logger;
}

export interface StunCounters {
  requests: number;
  responses: number;
  ignored: number;
  sendErrors: number;
}

export class StunServer {
  readonly #opts: StunServerOptions;
  #socket: dgram.Socket | undefined;
  #counters: StunCounters = { requests: 0, responses: 0, ignored: 0, sendErrors: 0 };

  constructor(opts: StunServerOptions = {}) {
    this.#opts = opts;
  }

  get counters(): Readonly<StunCounters> {
    return { ...this.#counters };
  }

  /** The bound address (after listen()). */
  address(): { address: string; port: number; family: string } {
    if (!this.#socket) throw new Error('STUN server is not listening');
    const a = this.#socket.address();
    return { address: a.address, port: a.port, family: a.family };
  }

  /** Binds the UDP socket ("0.0.0.0", "::", "127.0.0.1", ...; port 0 picks one). */
  listen(host: string, port: number): Promise<{ address: string; port: number; family: string }> {
    if (this.#socket) return Promise.reject(new Error('STUN server already listening'));
    const type = net.isIPv6(host) ? 'udp6' : 'udp4';
    const socket = dgram.createSocket({ type, ...(type === 'udp6' ? { ipv6Only: this.#opts.ipv6Only ?? false } : {}) });
    this.#socket = socket;
    socket.on('message', (msg, rinfo) => this.#onMessage(socket, msg, rinfo));
    return new Promise((resolve, reject) => {
      const onError = (err: Error) => {
        this.#socket = undefined;
        socket.close();
        reject(err);
      };
      socket.once('error', onError);
      socket.bind(port, host, () => {
        socket.off('error', onError);
        socket.on('error', (err) => this.#opts.logger?.warn('STUN socket error', { error: err.message }));
        resolve(this.address());
      });
    });
  }

  #onMessage(socket: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo): void {
    const req = parseBindingRequest(msg, this.#opts.requireSoftware !== undefined ? { requireSoftware: this.#opts.requireSoftware } : {});
    if (!req.ok) {
      this.#counters.ignored++;
      return;
    }
    this.#counters.requests++;
    let res: Buffer;
    try {
      res = buildBindingResponse(req.transactionId, rinfo.address, rinfo.port);
    } catch {
      this.#counters.ignored++;
      return;
    }
    socket.send(res, rinfo.port, rinfo.address, (err) => {
      if (err) {
        this.#counters.sendErrors++;
        this.#opts.logger?.debug('STUN reply failed', { error: err.message });
      } else {
        this.#counters.responses++;
      }
    });
  }

  close(): Promise<void> {
    const s = this.#socket;
    this.#socket = undefined;
    if (!s) return Promise.resolve();
    return new Promise((resolve) => s.close(() => resolve()));
  }
}
