// One simulated Tailscale node for the load generator: its own TCP connection, ts2021 Noise
// session and HTTP/2 client (h2-client.ts), as tailscaled has. It registers with a pre-auth key, holds a
// streaming zstd map poll, sends endpoint changes as lite map requests, and reconnects with
// jittered backoff when the server goes away. Frames are split by their length prefix and only
// decompressed when someone is looking for a marker in them, so ten thousand of these fit in a
// few processes without paying for parsing maps nobody reads.

import crypto from 'node:crypto';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import type { Duplex } from 'node:stream';
import { decompress } from 'zstd-napi';
import { formatKey, generateKeyPair } from '../../src/crypto/keys.js';
import { X25519Key } from '../../src/protocol/noise/primitives.js';
import { dialTs2021 } from '../../src/protocol/noise/client.js';
import { CAPVER } from '../../test/support/control-client.js';
import { H2ClientConnection, type H2ClientStream } from './h2-client.js';

/** Milliseconds on a clock shared by every process on this machine. */
export function now(): number {
  return performance.timeOrigin + performance.now();
}

export interface SimNodeHooks {
  /** Every complete map frame (still compressed) as it arrives. */
  onFrame(node: SimNode, frame: Buffer, index: number): void;
  /** The stream ended (server gone, connection lost). */
  onLost(node: SimNode): void;
}

export interface Target {
  host: string;
  port: number;
  serverPublicKey: Uint8Array;
}

export class SimNode {
  readonly index: number;
  /** Kept as a key object: importing a raw private key costs ~0.35 ms, paid on every dial. */
  readonly machineKey = X25519Key.generate();
  readonly nodeKey = formatKey('nodekey', generateKeyPair().publicKey);
  readonly discoKey = formatKey('discokey', crypto.randomBytes(32));
  readonly hostinfo: Record<string, unknown>;
  endpoints: string[];
  /** Frames received on the current map stream (0 = waiting for the full map). */
  frames = 0;
  #closedSocketBytes = 0;
  #session: H2ClientConnection | undefined;
  #socket: net.Socket | undefined;
  #map: H2ClientStream | undefined;
  /** Bytes of the frame being received, kept as chunks until it is complete. */
  #chunks: Buffer[] = [];
  #buffered = 0;
  readonly #target: Target;
  readonly #hooks: SimNodeHooks;

  constructor(index: number, target: Target, hooks: SimNodeHooks) {
    this.index = index;
    this.#target = target;
    this.#hooks = hooks;
    this.hostinfo = { Hostname: `sim-${index}`, OS: 'linux', IPNVersion: '1.102.3-sim', GoArch: 'amd64' };
    this.endpoints = [`127.1.${(index >> 8) & 255}.${index & 255}:41641`];
  }

  /** TCP bytes read from the server over every connection this node has had. */
  get socketBytes(): number {
    return this.#closedSocketBytes + (this.#socket?.bytesRead ?? 0);
  }

  get connected(): boolean {
    return this.#session !== undefined && !this.#session.closed;
  }

  async connect(): Promise<void> {
    this.close();
    const { host, port, serverPublicKey } = this.#target;
    const socket = net.connect(port, host);
    socket.setNoDelay(true);
    this.#socket = socket;
    let stream: Duplex;
    try {
      await new Promise<void>((resolve, reject) => socket.once('connect', resolve).once('error', reject));
      ({ stream } = await dialTs2021({ socket, machinePrivateKey: this.machineKey, serverPublicKey, protocolVersion: CAPVER, host: `${host}:${port}` }));
    } catch (err) {
      this.close();
      throw err;
    }
    const session = new H2ClientConnection(stream, `${host}:${port}`);
    session.on('close', () => {
      if (this.#session === session) this.#lost();
    });
    this.#session = session;
  }

  #post(path: string, body: unknown): H2ClientStream {
    if (!this.#session) throw new Error('not connected');
    return this.#session.request(path, Buffer.from(JSON.stringify(body)));
  }

  #exchange(path: string, body: unknown): Promise<{ status: number; text: string }> {
    const stream = this.#post(path, body);
    const chunks: Buffer[] = [];
    stream.on('data', (c: Buffer) => chunks.push(c));
    return new Promise((resolve, reject) => {
      stream.once('end', () => resolve({ status: stream.status, text: Buffer.concat(chunks).toString('utf8') }));
      stream.once('close', () => reject(new Error(`${path}: stream closed before the response ended`)));
    });
  }

  async register(authKey: string): Promise<void> {
    const r = await this.#exchange('/machine/register', {
      Version: CAPVER,
      NodeKey: this.nodeKey,
      Expiry: '0001-01-01T00:00:00Z',
      Auth: { AuthKey: authKey },
      Hostinfo: this.hostinfo,
    });
    if (r.status !== 200) throw new Error(`register: HTTP ${r.status} ${r.text.slice(0, 200)}`);
    const body = JSON.parse(r.text) as { MachineAuthorized?: boolean; Error?: string };
    if (!body.MachineAuthorized) throw new Error(`register: not authorized ${body.Error ?? ''}`);
  }

  /** Opens the streaming map poll; resolves when the response headers arrive. */
  async openMap(): Promise<void> {
    this.frames = 0;
    this.#chunks = [];
    this.#buffered = 0;
    const stream = this.#post('/machine/map', this.#mapRequest(true));
    this.#map = stream;
    stream.on('data', (chunk: Buffer) => this.#onData(chunk));
    stream.on('close', () => {
      if (this.#map === stream) this.#lost();
    });
    const status = await new Promise<number>((resolve, reject) => {
      stream.once('response', resolve);
      stream.once('close', () => reject(new Error('map stream closed before a response')));
    });
    if (status !== 200) throw new Error(`map: HTTP ${status}`);
  }

  #mapRequest(stream: boolean): Record<string, unknown> {
    return {
      Version: CAPVER,
      Compress: 'zstd',
      KeepAlive: true,
      Stream: stream,
      OmitPeers: !stream,
      NodeKey: this.nodeKey,
      DiscoKey: this.discoKey,
      Endpoints: this.endpoints,
      EndpointTypes: this.endpoints.map(() => 1),
      Hostinfo: this.hostinfo,
    };
  }

  /** A lite map request carrying new endpoints, as tailscaled sends when its endpoints change. */
  async updateEndpoints(endpoints: string[]): Promise<void> {
    this.endpoints = endpoints;
    const r = await this.#exchange('/machine/map', this.#mapRequest(false));
    if (r.status !== 200) throw new Error(`endpoint update: HTTP ${r.status} ${r.text.slice(0, 200)}`);
  }

  /** Splits frames by their length prefix, copying a frame's bytes once when it is complete. */
  #onData(chunk: Buffer): void {
    this.#chunks.push(chunk);
    this.#buffered += chunk.length;
    while (this.#buffered >= 4) {
      if (this.#chunks[0]!.length < 4) this.#chunks = [Buffer.concat(this.#chunks)];
      const len = this.#chunks[0]!.readUInt32LE(0);
      if (this.#buffered < 4 + len) break;
      const all = this.#chunks.length === 1 ? this.#chunks[0]! : Buffer.concat(this.#chunks, this.#buffered);
      const frame = all.subarray(4, 4 + len);
      const rest = all.subarray(4 + len);
      this.#chunks = rest.length > 0 ? [rest] : [];
      this.#buffered = rest.length;
      this.#hooks.onFrame(this, frame, this.frames++);
    }
  }

  #lost(): void {
    this.#map = undefined;
    this.close();
    this.#hooks.onLost(this);
  }

  close(): void {
    const s = this.#session;
    this.#session = undefined;
    this.#map = undefined;
    s?.destroy();
    if (this.#socket) {
      this.#socket.destroy();
      this.#closedSocketBytes += this.#socket.bytesRead;
      this.#socket = undefined;
    }
  }
}

/** The JSON text of one map frame. */
export function frameText(frame: Buffer): string {
  return decompress(frame).toString('utf8');
}
