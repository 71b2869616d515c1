// DERP wire constants and frame encoders (Tailscale derp/derp.go, protocol version 2).
//
// Every frame: type(1) | payload length(4, big-endian, excludes these 5 bytes) | payload.
// Payload layouts per type are written next to each encoder below.

export const PROTOCOL_VERSION = 2;
/** "DERP🔑": the 8 bytes 44 45 52 50 f0 9f 94 91 that open the ServerKey payload. */
export const MAGIC = Buffer.from('DERP🔑', 'utf8');
export const KEY_LEN = 32;
export const NONCE_LEN = 24;
export const FRAME_HEADER_LEN = 5;
/** Largest packet a client may relay (the bytes magicsock sees; excludes the key and framing). */
export const MAX_PACKET_SIZE = 64 << 10;
/** Largest SendPacket payload: destination key + packet. The steady-state reader limit. */
export const MAX_SEND_PACKET_PAYLOAD = KEY_LEN + MAX_PACKET_SIZE;
/** The server refuses a ClientInfo payload above 256 KiB (derpserver recvClientKey). */
export const MAX_CLIENT_INFO_LEN = 256 << 10;
/** The client refuses any frame above 1 MiB, and a ServerInfo box above nonce + 1 MiB. */
export const MAX_INFO_LEN = 1 << 20;
/** ServerKey frames above 1 KiB are an error on the client; bytes past magic+key are ignored. */
export const MAX_SERVER_KEY_LEN = 1 << 10;
/** Minimum period of server KeepAlive frames; the Go server adds 0-5 s of jitter per conn. */
export const KEEP_ALIVE_MS = 60_000;
/** Ping payloads: exactly 8 bytes are echoed; the server accepts up to 1000 and drops the rest. */
export const PING_LEN = 8;
export const MAX_PING_LEN = 1000;

export const FrameType = {
  ServerKey: 0x01, // S->C  magic(8) + server public key(32) [+ ignored]
  ClientInfo: 0x02, // C->S  client public key(32) + nonce(24) + box(JSON ClientInfo)
  ServerInfo: 0x03, // S->C  nonce(24) + box(JSON ServerInfo)
  SendPacket: 0x04, // C->S  destination key(32) + packet
  RecvPacket: 0x05, // S->C  source key(32) + packet (v2 framing)
  KeepAlive: 0x06, // S->C  empty
  NotePreferred: 0x07, // C->S  1 byte: 0x01 home region, 0x00 not
  PeerGone: 0x08, // S->C  peer key(32) + reason(1)
  PeerPresent: 0x09, // S->watcher  key(32) + ip(16) + port(2 BE) + flags(1)
  ForwardPacket: 0x0a, // mesh->S  src key(32) + dst key(32) + packet
  WatchConns: 0x10, // mesh->S  empty
  ClosePeer: 0x11, // mesh->S  key(32)
  Ping: 0x12, // either way  8 bytes
  Pong: 0x13, // either way  the 8 bytes of the Ping
  Health: 0x14, // S->C  UTF-8 problem text; empty = healthy
  Restarting: 0x15, // S->C  reconnect-in ms(4 BE) + try-for ms(4 BE)
} as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

export const PeerGoneReason = {
  Disconnected: 0x00, // the peer's last connection to this server closed
  NotHere: 0x01, // the server has no client with that key
} as const;

/** Disco packets start with "TS💬" (54 53 f0 9f 92 ac) and hold at least magic + key + nonce. */
export const DISCO_MAGIC = Buffer.from('TS💬', 'utf8');
const DISCO_MIN_LEN = DISCO_MAGIC.length + KEY_LEN + NONCE_LEN;

/** Whether the packet starting at `offset` of `buf` (to its end) is a disco packet. */
export function looksLikeDisco(buf: Uint8Array, offset = 0): boolean {
  if (buf.length - offset < DISCO_MIN_LEN) return false;
  for (let i = 0; i < DISCO_MAGIC.length; i++) if (buf[offset + i] !== DISCO_MAGIC[i]) return false;
  return true;
}

function checkKey(what: string, key: Uint8Array): void {
  if (key.length !== KEY_LEN) throw new RangeError(`${what} must be ${KEY_LEN} bytes, got ${key.length}`);
}

/** Any frame: 5-byte header + the payload parts, in one buffer (one write, one TCP segment). */
export function encodeFrame(type: number, ...parts: Uint8Array[]): Buffer {
  let len = 0;
  for (const p of parts) len += p.length;
  const out = Buffer.allocUnsafe(FRAME_HEADER_LEN + len);
  out[0] = type;
  out.writeUInt32BE(len, 1);
  let at = FRAME_HEADER_LEN;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

/** ServerKey: magic(8) + server public key(32). */
export function serverKeyFrame(serverPublicKey: Uint8Array): Buffer {
  checkKey('server key', serverPublicKey);
  return encodeFrame(FrameType.ServerKey, MAGIC, serverPublicKey);
}

/** ClientInfo: client public key(32) + sealed JSON (nonce(24) + box). */
export function clientInfoFrame(clientPublicKey: Uint8Array, sealedInfo: Uint8Array): Buffer {
  checkKey('client key', clientPublicKey);
  return encodeFrame(FrameType.ClientInfo, clientPublicKey, sealedInfo);
}

/** ServerInfo: sealed JSON (nonce(24) + box). */
export function serverInfoFrame(sealedInfo: Uint8Array): Buffer {
  return encodeFrame(FrameType.ServerInfo, sealedInfo);
}

/** SendPacket: destination key(32) + packet (at most MAX_PACKET_SIZE bytes). */
export function sendPacketFrame(dst: Uint8Array, packet: Uint8Array): Buffer {
  checkKey('destination key', dst);
  if (packet.length > MAX_PACKET_SIZE) throw new RangeError(`packet of ${packet.length} bytes exceeds ${MAX_PACKET_SIZE}`);
  return encodeFrame(FrameType.SendPacket, dst, packet);
}

/** RecvPacket (v2): source key(32) + packet. */
export function recvPacketFrame(src: Uint8Array, packet: Uint8Array): Buffer {
  checkKey('source key', src);
  return encodeFrame(FrameType.RecvPacket, src, packet);
}

/** KeepAlive: empty. */
export function keepAliveFrame(): Buffer {
  return encodeFrame(FrameType.KeepAlive);
}

/** NotePreferred: one byte, 0x01 = this is my home DERP. */
export function notePreferredFrame(preferred: boolean): Buffer {
  return encodeFrame(FrameType.NotePreferred, Uint8Array.of(preferred ? 1 : 0));
}

/** PeerGone: peer key(32) + reason(1). */
export function peerGoneFrame(peer: Uint8Array, reason: number): Buffer {
  checkKey('peer key', peer);
  return encodeFrame(FrameType.PeerGone, peer, Uint8Array.of(reason));
}

/** Ping / Pong: 8 opaque bytes. */
export function pingFrame(data: Uint8Array): Buffer {
  if (data.length !== PING_LEN) throw new RangeError(`ping data must be ${PING_LEN} bytes`);
  return encodeFrame(FrameType.Ping, data);
}

export function pongFrame(data: Uint8Array): Buffer {
  if (data.length !== PING_LEN) throw new RangeError(`pong data must be ${PING_LEN} bytes`);
  return encodeFrame(FrameType.Pong, data);
}

/** Health: UTF-8 text of the problem; an empty payload clears it. */
export function healthFrame(problem: string): Buffer {
  return encodeFrame(FrameType.Health, Buffer.from(problem, 'utf8'));
}

/** Restarting: reconnect-in ms(4, BE) + try-for ms(4, BE). */
export function restartingFrame(reconnectInMs: number, tryForMs: number): Buffer {
  const b = Buffer.alloc(8);
  b.writeUInt32BE(reconnectInMs >>> 0, 0);
  b.writeUInt32BE(tryForMs >>> 0, 4);
  return encodeFrame(FrameType.Restarting, b);
}
