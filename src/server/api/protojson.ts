// JSON the way headscale's grpc-gateway writes and reads it (protojson): lowerCamelCase names,
// 64-bit integers as strings, Timestamps as RFC 3339, enums by name, zero values emitted and
// unset message fields as null (the gateway's EmitUnpopulated); unknown request fields ignored.

import { fromJson, toJson, type DescField, type DescMessage, type JsonObject, type JsonValue, type Message } from '@bufbuild/protobuf';
import { ScalarType } from '@bufbuild/protobuf';

export function messageToJson(schema: DescMessage, msg: Message): JsonObject {
  const json = toJson(schema, msg, { alwaysEmitImplicit: true }) as JsonObject;
  return withNulls(schema, msg as unknown as Record<string, unknown>, json);
}

function withNulls(schema: DescMessage, msg: Record<string, unknown>, json: JsonObject): JsonObject {
  for (const field of schema.fields) {
    if (field.fieldKind !== 'message') {
      if (field.fieldKind === 'list' && field.listKind === 'message' && !isWkt(field.message)) {
        const items = msg[field.localName] as Record<string, unknown>[];
        const out = json[field.jsonName] as JsonObject[] | undefined;
        if (out) items.forEach((m, i) => withNulls(field.message, m, out[i] as JsonObject));
      }
      continue;
    }
    const value = msg[field.localName] as Record<string, unknown> | undefined;
    if (value === undefined) json[field.jsonName] = null;
    else if (!isWkt(field.message)) withNulls(field.message, value, json[field.jsonName] as JsonObject);
  }
  return json;
}

function isWkt(schema: DescMessage): boolean {
  return schema.typeName.startsWith('google.protobuf.');
}

/** Finds a field by its proto name (node_id) or JSON name (nodeId), as the gateway accepts both. */
export function findField(schema: DescMessage, name: string): DescField | undefined {
  return schema.fields.find((f) => f.name === name || f.jsonName === name);
}

/**
 * A path or query string value as the JSON protojson expects for this field; throws a
 * TypeError with a readable message when it cannot be one.
 */
export function textToJson(field: DescField, values: string[]): JsonValue {
  if (field.fieldKind === 'list') {
    if (field.listKind === 'scalar') return values.map((v) => scalarText(field.name, field.scalar, v));
    if (field.listKind === 'enum') return values;
    throw new TypeError(`field ${field.name} cannot be given in the URL`);
  }
  const v = values[values.length - 1] as string;
  if (field.fieldKind === 'scalar') return scalarText(field.name, field.scalar, v);
  if (field.fieldKind === 'enum') return v;
  if (field.fieldKind === 'message' && field.message.typeName === 'google.protobuf.Timestamp') return v;
  throw new TypeError(`field ${field.name} cannot be given in the URL`);
}

function scalarText(name: string, type: ScalarType, v: string): JsonValue {
  switch (type) {
    case ScalarType.BOOL:
      if (v === 'true' || v === '1' || v === '') return true;
      if (v === 'false' || v === '0') return false;
      throw new TypeError(`invalid value for bool field ${name}: "${v}"`);
    case ScalarType.INT32:
    case ScalarType.SINT32:
    case ScalarType.SFIXED32:
    case ScalarType.UINT32:
    case ScalarType.FIXED32:
    case ScalarType.DOUBLE:
    case ScalarType.FLOAT:
      if (!/^-?\d+(\.\d+)?$/.test(v)) throw new TypeError(`invalid value for number field ${name}: "${v}"`);
      return Number(v);
    default:
      return v; // strings, and 64-bit integers (protojson takes them as strings)
  }
}

export function jsonToMessage<T extends Message>(schema: DescMessage, json: JsonValue): T {
  return fromJson(schema, json, { ignoreUnknownFields: true }) as T;
}
