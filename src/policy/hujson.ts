// Owns HuJSON parsing (JSON with `//` and `/* */` comments and trailing commas, as
// github.com/tailscale/hujson accepts). Strict otherwise: keys and strings use double quotes.
// Every object and array remembers where each member starts, so validation can report
// line/column for the offending key or element.

import { PolicyError, type Position } from './errors.js';

export interface HuJSONDocument {
  value: unknown;
  /** Position of a member (object key or array index) of a container from this document. */
  positionOf(container: unknown, key: string | number): Position | undefined;
  /** Position of the container itself. */
  positionOfContainer(container: unknown): Position | undefined;
}

class Parser {
  readonly #text: string;
  #i = 0;
  readonly #members = new WeakMap<object, Map<string | number, Position>>();
  readonly #starts = new WeakMap<object, Position>();
  #lineStarts: number[] = [0];

  constructor(text: string) {
    this.#text = text;
    for (let i = 0; i < text.length; i++) if (text.charCodeAt(i) === 10) this.#lineStarts.push(i + 1);
  }

  pos(i = this.#i): Position {
    let lo = 0;
    let hi = this.#lineStarts.length - 1;
    while (lo < hi) {
      const mid = (lo + hi + 1) >> 1;
      if (this.#lineStarts[mid]! <= i) lo = mid;
      else hi = mid - 1;
    }
    return { line: lo + 1, column: i - this.#lineStarts[lo]! + 1 };
  }

  fail(message: string, i = this.#i): never {
    throw new PolicyError('ERR_POLICY_SYNTAX', message, this.pos(i));
  }

  document(): HuJSONDocument {
    this.#skip();
    if (this.#i >= this.#text.length) this.fail('unexpected end of input: empty document');
    const value = this.#value();
    this.#skip();
    if (this.#i < this.#text.length) this.fail(`invalid character ${JSON.stringify(this.#text[this.#i])} after top-level value`);
    const members = this.#members;
    const starts = this.#starts;
    return {
      value,
      positionOf: (c, k) => (typeof c === 'object' && c !== null ? members.get(c)?.get(k) : undefined),
      positionOfContainer: (c) => (typeof c === 'object' && c !== null ? starts.get(c) : undefined),
    };
  }

  #skip(): void {
    const t = this.#text;
    for (;;) {
      const c = t[this.#i];
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\uFEFF') {
        this.#i++;
      } else if (c === '/' && t[this.#i + 1] === '/') {
        const end = t.indexOf('\n', this.#i);
        this.#i = end < 0 ? t.length : end + 1;
      } else if (c === '/' && t[this.#i + 1] === '*') {
        const end = t.indexOf('*/', this.#i + 2);
        if (end < 0) this.fail('unterminated block comment');
        this.#i = end + 2;
      } else {
        return;
      }
    }
  }

  #value(): unknown {
    const c = this.#text[this.#i];
    switch (c) {
      case '{':
        return this.#object();
      case '[':
        return this.#array();
      case '"':
        return this.#string();
      case "'":
        return this.fail('invalid character \'\\\'\' looking for beginning of value (use double quotes)');
      case 't':
        return this.#literal('true', true);
      case 'f':
        return this.#literal('false', false);
      case 'n':
        return this.#literal('null', null);
      case undefined:
        return this.fail('unexpected end of input');
      default:
        if (c === '-' || (c >= '0' && c <= '9')) return this.#number();
        return this.fail(`invalid character ${JSON.stringify(c)} looking for beginning of value`);
    }
  }

  #literal(word: string, v: unknown): unknown {
    if (this.#text.startsWith(word, this.#i)) {
      this.#i += word.length;
      return v;
    }
    return this.fail(`invalid literal, expected ${word}`);
  }

  #number(): number {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(this.#text.slice(this.#i, this.#i + 64));
    if (!m) this.fail('invalid number');
    this.#i += m[0].length;
    return Number(m[0]);
  }

  #string(): string {
    const t = this.#text;
    const start = this.#i;
    let i = start + 1;
    for (;;) {
      const c = t.charCodeAt(i);
      if (Number.isNaN(c)) this.fail('unterminated string', start);
      if (c === 34) break;
      if (c < 0x20) this.fail('invalid control character in string', i);
      if (c === 92) i++;
      i++;
    }
    this.#i = i + 1;
    try {
      return JSON.parse(t.slice(start, i + 1)) as string;
    } catch {
      return this.fail('invalid escape in string', start);
    }
  }

  #object(): Record<string, unknown> {
    const obj: Record<string, unknown> = {};
    const members = new Map<string, Position>();
    this.#starts.set(obj, this.pos());
    this.#members.set(obj, members);
    this.#i++;
    for (;;) {
      this.#skip();
      const c = this.#text[this.#i];
      if (c === '}') {
        this.#i++;
        return obj;
      }
      if (c !== '"') {
        this.fail(c === undefined ? 'unexpected end of input in object' : `invalid character ${JSON.stringify(c)} looking for beginning of object key string`);
      }
      const keyPos = this.pos();
      const key = this.#string();
      if (members.has(key)) this.fail(`duplicate object member ${JSON.stringify(key)}`, this.#i - 1);
      this.#skip();
      if (this.#text[this.#i] !== ':') this.fail('expected \':\' after object key');
      this.#i++;
      this.#skip();
      const value = this.#value();
      // own data property even for "__proto__", so input can never change a prototype
      Object.defineProperty(obj, key, { value, writable: true, enumerable: true, configurable: true });
      members.set(key, keyPos);
      this.#skip();
      const d = this.#text[this.#i];
      if (d === ',') this.#i++;
      else if (d !== '}') this.fail(d === undefined ? 'unexpected end of input in object' : `invalid character ${JSON.stringify(d)} after object key:value pair`);
    }
  }

  #array(): unknown[] {
    const arr: unknown[] = [];
    const members = new Map<number, Position>();
    this.#starts.set(arr, this.pos());
    this.#members.set(arr, members);
    this.#i++;
    for (;;) {
      this.#skip();
      if (this.#text[this.#i] === ']') {
        this.#i++;
        return arr;
      }
      members.set(arr.length, this.pos());
      arr.push(this.#value());
      this.#skip();
      const d = this.#text[this.#i];
      if (d === ',') this.#i++;
      else if (d !== ']') this.fail(d === undefined ? 'unexpected end of input in array' : `invalid character ${JSON.stringify(d)} after array element`);
    }
  }
}

/** Parse HuJSON text. Throws PolicyError(ERR_POLICY_SYNTAX) with line/column. */
export function parseHuJSON(text: string): HuJSONDocument {
  return new Parser(text).document();
}
