// Conversions between driver values and domain values, the same for both databases.

export function toId(v: number | string | bigint): number {
  return Number(v);
}

export function toRef(v: number | string | null): number | null {
  return v === null ? null : Number(v);
}

export function toDate(v: Date | string): Date {
  return v instanceof Date ? v : new Date(v);
}

export function toNullableDate(v: Date | string | null): Date | null {
  return v === null ? null : toDate(v);
}

export function fromDate(d: Date): string {
  return d.toISOString();
}

export function fromNullableDate(d: Date | null): string | null {
  return d === null ? null : d.toISOString();
}

export function toFlag(v: number | boolean): boolean {
  return v === true || v === 1;
}

/** Both drivers accept 0/1 for a flag: SQLite stores it, PostgreSQL casts it to boolean. */
export function fromFlag(b: boolean): number {
  return b ? 1 : 0;
}

export function toStringList(json: string): string[] {
  if (!json) return [];
  const v: unknown = JSON.parse(json);
  return Array.isArray(v) ? v.filter((x): x is string => typeof x === 'string') : [];
}

export function toBuffer(v: Buffer | Uint8Array | null): Buffer {
  if (v === null) return Buffer.alloc(0);
  return Buffer.isBuffer(v) ? v : Buffer.from(v);
}
