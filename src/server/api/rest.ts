// REST admin API on the main listener, /api/v1/*, as headscale 0.29.2's grpc-gateway serves it:
// the same methods, paths and JSON (see route-table.ts and protojson.ts), calling the same
// service implementation as gRPC, in process. Authentication is a Bearer API key; a missing or bad
// one gets 401 with the plain-text body "Unauthorized". Errors are {code, message, details} with
// the HTTP status the gateway derives from the gRPC code. No response ever carries a stack.
// Public, without a key: the OpenAPI document (/api/v1/openapi.json, /swagger/v1/openapiv2.json).

import type http from 'node:http';
import { Code, ConnectError, createContextValues, type HandlerContext } from '@connectrpc/connect';
import { create, type JsonObject, type JsonValue, type Message } from '@bufbuild/protobuf';
import type { Logger } from '../../lib/logger.js';
import type { Impl } from '../admin/service.js';
import type { ApiKeyAuthenticator } from '../admin/api-key-auth.js';
import { ROUTES, methodOf, pathPattern, pathVariables, type RouteSpec } from './route-table.js';
import { findField, jsonToMessage, messageToJson, textToJson } from './protojson.js';
import { buildOpenApi } from './openapi.js';

const BODY_LIMIT = 1 << 20;

const SECURITY_HEADERS = {
  'X-Frame-Options': 'DENY',
  'Content-Security-Policy': "frame-ancestors 'none'",
  'X-Content-Type-Options': 'nosniff',
  'Referrer-Policy': 'no-referrer',
};

/** gRPC code → HTTP status, as grpc-gateway's HTTPStatusFromCode. */
export function httpStatusOf(code: Code): number {
  switch (code) {
    case Code.Canceled: return 499;
    case Code.InvalidArgument:
    case Code.FailedPrecondition:
    case Code.OutOfRange: return 400;
    case Code.DeadlineExceeded: return 504;
    case Code.NotFound: return 404;
    case Code.AlreadyExists:
    case Code.Aborted: return 409;
    case Code.PermissionDenied: return 403;
    case Code.Unauthenticated: return 401;
    case Code.ResourceExhausted: return 429;
    case Code.Unimplemented: return 501;
    case Code.Unavailable: return 503;
    default: return 500;
  }
}

interface CompiledRoute {
  spec: RouteSpec;
  pattern: RegExp;
  vars: string[];
  literalSegments: number;
}

export interface RestApiDeps {
  service: Impl;
  auth: ApiKeyAuthenticator;
  logger: Logger;
  version: string;
}

export type RestHandler = (req: http.IncomingMessage, res: http.ServerResponse) => boolean;

export function createRestApi(deps: RestApiDeps): RestHandler {
  // Literal segments win over variables (POST /node/register before /node/{node_id}/...).
  const routes: CompiledRoute[] = ROUTES.map((spec) => ({
    spec,
    pattern: pathPattern(spec.path),
    vars: pathVariables(spec.path),
    literalSegments: spec.path.split('/').filter((s) => s && !s.startsWith('{')).length,
  })).sort((a, b) => b.literalSegments - a.literalSegments);
  let openapi: string | undefined;

  return (req, res) => {
    const url = new URL(req.url ?? '/', 'http://switchboard.invalid');
    const path = url.pathname;
    if (path === '/api/v1/openapi.json' || path === '/swagger/v1/openapiv2.json') {
      if (req.method !== 'GET' && req.method !== 'HEAD') {
        sendText(res, 405, 'method not allowed');
        return true;
      }
      openapi ??= JSON.stringify(buildOpenApi(deps.version), null, 2);
      send(res, 200, openapi, 'application/json; charset=utf-8');
      return true;
    }
    if (path !== '/api/v1' && !path.startsWith('/api/v1/')) return false;
    void serve(req, res, url, routes, deps).catch((err: unknown) => {
      deps.logger.error('REST admin call failed unexpectedly', { error: err instanceof Error ? err.stack : String(err) });
      if (!res.headersSent) sendError(res, new ConnectError('internal error', Code.Internal));
      else res.destroy();
    });
    return true;
  };
}

async function serve(req: http.IncomingMessage, res: http.ServerResponse, url: URL, routes: CompiledRoute[], deps: RestApiDeps): Promise<void> {
  const outcome = await deps.auth.check(req.headers.authorization);
  if (outcome !== 'ok') {
    req.resume();
    return sendText(res, 401, 'Unauthorized');
  }
  const matches = routes.map((r) => ({ r, m: r.pattern.exec(url.pathname) })).filter((x) => x.m);
  if (matches.length === 0) {
    req.resume();
    return sendError(res, new ConnectError('Not Found', Code.NotFound));
  }
  const hit = matches.find((x) => x.r.spec.method === req.method);
  if (!hit) {
    req.resume();
    res.setHeader('Allow', [...new Set(matches.map((x) => x.r.spec.method))].join(', '));
    return sendError(res, new ConnectError('Method Not Allowed', Code.Unimplemented), 405);
  }
  const { spec, vars } = hit.r;
  const method = methodOf(spec);
  let request: Message;
  try {
    const json: JsonObject = spec.body ? await readJsonBody(req) : {};
    if (!spec.body) req.resume();
    const schema = method.input;
    vars.forEach((name, i) => {
      const field = findField(schema, name);
      if (!field) throw new TypeError(`unknown path variable ${name}`);
      json[field.jsonName] = textToJson(field, [decodeURIComponent(hit.m?.[i + 1] ?? '')]);
    });
    if (!spec.body) {
      const names = new Set(url.searchParams.keys());
      for (const name of names) {
        const field = findField(schema, name);
        if (!field || vars.includes(field.name)) continue;
        json[field.jsonName] = textToJson(field, url.searchParams.getAll(name));
      }
    }
    request = jsonToMessage(schema, json);
  } catch (err) {
    if (err instanceof ConnectError) return sendError(res, err);
    return sendError(res, new ConnectError(err instanceof Error ? err.message : 'invalid request', Code.InvalidArgument));
  }
  const handler = deps.service[spec.rpc] as unknown as (req: Message, ctx: HandlerContext) => Promise<Message | object>;
  let response: Message | object;
  try {
    response = await handler(request, restContext(req, method.name));
  } catch (err) {
    return sendError(res, err instanceof ConnectError ? err : new ConnectError('internal error', Code.Internal));
  }
  const msg = '$typeName' in response ? (response as Message) : create(method.output, response as never);
  send(res, 200, JSON.stringify(messageToJson(method.output, msg)), 'application/json');
}

/** A minimal handler context: our handlers read nothing from it, but the type asks for one. */
function restContext(req: http.IncomingMessage, name: string): HandlerContext {
  const controller = new AbortController();
  req.once('close', () => controller.abort());
  return {
    method: { name } as HandlerContext['method'],
    service: {} as HandlerContext['service'],
    requestMethod: req.method ?? 'POST',
    url: req.url ?? '',
    signal: controller.signal,
    timeoutMs: () => undefined,
    requestHeader: new Headers(),
    responseHeader: new Headers(),
    responseTrailer: new Headers(),
    protocolName: 'rest',
    values: createContextValues(),
  } as unknown as HandlerContext;
}

async function readJsonBody(req: http.IncomingMessage): Promise<JsonObject> {
  const chunks: Buffer[] = [];
  let size = 0;
  for await (const chunk of req) {
    size += (chunk as Buffer).length;
    if (size > BODY_LIMIT) throw new ConnectError('request body too large', Code.InvalidArgument);
    chunks.push(chunk as Buffer);
  }
  const text = Buffer.concat(chunks).toString('utf8');
  if (text.trim() === '') return {};
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    throw new ConnectError('invalid JSON in request body', Code.InvalidArgument);
  }
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    throw new ConnectError('the request body must be a JSON object', Code.InvalidArgument);
  }
  return value;
}

function send(res: http.ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { ...SECURITY_HEADERS, 'Content-Type': type, 'Content-Length': Buffer.byteLength(body) });
  res.end(body);
}

function sendText(res: http.ServerResponse, status: number, body: string): void {
  send(res, status, body, 'text/plain; charset=utf-8');
}

function sendError(res: http.ServerResponse, err: ConnectError, status = httpStatusOf(err.code)): void {
  send(res, status, JSON.stringify({ code: err.code, message: err.rawMessage, details: [] }), 'application/json');
}
