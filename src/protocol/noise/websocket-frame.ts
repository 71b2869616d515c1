// RFC 6455 framing pieces for the ts2021 WebSocket carrier (websocket.ts): opcodes, close
// codes, the Sec-WebSocket-Accept computation, and the frame encoder.
//
// Frame layout (RFC 6455 §5.2):
//   byte 0: FIN(0x80) RSV1-3(0x70, must be 0) opcode(0x0f): 0 cont, 1 text, 2 binary, 8 close, 9 ping, 10 pong
//   byte 1: MASK(0x80) len7(0x7f): <126 = length; 126 = BE u16 follows; 127 = BE u64 follows (MSB 0)
//   then a 4-byte masking key when MASK, then the payload (byte i XOR key[i % 4])

import crypto from 'node:crypto';

export const WEBSOCKET_GUID = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';

export const OP_CONT = 0x0;
export const OP_TEXT = 0x1;
export const OP_BINARY = 0x2;
export const OP_CLOSE = 0x8;
export const OP_PING = 0x9;
export const OP_PONG = 0xa;

export const CLOSE_NORMAL = 1000;
export const CLOSE_PROTOCOL_ERROR = 1002;
export const CLOSE_UNSUPPORTED_DATA = 1003;

/**
 * Largest binary message we send. Go clients read through coder/websocket, whose default read
 * limit is 32768 bytes per message (a 5 MB write as one message fails there with "message too
 * big"); Tailscale's own server sends one Noise record (≤ 4096 bytes) per message.
 */
export const MAX_OUTGOING_MESSAGE = 16 * 1024;

/** Sec-WebSocket-Accept for a Sec-WebSocket-Key (RFC 6455 §4.2.2). */
export function websocketAccept(key: string): string {
  return crypto.createHash('sha1').update(key + WEBSOCKET_GUID).digest('base64');
}

/** One frame with FIN set; `mask` (the client role) masks with a fresh random key. */
export function encodeFrame(opcode: number, payload: Buffer, mask: boolean): Buffer {
  const len = payload.length;
  const lenBytes = len < 126 ? 0 : len <= 0xffff ? 2 : 8;
  const header = Buffer.alloc(2 + lenBytes + (mask ? 4 : 0));
  header[0] = 0x80 | opcode;
  header[1] = (mask ? 0x80 : 0) | (lenBytes === 0 ? len : lenBytes === 2 ? 126 : 127);
  if (lenBytes === 2) header.writeUInt16BE(len, 2);
  else if (lenBytes === 8) header.writeBigUInt64BE(BigInt(len), 2);
  if (!mask) return Buffer.concat([header, payload]);
  const key = crypto.randomBytes(4);
  key.copy(header, 2 + lenBytes);
  const body = Buffer.allocUnsafe(len);
  for (let i = 0; i < len; i++) body[i] = payload[i]! ^ key[i & 3]!;
  return Buffer.concat([header, body]);
}

/** A protocol violation by the peer, with the close code to answer it with. */
export class WsViolation extends Error {
  readonly closeCode: number;
  constructor(closeCode: number, message: string) {
    super(message);
    this.closeCode = closeCode;
  }
}
