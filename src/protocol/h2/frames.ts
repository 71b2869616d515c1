// HTTP/2 frames (RFC 9113 §4, §6): the constants, the 9-byte header, and an incremental reader
// that cuts a byte stream into frames. What a frame means is the connection's business
// (server-connection.ts); this module only knows sizes and layout.
//
// Frame layout: [BE u24 payload length][u8 type][u8 flags][1 reserved bit + BE u31 stream id]
// followed by the payload. A payload longer than the receiver's SETTINGS_MAX_FRAME_SIZE is a
// connection error of type FRAME_SIZE_ERROR; the reader reports it as soon as the header is in,
// so it never holds more than one frame.

import { ByteQueue } from '../../lib/byte-queue.js';
import { H2Error } from './errors.js';

export const CLIENT_PREFACE = Buffer.from('PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n', 'latin1');
export const FRAME_HEADER_LEN = 9;
/** SETTINGS_MAX_FRAME_SIZE's initial value, and the smallest a peer may announce. */
export const DEFAULT_MAX_FRAME_SIZE = 16_384;
export const MAX_ALLOWED_FRAME_SIZE = 16_777_215;
/** The initial flow-control window of every stream and of the connection. */
export const DEFAULT_WINDOW = 65_535;
export const MAX_WINDOW = 0x7fff_ffff;

export const FrameType = {
  DATA: 0x0,
  HEADERS: 0x1,
  PRIORITY: 0x2,
  RST_STREAM: 0x3,
  SETTINGS: 0x4,
  PUSH_PROMISE: 0x5,
  PING: 0x6,
  GOAWAY: 0x7,
  WINDOW_UPDATE: 0x8,
  CONTINUATION: 0x9,
} as const;

export const Flag = {
  END_STREAM: 0x1,
  ACK: 0x1,
  END_HEADERS: 0x4,
  PADDED: 0x8,
  PRIORITY: 0x20,
} as const;

export const Setting = {
  HEADER_TABLE_SIZE: 0x1,
  ENABLE_PUSH: 0x2,
  MAX_CONCURRENT_STREAMS: 0x3,
  INITIAL_WINDOW_SIZE: 0x4,
  MAX_FRAME_SIZE: 0x5,
  MAX_HEADER_LIST_SIZE: 0x6,
} as const;

export const ErrorCode = {
  NO_ERROR: 0x0,
  PROTOCOL_ERROR: 0x1,
  INTERNAL_ERROR: 0x2,
  FLOW_CONTROL_ERROR: 0x3,
  SETTINGS_TIMEOUT: 0x4,
  STREAM_CLOSED: 0x5,
  FRAME_SIZE_ERROR: 0x6,
  REFUSED_STREAM: 0x7,
  CANCEL: 0x8,
  COMPRESSION_ERROR: 0x9,
  CONNECT_ERROR: 0xa,
  ENHANCE_YOUR_CALM: 0xb,
  INADEQUATE_SECURITY: 0xc,
  HTTP_1_1_REQUIRED: 0xd,
} as const;

export interface Frame {
  type: number;
  flags: number;
  streamId: number;
  payload: Buffer;
}

/** Writes a frame header at `at` in `out`. */
export function writeFrameHeader(out: Buffer, at: number, length: number, type: number, flags: number, streamId: number): void {
  out[at] = (length >>> 16) & 0xff;
  out[at + 1] = (length >>> 8) & 0xff;
  out[at + 2] = length & 0xff;
  out[at + 3] = type;
  out[at + 4] = flags;
  out.writeUInt32BE(streamId & MAX_WINDOW, at + 5);
}

/** One whole frame (header and payload) in a new buffer. */
export function encodeFrame(type: number, flags: number, streamId: number, payload: Buffer = Buffer.alloc(0)): Buffer {
  const out = Buffer.allocUnsafe(FRAME_HEADER_LEN + payload.length);
  writeFrameHeader(out, 0, payload.length, type, flags, streamId);
  payload.copy(out, FRAME_HEADER_LEN);
  return out;
}

export function settingsFrame(settings: Array<[id: number, value: number]>): Buffer {
  const payload = Buffer.allocUnsafe(6 * settings.length);
  settings.forEach(([id, value], i) => {
    payload.writeUInt16BE(id, 6 * i);
    payload.writeUInt32BE(value, 6 * i + 2);
  });
  return encodeFrame(FrameType.SETTINGS, 0, 0, payload);
}

export function windowUpdateFrame(streamId: number, increment: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(increment & MAX_WINDOW, 0);
  return encodeFrame(FrameType.WINDOW_UPDATE, 0, streamId, payload);
}

export function rstStreamFrame(streamId: number, code: number): Buffer {
  const payload = Buffer.allocUnsafe(4);
  payload.writeUInt32BE(code, 0);
  return encodeFrame(FrameType.RST_STREAM, 0, streamId, payload);
}

/** GOAWAY with a short debug text of ours (never the peer's bytes). */
export function goAwayFrame(lastStreamId: number, code: number, debug = ''): Buffer {
  const text = Buffer.from(debug, 'utf8');
  const payload = Buffer.allocUnsafe(8 + text.length);
  payload.writeUInt32BE(lastStreamId & MAX_WINDOW, 0);
  payload.writeUInt32BE(code, 4);
  text.copy(payload, 8);
  return encodeFrame(FrameType.GOAWAY, 0, 0, payload);
}

/**
 * Cuts bytes into frames: first the 24-byte client preface when `expectPreface`, then frames of
 * at most `maxFrameSize` payload bytes. Throws H2Error (a connection error) on a wrong preface
 * or an oversized frame; the caller tears the connection down and feeds nothing more.
 */
export class FrameReader {
  readonly #queue = new ByteQueue();
  #needPreface: boolean;
  #header: { length: number; type: number; flags: number; streamId: number } | undefined;
  maxFrameSize = DEFAULT_MAX_FRAME_SIZE;

  constructor(expectPreface: boolean) {
    this.#needPreface = expectPreface;
  }

  /** Feeds bytes and calls `onFrame` for each complete frame, in order. */
  push(chunk: Buffer, onFrame: (frame: Frame) => void): void {
    this.#queue.push(chunk);
    if (this.#needPreface) {
      if (this.#queue.length < CLIENT_PREFACE.length) return;
      if (!this.#queue.take(CLIENT_PREFACE.length).equals(CLIENT_PREFACE)) {
        throw new H2Error('ERR_H2_PREFACE', 'the connection did not start with the HTTP/2 client preface', 0x1);
      }
      this.#needPreface = false;
    }
    for (;;) {
      if (this.#header === undefined) {
        if (this.#queue.length < FRAME_HEADER_LEN) return;
        const h = this.#queue.take(FRAME_HEADER_LEN);
        const length = (h[0]! << 16) | (h[1]! << 8) | h[2]!;
        if (length > this.maxFrameSize) {
          throw new H2Error('ERR_H2_FRAME_SIZE', `a frame of ${length} bytes exceeds the ${this.maxFrameSize}-byte limit`, ErrorCode.FRAME_SIZE_ERROR);
        }
        this.#header = { length, type: h[3]!, flags: h[4]!, streamId: h.readUInt32BE(5) & MAX_WINDOW };
      }
      if (this.#queue.length < this.#header.length) return;
      const { type, flags, streamId, length } = this.#header;
      this.#header = undefined;
      onFrame({ type, flags, streamId, payload: this.#queue.take(length) });
    }
  }
}
