// POST /verify: lets an external derper ask whether a node key belongs to this tailnet
// (`derper --verify-client-url`). Body tailcfg.DERPAdmitClientRequest, at most 4 KiB; answer
// {"Allow": bool}.

import type http from 'node:http';
import type { State } from '../../state/index.js';

const MAX_BODY = 4096;

export function serveVerify(req: http.IncomingMessage, res: http.ServerResponse, state: State): boolean {
  if ((req.url ?? '').split('?')[0] !== '/verify') return false;
  const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
    res.writeHead(status, { 'Content-Type': type, 'X-Content-Type-Options': 'nosniff' });
    res.end(body);
  };
  if (req.method !== 'POST') {
    reply(405, 'method not allowed');
    return true;
  }
  const chunks: Buffer[] = [];
  let size = 0;
  req.on('data', (c: Buffer) => {
    size += c.length;
    if (size > MAX_BODY) {
      reply(413, 'request body too large');
      req.destroy();
      return;
    }
    chunks.push(c);
  });
  req.on('end', () => {
    if (size > MAX_BODY) return;
    let nodePublic: unknown;
    try {
      nodePublic = (JSON.parse(Buffer.concat(chunks).toString('utf8')) as { NodePublic?: unknown }).NodePublic;
    } catch {
      return reply(400, 'invalid JSON body');
    }
    const allow = typeof nodePublic === 'string' && state.nodes.findByNodeKey(nodePublic) !== undefined;
    reply(200, JSON.stringify({ Allow: allow }), 'application/json');
  });
  return true;
}
