// The DERP handshake messages: the ServerKey greeting and the two NaCl-boxed JSON documents
// (ClientInfo from client to server, ServerInfo from server to client), built and checked.
//
//   ServerKey payload  : magic(8) "DERP🔑" | server public key(32) | ignored future bytes
//   ClientInfo payload : client public key(32) | nonce(24) | box(JSON), box by client->server
//   ServerInfo payload : nonce(24) | box(JSON), box by server->client
// JSON field names are exactly Go's: ClientInfo {"meshKey"?, "version"?, "CanAckPings",
// "IsProber"?, "AppName"?}; ServerInfo {"version"?, "TokenBucketBytesPerSecond"?,
// "TokenBucketBytesBurst"?} (omitempty on all but CanAckPings).

import { KEY_LEN, MAGIC, MAX_CLIENT_INFO_LEN, MAX_INFO_LEN, NONCE_LEN } from './frames.js';
import { openFrom, sealTo } from './nacl-box.js';
import { DerpError } from './errors.js';

export interface ClientInfo {
  version?: number;
  CanAckPings?: boolean;
  IsProber?: boolean;
  AppName?: string;
  /** 64 lowercase hex chars; only mesh peers send it. */
  meshKey?: string;
}

export interface ServerInfo {
  version?: number;
  TokenBucketBytesPerSecond?: number;
  TokenBucketBytesBurst?: number;
}

/** Reads the server's public key out of a ServerKey payload (the client side). */
export function parseServerKeyPayload(payload: Buffer): Buffer {
  if (payload.length < MAGIC.length + KEY_LEN || !payload.subarray(0, MAGIC.length).equals(MAGIC)) {
    throw new DerpError('ERR_DERP_HANDSHAKE', 'invalid server greeting (bad magic or short ServerKey frame)');
  }
  return Buffer.from(payload.subarray(MAGIC.length, MAGIC.length + KEY_LEN));
}

function parseJsonObject(bytes: Buffer, what: string): Record<string, unknown> {
  let v: unknown;
  try {
    v = JSON.parse(bytes.toString('utf8'));
  } catch (err) {
    throw new DerpError('ERR_DERP_HANDSHAKE', `${what} is not valid JSON`, { cause: err });
  }
  if (typeof v !== 'object' || v === null || Array.isArray(v)) throw new DerpError('ERR_DERP_HANDSHAKE', `${what} is not a JSON object`);
  return v as Record<string, unknown>;
}

function optional<T>(obj: Record<string, unknown>, name: string, type: 'number' | 'boolean' | 'string', what: string): T | undefined {
  const v = obj[name];
  if (v === undefined || v === null) return undefined;
  if (typeof v !== type) throw new DerpError('ERR_DERP_HANDSHAKE', `${what}.${name} must be a ${type}`);
  return v as T;
}

/** Builds a ClientInfo payload: our public key, then the sealed JSON. */
export function sealClientInfo(info: ClientInfo, clientPrivate: Uint8Array, clientPublic: Uint8Array, serverPublic: Uint8Array): Buffer {
  const json: Record<string, unknown> = {};
  if (info.meshKey) json.meshKey = info.meshKey;
  if (info.version) json.version = info.version;
  json.CanAckPings = info.CanAckPings ?? false;
  if (info.IsProber) json.IsProber = true;
  if (info.AppName) json.AppName = info.AppName;
  return Buffer.concat([clientPublic, sealTo(Buffer.from(JSON.stringify(json)), serverPublic, clientPrivate)]);
}

/**
 * Checks and opens a ClientInfo payload (the server side): length in [56, 256 KiB], a box that
 * opens with the claimed key, a JSON object with well-typed fields. Unknown fields are ignored.
 */
export function openClientInfo(payload: Buffer, serverPrivate: Uint8Array): { clientKey: Buffer; info: ClientInfo } {
  if (payload.length < KEY_LEN + NONCE_LEN) throw new DerpError('ERR_DERP_HANDSHAKE', 'short ClientInfo');
  if (payload.length > MAX_CLIENT_INFO_LEN) throw new DerpError('ERR_DERP_HANDSHAKE', 'long ClientInfo');
  const clientKey = Buffer.from(payload.subarray(0, KEY_LEN));
  const msg = openFrom(payload.subarray(KEY_LEN), clientKey, serverPrivate);
  if (!msg) throw new DerpError('ERR_DERP_BOX', `ClientInfo box (${payload.length - KEY_LEN} bytes) does not open with the claimed client key`);
  const obj = parseJsonObject(msg, 'ClientInfo');
  const info: ClientInfo = {};
  const version = optional<number>(obj, 'version', 'number', 'ClientInfo');
  if (version !== undefined) info.version = version;
  const canAck = optional<boolean>(obj, 'CanAckPings', 'boolean', 'ClientInfo');
  if (canAck !== undefined) info.CanAckPings = canAck;
  const prober = optional<boolean>(obj, 'IsProber', 'boolean', 'ClientInfo');
  if (prober !== undefined) info.IsProber = prober;
  const app = optional<string>(obj, 'AppName', 'string', 'ClientInfo');
  if (app !== undefined) info.AppName = app;
  const mesh = optional<string>(obj, 'meshKey', 'string', 'ClientInfo');
  if (mesh !== undefined) info.meshKey = mesh;
  return { clientKey, info };
}

/** Builds a ServerInfo payload (omitempty fields left out, as Go's json.Marshal does). */
export function sealServerInfo(info: ServerInfo, serverPrivate: Uint8Array, clientPublic: Uint8Array): Buffer {
  const json: Record<string, unknown> = {};
  if (info.version) json.version = info.version;
  if (info.TokenBucketBytesPerSecond) json.TokenBucketBytesPerSecond = Math.floor(info.TokenBucketBytesPerSecond);
  if (info.TokenBucketBytesBurst) json.TokenBucketBytesBurst = Math.floor(info.TokenBucketBytesBurst);
  return sealTo(Buffer.from(JSON.stringify(json)), clientPublic, serverPrivate);
}

/** Opens a ServerInfo payload (the client side). */
export function openServerInfo(payload: Buffer, clientPrivate: Uint8Array, serverPublic: Uint8Array): ServerInfo {
  if (payload.length < NONCE_LEN) throw new DerpError('ERR_DERP_HANDSHAKE', 'short ServerInfo');
  if (payload.length > NONCE_LEN + MAX_INFO_LEN) throw new DerpError('ERR_DERP_HANDSHAKE', 'long ServerInfo');
  const msg = openFrom(payload, serverPublic, clientPrivate);
  if (!msg) throw new DerpError('ERR_DERP_BOX', 'ServerInfo box does not open with the server key');
  const obj = parseJsonObject(msg, 'ServerInfo');
  const info: ServerInfo = {};
  const version = optional<number>(obj, 'version', 'number', 'ServerInfo');
  if (version !== undefined) info.version = version;
  const rate = optional<number>(obj, 'TokenBucketBytesPerSecond', 'number', 'ServerInfo');
  if (rate !== undefined) info.TokenBucketBytesPerSecond = rate;
  const burst = optional<number>(obj, 'TokenBucketBytesBurst', 'number', 'ServerInfo');
  if (burst !== undefined) info.TokenBucketBytesBurst = burst;
  return info;
}
