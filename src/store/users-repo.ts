// Persistence of users.

import type { Kysely, Selectable } from 'kysely';
import type { User } from '../domain/user.js';
import type { Database, UsersTable } from './tables.js';
import { fromDate, toDate, toId } from './codec.js';

export type NewUser = Omit<User, 'id' | 'createdAt' | 'updatedAt'>;

export class UsersRepo {
  readonly #db: Kysely<Database>;
  constructor(db: Kysely<Database>) {
    this.#db = db;
  }

  async list(): Promise<User[]> {
    const rows = await this.#db.selectFrom('users').selectAll().orderBy('id').execute();
    return rows.map(rowToUser);
  }

  async get(id: number): Promise<User | undefined> {
    const row = await this.#db.selectFrom('users').selectAll().where('id', '=', id).executeTakeFirst();
    return row && rowToUser(row);
  }

  async insert(user: NewUser, now = new Date()): Promise<User> {
    const row = await this.#db
      .insertInto('users')
      .values({
        name: user.name,
        display_name: user.displayName,
        email: user.email,
        provider_identifier: user.providerIdentifier,
        provider: user.provider,
        profile_pic_url: user.profilePicUrl,
        created_at: fromDate(now),
        updated_at: fromDate(now),
      })
      .returningAll()
      .executeTakeFirstOrThrow();
    return rowToUser(row);
  }

  async rename(id: number, name: string, now = new Date()): Promise<User | undefined> {
    const row = await this.#db
      .updateTable('users')
      .set({ name, updated_at: fromDate(now) })
      .where('id', '=', id)
      .returningAll()
      .executeTakeFirst();
    return row && rowToUser(row);
  }

  /** Deletes the user; pre-auth keys it owned are kept with no owner (as headscale does). */
  async delete(id: number): Promise<boolean> {
    const res = await this.#db.deleteFrom('users').where('id', '=', id).executeTakeFirst();
    return Number(res.numDeletedRows) > 0;
  }
}

function rowToUser(row: Selectable<UsersTable>): User {
  return {
    id: toId(row.id),
    name: row.name,
    displayName: row.display_name,
    email: row.email,
    providerIdentifier: row.provider_identifier,
    provider: row.provider,
    profilePicUrl: row.profile_pic_url,
    createdAt: toDate(row.created_at),
    updatedAt: toDate(row.updated_at),
  };
}
