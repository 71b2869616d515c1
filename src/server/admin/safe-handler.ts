// Guards the connect-node adapter against requests it would throw on synchronously (and so take
// the whole process down): the adapter builds a URL from the :authority header, and gRPC clients
// on a unix socket send the socket path there (Go's grpc sends "/run/headscale/headscale.sock",
// percent-encoded). Such an authority is replaced with "localhost"; anything else that throws
// is answered with a bare 400.

import type http2 from 'node:http2';

type Handler = (req: http2.Http2ServerRequest, res: http2.Http2ServerResponse) => void;

export function withSafeAuthority(handler: Handler): Handler {
  return (req, res) => {
    const headers = req.headers as Record<string, string | string[] | undefined>;
    const authority = headers[':authority'] ?? headers.host;
    if (typeof authority !== 'string' || !URL.canParse(`http://${authority}/`) || new URL(`http://${authority}/`).pathname !== '/') {
      headers[':authority'] = 'localhost';
      delete headers.host;
    }
    try {
      handler(req, res);
    } catch {
      if (!res.headersSent) {
        res.writeHead(400, { 'content-type': 'text/plain' });
        res.end('bad request');
      } else {
        res.stream.close();
      }
    }
  };
}
