// A small Tailscale control client of our own for the server tier: GET /key, the ts2021 Noise
// upgrade, HTTP/2 over Noise, /machine/register and the /machine/map stream (zstd frames). It
// speaks the protocol as tailscaled does, so server tests run in milliseconds without real clients.

import crypto from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { decompress } from 'zstd-napi';
import { dialTs2021 } from '../../src/protocol/noise/client.js';
import type { PrivateKeyInput } from '../../src/protocol/noise/handshake.js';
import { formatKey, generatePrivateKey, parseKey, publicKeyOf } from '../../src/crypto/keys.js';
import type { MapRequest, MapResponse, RegisterRequest, RegisterResponse } from '../../src/tailcfg/types.js';

export const CAPVER = 142;

export interface HttpResult<T> {
  status: number;
  body: T | string;
}

/**
 * A TCP connection, the ts2021 Noise handshake and an HTTP/2 session over it, as tailscaled
 * opens them (also used by the load generator's simulated nodes).
 */
export async function openControlSession(
  host: string,
  port: number,
  machinePrivate: PrivateKeyInput,
  serverPublicKey: Uint8Array,
  settings?: http2.Settings,
): Promise<{ session: http2.ClientHttp2Session; socket: net.Socket }> {
  const socket = net.connect(port, host);
  socket.setNoDelay(true);
  try {
    await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
    const { stream } = await dialTs2021({ socket, machinePrivateKey: machinePrivate, serverPublicKey, protocolVersion: CAPVER, host: `${host}:${port}` });
    const session = http2.connect(`http://${host}:${port}`, { createConnection: () => stream as unknown as net.Socket, ...(settings ? { settings } : {}) });
    return { session, socket };
  } catch (err) {
    socket.destroy();
    throw err;
  }
}

export class ControlClient {
  readonly machinePrivate = generatePrivateKey();
  readonly machineKey = formatKey('mkey', publicKeyOf(this.machinePrivate));
  nodePrivate = generatePrivateKey();
  readonly discoKey = formatKey('discokey', crypto.randomBytes(32));
  #session: http2.ClientHttp2Session | undefined;
  readonly #serverUrl: string;

  constructor(serverUrl: string) {
    this.#serverUrl = serverUrl;
  }

  get nodeKey(): string {
    return formatKey('nodekey', publicKeyOf(this.nodePrivate));
  }

  async connect(): Promise<void> {
    const res = await fetch(`${this.#serverUrl}/key?v=${CAPVER}`);
    const { publicKey } = (await res.json()) as { publicKey: string };
    const serverPublicKey = parseKey('mkey', publicKey);
    if (!serverPublicKey) throw new Error(`bad /key answer ${publicKey}`);
    const url = new URL(this.#serverUrl);
    ({ session: this.#session } = await openControlSession(url.hostname, Number(url.port), this.machinePrivate, serverPublicKey));
    this.#session.on('error', () => {});
  }

  async #post(path: string, body: unknown): Promise<http2.ClientHttp2Stream & { status: Promise<number> }> {
    if (!this.#session) await this.connect();
    const stream = this.#session!.request({ ':method': 'POST', ':path': path });
    const status = new Promise<number>((resolve, reject) => {
      stream.once('response', (h) => resolve(Number(h[':status'])));
      stream.once('error', reject);
    });
    stream.end(JSON.stringify(body));
    return Object.assign(stream, { status });
  }

  async register(req: Partial<RegisterRequest> = {}): Promise<HttpResult<RegisterResponse>> {
    const stream = await this.#post('/machine/register', {
      Version: CAPVER,
      NodeKey: this.nodeKey,
      Expiry: '0001-01-01T00:00:00Z',
      Hostinfo: { Hostname: 'test-node', OS: 'linux' },
      ...req,
    });
    const status = await stream.status;
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    const text = Buffer.concat(chunks).toString();
    return { status, body: status === 200 ? (JSON.parse(text) as RegisterResponse) : text };
  }

  /** Opens a streaming map poll; read messages with next(). */
  async map(req: Partial<MapRequest> = {}): Promise<MapStream> {
    const stream = await this.#post('/machine/map', {
      Version: CAPVER,
      Compress: 'zstd',
      KeepAlive: true,
      Stream: true,
      NodeKey: this.nodeKey,
      DiscoKey: this.discoKey,
      Hostinfo: { Hostname: 'test-node', OS: 'linux' },
      ...req,
    });
    return new MapStream(stream, await stream.status, req.Compress ?? 'zstd');
  }

  close(): void {
    this.#session?.destroy();
  }
}

export class MapStream {
  readonly status: number;
  readonly #stream: http2.ClientHttp2Stream;
  readonly #zstd: boolean;
  #buf = Buffer.alloc(0);
  #waiting: Array<() => void> = [];
  #ended = false;

  constructor(stream: http2.ClientHttp2Stream, status: number, compress: string) {
    this.#stream = stream;
    this.status = status;
    this.#zstd = compress === 'zstd';
    stream.on('data', (c: Buffer) => {
      this.#buf = Buffer.concat([this.#buf, c]);
      this.#wake();
    });
    stream.on('end', () => {
      this.#ended = true;
      this.#wake();
    });
    stream.on('error', () => {
      this.#ended = true;
      this.#wake();
    });
  }

  #wake(): void {
    const w = this.#waiting;
    this.#waiting = [];
    for (const f of w) f();
  }

  get ended(): boolean {
    return this.#ended && this.#buf.length < 4;
  }

  /** The next MapResponse; rejects after timeoutMs or when the stream ends. */
  async next(timeoutMs = 5000): Promise<MapResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      if (this.#buf.length >= 4) {
        const len = this.#buf.readUInt32LE(0);
        if (this.#buf.length >= 4 + len) {
          const body = this.#buf.subarray(4, 4 + len);
          this.#buf = this.#buf.subarray(4 + len);
          const json = this.#zstd ? decompress(body) : body;
          return JSON.parse(json.toString('utf8')) as MapResponse;
        }
      }
      if (this.#ended) throw new Error('map stream ended');
      const left = deadline - Date.now();
      if (left <= 0) throw new Error('timed out waiting for a map message');
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, left);
        this.#waiting.push(() => {
          clearTimeout(t);
          resolve();
        });
      });
    }
  }

  /** Reads messages until one satisfies the predicate. */
  async until(pred: (m: MapResponse) => boolean, timeoutMs = 5000): Promise<MapResponse> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const m = await this.next(Math.max(1, deadline - Date.now()));
      if (pred(m)) return m;
    }
  }

  close(): void {
    this.#stream.close();
  }
}
