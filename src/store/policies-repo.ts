// Persistence of the access policy in `policy.mode: database`: every set adds a row, the newest
// row is the policy in force.

import type { Kysely } from 'kysely';
import type { Database } from './tables.js';
import { fromDate, toDate } from './codec.js';

export interface StoredPolicy {
  data: string;
  updatedAt: Date;
}

export class PoliciesRepo {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async latest(): Promise<StoredPolicy | undefined> {
    const row = await this.#db
      .selectFrom('policies')
      .select(['data', 'updated_at'])
      .orderBy('id', 'desc')
      .limit(1)
      .executeTakeFirst();
    return row && { data: row.data, updatedAt: toDate(row.updated_at) };
  }

  async insert(data: string, now = new Date()): Promise<StoredPolicy> {
    await this.#db
      .insertInto('policies')
      .values({ data, created_at: fromDate(now), updated_at: fromDate(now) })
      .execute();
    return { data, updatedAt: now };
  }
}
