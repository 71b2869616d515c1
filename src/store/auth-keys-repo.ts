// Persistence of pre-auth keys and API keys. Only prefixes and bcrypt hashes are stored.

import type { Kysely, Selectable } from 'kysely';
import type { ApiKey, PreAuthKey } from '../domain/auth-keys.js';
import type { ApiKeysTable, Database, PreAuthKeysTable } from './tables.js';
import {
  fromDate,
  fromFlag,
  fromNullableDate,
  toBuffer,
  toDate,
  toFlag,
  toId,
  toNullableDate,
  toRef,
  toStringList,
} from './codec.js';

export type NewPreAuthKey = Omit<PreAuthKey, 'id' | 'used' | 'createdAt' | 'legacyKey'>;

export class PreAuthKeysRepo {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(key: NewPreAuthKey, now = new Date()): Promise<PreAuthKey> {
    const row = await this.#db
      .insertInto('pre_auth_keys')
      .values({
        key: '',
        prefix: key.prefix,
        hash: key.hash,
        user_id: key.userId,
        reusable: fromFlag(key.reusable),
        ephemeral: fromFlag(key.ephemeral),
        used: fromFlag(false),
        tags: JSON.stringify(key.tags),
        expiration: fromNullableDate(key.expiration),
        created_at: fromDate(now),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return rowToPreAuthKey(row);
  }

  async list(): Promise<PreAuthKey[]> {
    const rows = await this.#db.selectFrom('pre_auth_keys').selectAll().orderBy('id').execute();
    return rows.map(rowToPreAuthKey);
  }

  async get(id: number): Promise<PreAuthKey | undefined> {
    const row = await this.#db.selectFrom('pre_auth_keys').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rowToPreAuthKey(row);
  }

  async findByPrefix(prefix: string): Promise<PreAuthKey | undefined> {
    const row = await this.#db.selectFrom('pre_auth_keys').selectAll().where('prefix', '=', prefix).executeTakeFirst();
    return row && rowToPreAuthKey(row);
  }

  async findLegacy(key: string): Promise<PreAuthKey | undefined> {
    const row = await this.#db
      .selectFrom('pre_auth_keys')
      .selectAll()
      .where('prefix', '=', '')
      .where('key', '=', key)
      .executeTakeFirst();
    return row && rowToPreAuthKey(row);
  }

  /**
   * Marks a single-use key used. Atomic: of two registrations racing with one key, exactly one
   * sees true.
   */
  async claim(id: number): Promise<boolean> {
    const res = await this.#db
      .updateTable('pre_auth_keys')
      .set({ used: fromFlag(true) })
      .where('id', '=', id)
      .where('used', '=', fromFlag(false))
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async setExpiration(id: number, expiration: Date): Promise<boolean> {
    const res = await this.#db
      .updateTable('pre_auth_keys')
      .set({ expiration: fromDate(expiration) })
      .where('id', '=', id)
      .executeTakeFirst();
    return Number(res.numUpdatedRows) === 1;
  }

  async delete(id: number): Promise<boolean> {
    const res = await this.#db.deleteFrom('pre_auth_keys').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }
}

function rowToPreAuthKey(row: Selectable<PreAuthKeysTable>): PreAuthKey {
  return {
    id: toId(row.id),
    prefix: row.prefix,
    hash: toBuffer(row.hash),
    legacyKey: row.key,
    userId: toRef(row.user_id),
    reusable: toFlag(row.reusable),
    ephemeral: toFlag(row.ephemeral),
    used: toFlag(row.used),
    tags: toStringList(row.tags),
    expiration: toNullableDate(row.expiration),
    createdAt: toDate(row.created_at),
  };
}

export class ApiKeysRepo {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async insert(key: { prefix: string; hash: Buffer; expiration: Date | null }, now = new Date()): Promise<ApiKey> {
    const row = await this.#db
      .insertInto('api_keys')
      .values({
        prefix: key.prefix,
        hash: key.hash,
        expiration: fromNullableDate(key.expiration),
        last_seen: null,
        created_at: fromDate(now),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return rowToApiKey(row);
  }

  async list(): Promise<ApiKey[]> {
    const rows = await this.#db.selectFrom('api_keys').selectAll().orderBy('id').execute();
    return rows.map(rowToApiKey);
  }

  async find(by: { id: number } | { prefix: string }): Promise<ApiKey | undefined> {
    const q = this.#db.selectFrom('api_keys').selectAll();
    const row = await ('id' in by ? q.where('id', '=', by.id) : q.where('prefix', '=', by.prefix)).executeTakeFirst();
    return row && rowToApiKey(row);
  }

  async setExpiration(id: number, expiration: Date): Promise<void> {
    await this.#db.updateTable('api_keys').set({ expiration: fromDate(expiration) }).where('id', '=', id).execute();
  }

  async delete(id: number): Promise<boolean> {
    const res = await this.#db.deleteFrom('api_keys').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) === 1;
  }
}

function rowToApiKey(row: Selectable<ApiKeysTable>): ApiKey {
  return {
    id: toId(row.id),
    prefix: row.prefix,
    hash: toBuffer(row.hash),
    expiration: toNullableDate(row.expiration),
    lastSeen: toNullableDate(row.last_seen),
    createdAt: toDate(row.created_at),
  };
}
