// The map stream's framing: each MapResponse is JSON, compressed as zstd when the client asked
// for Compress "zstd" (one frame, or several back to back: see peer-blocks.ts), preceded by its
// length as a 4-byte little-endian unsigned integer.

import { compress } from 'zstd-napi';

/**
 * zstd level 1, not the default 3: a map is mostly random keys (three 32-byte keys per peer in
 * hex), and on 64 peers' JSON level 1 is about twice as fast and 5 % smaller than level 3.
 */
const ZSTD_PARAMETERS = { compressionLevel: 1 };

export function zstdCompress(bytes: Buffer): Buffer {
  return compress(bytes, ZSTD_PARAMETERS);
}

export function encodeFrame(json: string, zstd: boolean): Buffer {
  const bytes = Buffer.from(json, 'utf8');
  return frameFromBody([zstd ? zstdCompress(bytes) : bytes]);
}

/** Prefixes an already encoded (zstd or plain) body, given in parts, with its length: one copy. */
export function frameFromBody(parts: readonly Buffer[]): Buffer {
  let length = 0;
  for (const part of parts) length += part.length;
  const frame = Buffer.allocUnsafe(4 + length);
  frame.writeUInt32LE(length, 0);
  let at = 4;
  for (const part of parts) at += part.copy(frame, at);
  return frame;
}

const KEEP_ALIVE_JSON = '{"KeepAlive":true}';
const KEEP_ALIVE = { zstd: encodeFrame(KEEP_ALIVE_JSON, true), plain: encodeFrame(KEEP_ALIVE_JSON, false) };

export function keepAliveFrame(zstd: boolean): Buffer {
  return zstd ? KEEP_ALIVE.zstd : KEEP_ALIVE.plain;
}

/**
 * Frames built during one batch, by JSON text: when many viewers get the same delta (no policy,
 * or a full-mesh one), it is compressed once and the same bytes go to every stream.
 */
export class FrameMemo {
  readonly #zstd = new Map<string, Buffer>();
  readonly #plain = new Map<string, Buffer>();

  frame(json: string, zstd: boolean): Buffer {
    const memo = zstd ? this.#zstd : this.#plain;
    let frame = memo.get(json);
    if (!frame) memo.set(json, (frame = encodeFrame(json, zstd)));
    return frame;
  }
}
