// Wire constants and the byte layouts of the ts2021 Noise frames (control/controlbase/messages.go
// and conn.go, Tailscale v1.102.3): handshake initiation, response, error, and the transport
// record header. Pure encode/parse functions; the Noise steps themselves are in handshake.ts.

import { NoiseError, PEER_MESSAGES } from './errors.js';
import { DH_LEN, TAG_LEN } from './primitives.js';

export const PROTOCOL_NAME = 'Noise_IK_25519_ChaChaPoly_BLAKE2s';
/** Prologue = this prefix + the decimal protocol version from the initiation header. */
export const PROLOGUE_PREFIX = 'Tailscale Control Protocol v';

export const MSG_TYPE_INITIATION = 1;
export const MSG_TYPE_RESPONSE = 2;
export const MSG_TYPE_ERROR = 3; // unauthenticated, public hint only
export const MSG_TYPE_RECORD = 4;

export const HEADER_LEN = 3; // every frame except the initiation: type(1) + BE u16 length
export const INITIATION_HEADER_LEN = 5; // version(2) + type(1) + length(2)
export const INITIATION_PAYLOAD_LEN = DH_LEN + DH_LEN + TAG_LEN + TAG_LEN; // 96
export const INITIATION_LEN = INITIATION_HEADER_LEN + INITIATION_PAYLOAD_LEN; // 101
export const RESPONSE_PAYLOAD_LEN = DH_LEN + TAG_LEN; // 48
export const RESPONSE_LEN = HEADER_LEN + RESPONSE_PAYLOAD_LEN; // 51

/** Largest frame on the wire, header included. */
export const MAX_MESSAGE_SIZE = 4096;
export const MAX_CIPHERTEXT_SIZE = MAX_MESSAGE_SIZE - HEADER_LEN; // 4093
export const MAX_PLAINTEXT_SIZE = MAX_CIPHERTEXT_SIZE - TAG_LEN; // 4077

export function prologue(protocolVersion: number): Buffer {
  return Buffer.from(PROLOGUE_PREFIX + String(protocolVersion), 'ascii');
}

// Initiation (client → server), 101 bytes:
//   [0..2)    protocol version, BE u16
//   [2]       type = 0x01
//   [3..5)    payload length, BE u16 = 96
//   [5..37)   client ephemeral public key (cleartext)
//   [37..85)  client machine public key, encrypted (32 + 16 tag)
//   [85..101) tag over the empty payload
export interface InitiationFields {
  protocolVersion: number;
  ephemeralPublic: Buffer;
  encryptedStatic: Buffer;
  tag: Buffer;
}

export function encodeInitiation(f: InitiationFields): Buffer {
  const out = Buffer.alloc(INITIATION_LEN);
  out.writeUInt16BE(f.protocolVersion, 0);
  out[2] = MSG_TYPE_INITIATION;
  out.writeUInt16BE(INITIATION_PAYLOAD_LEN, 3);
  f.ephemeralPublic.copy(out, 5);
  f.encryptedStatic.copy(out, 37);
  f.tag.copy(out, 85);
  return out;
}

/** Checks size, type and length in controlbase's order; each failure carries its fixed peer message. */
export function parseInitiation(msg: Uint8Array): InitiationFields {
  if (msg.length !== INITIATION_LEN) {
    throw new NoiseError('ERR_NOISE_BAD_INITIATION', `handshake initiation is ${msg.length} bytes, want ${INITIATION_LEN}`, {
      peerMessage: PEER_MESSAGES.wrongSize,
    });
  }
  const b = Buffer.from(msg.buffer, msg.byteOffset, msg.length);
  if (b[2] !== MSG_TYPE_INITIATION) {
    throw new NoiseError('ERR_NOISE_BAD_INITIATION', `handshake initiation has type ${b[2]}, want ${MSG_TYPE_INITIATION}`, {
      peerMessage: PEER_MESSAGES.wrongType,
    });
  }
  const length = b.readUInt16BE(3);
  if (length !== INITIATION_PAYLOAD_LEN) {
    throw new NoiseError('ERR_NOISE_BAD_INITIATION', `handshake initiation length field is ${length}, want ${INITIATION_PAYLOAD_LEN}`, {
      peerMessage: PEER_MESSAGES.wrongLength,
    });
  }
  return {
    protocolVersion: b.readUInt16BE(0),
    ephemeralPublic: Buffer.from(b.subarray(5, 37)),
    encryptedStatic: Buffer.from(b.subarray(37, 85)),
    tag: Buffer.from(b.subarray(85, 101)),
  };
}

// Response (server → client), 51 bytes — note: no version field:
//   [0]       type = 0x02
//   [1..3)    payload length, BE u16 = 48
//   [3..35)   server ephemeral public key (cleartext)
//   [35..51)  tag over the empty payload
export function encodeResponse(ephemeralPublic: Buffer, tag: Buffer): Buffer {
  const out = Buffer.alloc(RESPONSE_LEN);
  out[0] = MSG_TYPE_RESPONSE;
  out.writeUInt16BE(RESPONSE_PAYLOAD_LEN, 1);
  ephemeralPublic.copy(out, 3);
  tag.copy(out, 35);
  return out;
}

// Error (server → client, handshake only): [0] type = 0x03, [1..3) BE u16 length, then UTF-8 text.
export function encodeErrorFrame(text: string): Buffer {
  let body = Buffer.from(text, 'utf8');
  if (body.length > 0xffff) body = body.subarray(0, 0xffff);
  const out = Buffer.alloc(HEADER_LEN + body.length);
  out[0] = MSG_TYPE_ERROR;
  out.writeUInt16BE(body.length, 1);
  body.copy(out, HEADER_LEN);
  return out;
}

/**
 * How many bytes the server's handshake answer occupies, judged from its first bytes: 51 for a
 * response, 3 + length for an error frame, undefined while fewer than 3 bytes are known.
 * Any other type byte is a protocol violation.
 */
export function handshakeAnswerSize(head: Uint8Array): number | undefined {
  if (head.length < HEADER_LEN) return undefined;
  const type = head[0];
  if (type === MSG_TYPE_RESPONSE) return RESPONSE_LEN;
  if (type === MSG_TYPE_ERROR) return HEADER_LEN + ((head[1]! << 8) | head[2]!);
  throw new NoiseError('ERR_NOISE_BAD_RESPONSE', `unexpected response message type ${type}`);
}

/** Parses the server's answer: response fields, or throws ERR_NOISE_SERVER_ERROR for an error frame. */
export function parseResponse(frame: Uint8Array): { ephemeralPublic: Buffer; tag: Buffer } {
  const b = Buffer.from(frame.buffer, frame.byteOffset, frame.length);
  if (b.length < HEADER_LEN) throw new NoiseError('ERR_NOISE_BAD_RESPONSE', 'handshake response truncated');
  const length = b.readUInt16BE(1);
  if (b[0] === MSG_TYPE_ERROR) {
    const text = b.subarray(HEADER_LEN, HEADER_LEN + length).toString('utf8');
    throw new NoiseError('ERR_NOISE_SERVER_ERROR', `server error: ${JSON.stringify(text)}`);
  }
  if (b[0] !== MSG_TYPE_RESPONSE) throw new NoiseError('ERR_NOISE_BAD_RESPONSE', `unexpected response message type ${b[0]}`);
  if (length !== RESPONSE_PAYLOAD_LEN) {
    throw new NoiseError('ERR_NOISE_BAD_RESPONSE', `wrong length ${length} received for handshake response`);
  }
  if (b.length !== RESPONSE_LEN) throw new NoiseError('ERR_NOISE_BAD_RESPONSE', `handshake response is ${b.length} bytes, want ${RESPONSE_LEN}`);
  return { ephemeralPublic: Buffer.from(b.subarray(3, 35)), tag: Buffer.from(b.subarray(35, 51)) };
}
