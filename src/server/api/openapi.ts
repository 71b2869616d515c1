// The OpenAPI (Swagger 2.0, like headscale's generated headscale.swagger.json) document of the
// REST admin API, built from the route table and the protobuf message descriptors, so it cannot
// drift from what the handler serves. Served at /api/v1/openapi.json and /swagger/v1/openapiv2.json.

import { ScalarType, type DescField, type DescMessage, type DescEnum } from '@bufbuild/protobuf';
import { ROUTES, methodOf, pathVariables } from './route-table.js';
import { findField } from './protojson.js';

type Schema = Record<string, unknown>;

const defName = (typeName: string) => `v1${typeName.split('.').pop()}`;
const camel = (name: string) => name.replace(/_([a-z])/g, (_, c: string) => c.toUpperCase());
const pascal = (name: string) => name.charAt(0).toUpperCase() + name.slice(1);

function scalarSchema(t: ScalarType): Schema {
  switch (t) {
    case ScalarType.BOOL: return { type: 'boolean' };
    case ScalarType.STRING: return { type: 'string' };
    case ScalarType.BYTES: return { type: 'string', format: 'byte' };
    case ScalarType.UINT64: case ScalarType.FIXED64: return { type: 'string', format: 'uint64' };
    case ScalarType.INT64: case ScalarType.SINT64: case ScalarType.SFIXED64: return { type: 'string', format: 'int64' };
    case ScalarType.DOUBLE: return { type: 'number', format: 'double' };
    case ScalarType.FLOAT: return { type: 'number', format: 'float' };
    case ScalarType.UINT32: case ScalarType.FIXED32: return { type: 'integer', format: 'int64' };
    default: return { type: 'integer', format: 'int32' };
  }
}

export function buildOpenApi(version: string): Record<string, unknown> {
  const definitions: Record<string, Schema> = {
    protobufAny: { type: 'object', properties: { '@type': { type: 'string' } }, additionalProperties: {} },
    rpcStatus: {
      type: 'object',
      properties: {
        code: { type: 'integer', format: 'int32' },
        message: { type: 'string' },
        details: { type: 'array', items: { type: 'object', $ref: '#/definitions/protobufAny' } },
      },
    },
  };

  const enumRef = (e: DescEnum): Schema => {
    const name = defName(e.typeName);
    definitions[name] ??= { type: 'string', enum: e.values.map((v) => v.name), default: e.values[0]?.name };
    return { $ref: `#/definitions/${name}` };
  };
  const messageRef = (m: DescMessage): Schema => {
    if (m.typeName === 'google.protobuf.Timestamp') return { type: 'string', format: 'date-time' };
    const name = defName(m.typeName);
    if (!definitions[name]) {
      definitions[name] = {}; // placeholder against recursion
      definitions[name] = objectSchema(m.fields);
    }
    return { $ref: `#/definitions/${name}` };
  };
  const fieldSchema = (f: DescField): Schema => {
    switch (f.fieldKind) {
      case 'scalar': return scalarSchema(f.scalar);
      case 'enum': return enumRef(f.enum);
      case 'message': return messageRef(f.message);
      case 'list': {
        const items = f.listKind === 'scalar' ? scalarSchema(f.scalar) : f.listKind === 'enum' ? enumRef(f.enum) : messageRef(f.message);
        return { type: 'array', items };
      }
      case 'map': return { type: 'object', additionalProperties: f.mapKind === 'message' ? messageRef(f.message) : { type: 'string' } };
    }
  };
  const objectSchema = (fields: readonly DescField[]): Schema => ({
    type: 'object',
    properties: Object.fromEntries(fields.map((f) => [f.jsonName, fieldSchema(f)])),
  });

  const paths: Record<string, Record<string, unknown>> = {};
  for (const route of ROUTES) {
    const method = methodOf(route);
    const vars = pathVariables(route.path);
    const input = method.input;
    const pathFields = vars.map((v) => findField(input, v) as DescField);
    const rest = input.fields.filter((f) => !pathFields.includes(f));
    const parameters: Schema[] = pathFields.map((f) => ({ name: f.jsonName, in: 'path', required: true, ...scalarOr(fieldSchema(f)) }));
    if (route.body) {
      const schema = pathFields.length === 0 ? messageRef(input) : bodyRef(definitions, `HeadscaleService${pascal(route.rpc)}Body`, objectSchema(rest));
      parameters.push({ name: 'body', in: 'body', required: true, schema });
    } else {
      for (const f of rest) {
        const s = fieldSchema(f);
        if (f.fieldKind === 'message' && f.message.typeName !== 'google.protobuf.Timestamp') continue;
        parameters.push({ name: f.jsonName, in: 'query', required: false, ...(s.$ref ? { type: 'string' } : s) });
      }
    }
    const openPath = route.path.replace(/\{([a-z_]+)\}/g, (_, v: string) => `{${camel(v)}}`);
    paths[openPath] ??= {};
    paths[openPath][route.method.toLowerCase()] = {
      summary: route.summary,
      operationId: `HeadscaleService_${method.name}`,
      responses: {
        '200': { description: 'A successful response.', schema: messageRef(method.output) },
        '401': { description: 'Missing or invalid API key (plain-text body "Unauthorized").' },
        default: { description: 'An unexpected error response.', schema: { $ref: '#/definitions/rpcStatus' } },
      },
      ...(parameters.length ? { parameters } : {}),
      tags: ['HeadscaleService'],
    };
  }

  return {
    swagger: '2.0',
    info: {
      title: 'Switchboard admin API (headscale/v1/headscale.proto)',
      description: 'REST mapping of headscale.v1.HeadscaleService, compatible with headscale 0.29. Authenticate with "Authorization: Bearer <api key>".',
      version,
    },
    tags: [{ name: 'HeadscaleService' }],
    consumes: ['application/json'],
    produces: ['application/json'],
    securityDefinitions: { Bearer: { type: 'apiKey', name: 'Authorization', in: 'header', description: 'Bearer <api key> (create one with "switchboard apikeys create")' } },
    security: [{ Bearer: [] }],
    paths,
    definitions,
  };
}

function scalarOr(s: Schema): Schema {
  return s.$ref ? { type: 'string' } : s;
}

function bodyRef(definitions: Record<string, Schema>, name: string, schema: Schema): Schema {
  definitions[name] = schema;
  return { $ref: `#/definitions/${name}` };
}
