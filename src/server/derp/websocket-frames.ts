// RFC 6455 WebSocket framing: an encoder and an incremental parser (explicit state machine,
// one method per state), no extensions. Used by ./websocket.ts to carry DERP's byte stream.
//
// Frame layout (RFC 6455 §5.2):
//   byte 0: FIN(1) RSV1..3(3, must be 0 without extensions) opcode(4)
//   byte 1: MASK(1) length7(7): 0..125 = length, 126 = u16 BE follows, 127 = u64 BE follows
//   [2 or 8 bytes extended length] [4-byte masking key if MASK] payload (XOR key[i % 4])
// Client-to-server frames must be masked, server-to-client frames must not be.
// Control frames (close 8, ping 9, pong 10) have FIN set and at most 125 payload bytes.

export const WsOpcode = { Continuation: 0x0, Text: 0x1, Binary: 0x2, Close: 0x8, Ping: 0x9, Pong: 0xa } as const;

export const WsCloseCode = { Normal: 1000, GoingAway: 1001, ProtocolError: 1002, PolicyViolation: 1008, TooBig: 1009 } as const;

export interface WsFrame {
  fin: boolean;
  opcode: number;
  payload: Buffer;
}

export interface WsProtocolError {
  closeCode: number;
  message: string;
}

/** Encodes one frame; pass a 4-byte maskKey when sending as a client. */
export function encodeWsFrame(opcode: number, payload: Uint8Array, opts: { fin?: boolean; maskKey?: Uint8Array } = {}): Buffer {
  const len = payload.length;
  const extLen = len < 126 ? 0 : len < 0x10000 ? 2 : 8;
  const maskLen = opts.maskKey ? 4 : 0;
  const out = Buffer.allocUnsafe(2 + extLen + maskLen + len);
  out[0] = ((opts.fin ?? true) ? 0x80 : 0) | (opcode & 0x0f);
  const maskBit = opts.maskKey ? 0x80 : 0;
  if (extLen === 0) out[1] = maskBit | len;
  else if (extLen === 2) {
    out[1] = maskBit | 126;
    out.writeUInt16BE(len, 2);
  } else {
    out[1] = maskBit | 127;
    out.writeBigUInt64BE(BigInt(len), 2);
  }
  let at = 2 + extLen;
  if (opts.maskKey) {
    out.set(opts.maskKey.subarray(0, 4), at);
    at += 4;
    for (let i = 0; i < len; i++) out[at + i] = payload[i]! ^ opts.maskKey[i & 3]!;
  } else {
    out.set(payload, at);
  }
  return out;
}

/** A close frame payload: code(2, BE) + UTF-8 reason (kept within the 125-byte limit). */
export function closePayload(code: number, reason = ''): Buffer {
  const r = Buffer.from(reason, 'utf8').subarray(0, 123);
  const b = Buffer.allocUnsafe(2 + r.length);
  b.writeUInt16BE(code, 0);
  r.copy(b, 2);
  return b;
}

type State = 'header' | 'length16' | 'length64' | 'maskKey' | 'payload' | 'failed';

export interface WsParserOptions {
  /** 'server' expects masked frames (from a client); 'client' expects unmasked ones. */
  expectMasked: boolean;
  maxPayload: number;
  onFrame(frame: WsFrame): void;
  onError(err: WsProtocolError): void;
}

export class WsFrameParser {
  #state: State = 'header';
  #buf: Buffer = Buffer.alloc(0);
  #fin = false;
  #opcode = 0;
  #masked = false;
  #length = 0;
  #maskKey = Buffer.alloc(4);
  readonly #opts: WsParserOptions;

  constructor(opts: WsParserOptions) {
    this.#opts = opts;
  }

  push(chunk: Buffer): void {
    if (this.#state === 'failed') return;
    this.#buf = this.#buf.length === 0 ? chunk : Buffer.concat([this.#buf, chunk]);
    for (;;) {
      let progressed: boolean;
      switch (this.#state) {
        case 'header':
          progressed = this.#readHeader();
          break;
        case 'length16':
          progressed = this.#readLength16();
          break;
        case 'length64':
          progressed = this.#readLength64();
          break;
        case 'maskKey':
          progressed = this.#readMaskKey();
          break;
        case 'payload':
          progressed = this.#readPayload();
          break;
        default:
          return;
      }
      if (!progressed) return;
    }
  }

  #take(n: number): Buffer {
    const out = this.#buf.subarray(0, n);
    this.#buf = this.#buf.subarray(n);
    return out;
  }

  #fail(closeCode: number, message: string): false {
    this.#state = 'failed';
    this.#buf = Buffer.alloc(0);
    this.#opts.onError({ closeCode, message });
    return false;
  }

  /** State "header": FIN/RSV/opcode byte and MASK/length7 byte. */
  #readHeader(): boolean {
    if (this.#buf.length < 2) return false;
    const [b0, b1] = this.#take(2);
    this.#fin = (b0! & 0x80) !== 0;
    this.#opcode = b0! & 0x0f;
    this.#masked = (b1! & 0x80) !== 0;
    const len7 = b1! & 0x7f;
    if ((b0! & 0x70) !== 0) return this.#fail(WsCloseCode.ProtocolError, 'reserved bits set without a negotiated extension');
    if (![0, 1, 2, 8, 9, 10].includes(this.#opcode)) return this.#fail(WsCloseCode.ProtocolError, `unknown opcode ${this.#opcode}`);
    if (this.#masked !== this.#opts.expectMasked) {
      return this.#fail(WsCloseCode.ProtocolError, this.#opts.expectMasked ? 'client frame not masked' : 'server frame masked');
    }
    if (this.#opcode >= 8 && (!this.#fin || len7 > 125)) return this.#fail(WsCloseCode.ProtocolError, 'fragmented or oversized control frame');
    if (len7 === 126) this.#state = 'length16';
    else if (len7 === 127) this.#state = 'length64';
    else return this.#setLength(len7);
    return true;
  }

  /** State "length16": u16 BE extended length. */
  #readLength16(): boolean {
    if (this.#buf.length < 2) return false;
    return this.#setLength(this.#take(2).readUInt16BE(0));
  }

  /** State "length64": u64 BE extended length (top bit must be 0). */
  #readLength64(): boolean {
    if (this.#buf.length < 8) return false;
    const v = this.#take(8).readBigUInt64BE(0);
    if (v > BigInt(this.#opts.maxPayload)) return this.#fail(WsCloseCode.TooBig, `frame of ${v} bytes exceeds ${this.#opts.maxPayload}`);
    return this.#setLength(Number(v));
  }

  #setLength(n: number): boolean {
    if (n > this.#opts.maxPayload) return this.#fail(WsCloseCode.TooBig, `frame of ${n} bytes exceeds ${this.#opts.maxPayload}`);
    this.#length = n;
    this.#state = this.#masked ? 'maskKey' : 'payload';
    return true;
  }

  /** State "maskKey": the 4-byte masking key. */
  #readMaskKey(): boolean {
    if (this.#buf.length < 4) return false;
    this.#maskKey = Buffer.from(this.#take(4));
    this.#state = 'payload';
    return true;
  }

  /** State "payload": `length` bytes, unmasked into a fresh buffer, then back to "header". */
  #readPayload(): boolean {
    if (this.#buf.length < this.#length) return false;
    const raw = this.#take(this.#length);
    const payload = Buffer.allocUnsafe(raw.length);
    if (this.#masked) for (let i = 0; i < raw.length; i++) payload[i] = raw[i]! ^ this.#maskKey[i & 3]!;
    else raw.copy(payload);
    this.#state = 'header';
    this.#opts.onFrame({ fin: this.#fin, opcode: this.#opcode, payload });
    return this.#state === 'header';
  }
}
