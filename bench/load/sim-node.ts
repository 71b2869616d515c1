// One simulated Tailscale node for the load generator: its own TCP connection, ts2021 Noise
// session and HTTP/2 client, as tailscaled has. It registers with a pre-auth key, holds a
// streaming zstd map poll, sends endpoint changes as lite map requests, and reconnects with
// jittered backoff when the server goes away. Frames are split by their length prefix and only
// decompressed when someone is looking for a marker in them, so ten thousand of these fit in a
// few processes without paying for parsing maps nobody reads.

import crypto from 'node:crypto';
import http2 from 'node:http2';
import net from 'node:net';
import { performance } from 'node:perf_hooks';
import { decompress } from 'zstd-napi';
import { formatKey, generateKeyPair } from '../../src/crypto/keys.js';
import { X25519Key } from '../../src/protocol/noise/primitives.js';
import { CAPVER, openControlSession } from '../../test/support/control-client.js';


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
  #session: http2.ClientHttp2Session | undefined;
  #socket: net.Socket | undefined;
  #map: http2.ClientHttp2Stream | undefined;
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
    return this.#session !== undefined && !this.#session.destroyed;
  }

  async connect(): Promise<void> {
    this.close();
    const { session, socket } = await openControlSession(this.#target.host, this.#target.port, this.machineKey, this.#target.serverPublicKey, {
      initialWindowSize: 4 << 20,
    });
    this.#socket = socket;
    // Go's HTTP/2 client, which tailscaled uses, advertises a 4 MiB stream window and a 1 GiB
    // connection window (net/http's transportDefault{Stream,Conn}Flow); Node's is 64 KiB.
    const widen = (): void => session.setLocalWindowSize(1 << 30);
    if (session.connecting) session.once('connect', widen);
    else widen();
    session.on('error', () => {});
    session.on('close', () => {
      if (this.#session === session) this.#lost();
    });
    this.#session = session;
  }

  #post(path: string, body: unknown): http2.ClientHttp2Stream {
    if (!this.#session) throw new Error('not connected');
    const stream = this.#session.request({ ':method': 'POST', ':path': path, 'content-type': 'application/json' });
    stream.end(JSON.stringify(body));
    return stream;
  }

  async #exchange(path: string, body: unknown): Promise<{ status: number; text: string }> {
    const stream = this.#post(path, body);
    const status = await new Promise<number>((resolve, reject) => {
      stream.once('response', (h) => resolve(Number(h[':status'])));
      stream.once('error', reject);
      stream.once('close', () => reject(new Error(`${path}: stream closed before a response`)));
    });
    const chunks: Buffer[] = [];
    for await (const c of stream) chunks.push(c as Buffer);
    return { status, text: Buffer.concat(chunks).toString('utf8') };
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
    stream.on('error', () => {});
    stream.on('close', () => {
      if (this.#map === stream) this.#lost();
    });
    const status = await new Promise<number>((resolve, reject) => {
      stream.once('response', (h) => resolve(Number(h[':status'])));
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
