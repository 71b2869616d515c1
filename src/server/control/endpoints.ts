// Every /machine/* endpoint a client may call over Noise, in one table. Those not implemented
// answer 501 with a clear text; unknown paths answer 404. Routing is by path only (clients send
// ":authority: unused" for some calls).

import type { H2ServerStream } from '../../protocol/h2/server-stream.js';

export type EndpointHandler = (stream: H2ServerStream, machineKey: string) => Promise<void>;

export interface EndpointRow {
  method: string;
  path: string | RegExp;
  purpose: string;
  handler?: EndpointHandler;
}

export function endpointTable(handlers: { register: EndpointHandler; map: EndpointHandler }): EndpointRow[] {
  return [
    { method: 'POST', path: '/machine/register', purpose: 'register a node key (auth key, interactive login, logout, rotation)', handler: handlers.register },
    { method: 'POST', path: '/machine/map', purpose: 'network map stream and lite updates', handler: handlers.map },
    { method: 'GET', path: '/machine/whoami', purpose: 'debug: who am I' },
    { method: 'POST', path: '/machine/set-dns', purpose: 'ACME DNS-01 records for tailscale cert' },
    { method: 'POST', path: '/machine/id-token', purpose: 'OIDC ID tokens for workload identity' },
    { method: 'POST', path: '/machine/audit-log', purpose: 'client audit events' },
    { method: 'PATCH', path: '/machine/set-device-attr', purpose: 'device posture attributes' },
    { method: 'POST', path: '/machine/feature/query', purpose: 'feature enablement queries (serve, funnel)' },
    { method: 'POST', path: '/machine/update-health', purpose: 'legacy health reports' },
    { method: 'POST', path: '/machine/c2n', purpose: 'control-to-node replies' },
    { method: 'GET', path: /^\/machine\/ssh\/action\//, purpose: 'Tailscale SSH check actions' },
    { method: 'POST', path: /^\/machine\/webclient\//, purpose: 'web client check mode' },
    { method: 'GET', path: /^\/machine\/tka\//, purpose: 'tailnet lock' },
  ];
}

export function findEndpoint(table: EndpointRow[], method: string, path: string): EndpointRow | undefined {
  return table.find((row) => (typeof row.path === 'string' ? row.path === path : row.path.test(path)) && (row.method === method || path.startsWith('/machine/tka/')));
}
