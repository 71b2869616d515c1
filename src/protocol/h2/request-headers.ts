// A request's decoded header list checked against RFC 9113 §8.2–8.3 and turned into a record:
// pseudo-header fields first, each once, only the four a request may have; lower-case names; no
// connection-specific fields; :method, :scheme and :path present. Anything else makes the request
// malformed, which is a stream error (PROTOCOL_ERROR): that request fails, the connection lives.

import { H2Error } from './errors.js';
import { ErrorCode } from './frames.js';
import type { HeaderField } from './hpack.js';

const REQUEST_PSEUDO = new Set([':method', ':scheme', ':authority', ':path']);
const CONNECTION_SPECIFIC = new Set(['connection', 'keep-alive', 'proxy-connection', 'transfer-encoding', 'upgrade']);
const UPPER_CASE = /[A-Z]/;

export function requestHeaders(fields: HeaderField[], streamId: number): Record<string, string> {
  const malformed = (why: string): H2Error => new H2Error('ERR_H2_HEADERS', `malformed request: ${why}`, ErrorCode.PROTOCOL_ERROR, streamId);
  const out: Record<string, string> = {};
  let regularSeen = false;
  for (const [name, value] of fields) {
    if (name.startsWith(':')) {
      if (regularSeen) throw malformed('a pseudo-header field after a regular one');
      if (!REQUEST_PSEUDO.has(name)) throw malformed('an unknown pseudo-header field');
      if (name in out) throw malformed('a repeated pseudo-header field');
      out[name] = value;
      continue;
    }
    regularSeen = true;
    if (name.length === 0 || UPPER_CASE.test(name)) throw malformed('a field name that is empty or not lower-case');
    if (CONNECTION_SPECIFIC.has(name)) throw malformed('a connection-specific field');
    if (name === 'te' && value !== 'trailers') throw malformed('a TE field other than "trailers"');
    const before = out[name];
    out[name] = before === undefined ? value : `${before}${name === 'cookie' ? '; ' : ', '}${value}`;
  }
  if (!out[':method']) throw malformed('no :method');
  if (out[':method'] !== 'CONNECT' && (!out[':scheme'] || !out[':path'])) throw malformed('no :scheme or :path');
  return out;
}
