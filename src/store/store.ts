// The store: one interface over SQLite and PostgreSQL. Opening it connects, refuses a database
// written by a newer Switchboard, runs the pending migrations and records our version.

import { Migrator, sql, type Kysely } from 'kysely';
import { SwitchboardError, describeError } from '../lib/errors.js';
import { connect, describeDatabase, type DatabaseOptions } from './connect.js';
import { migrationsFor, type Dialect } from './migrations.js';
import { MIGRATION_TABLE, recordVersion, refuseNewerVersion, refuseUnknownMigrations } from './version-guard.js';
import type { Database } from './tables.js';
import { UsersRepo } from './users-repo.js';
import { NodesRepo } from './nodes-repo.js';
import { ApiKeysRepo, PreAuthKeysRepo } from './auth-keys-repo.js';
import { PoliciesRepo } from './policies-repo.js';

/** The repositories, bound to the database or to one transaction. */
export interface Repos {
  users: UsersRepo;
  nodes: NodesRepo;
  preAuthKeys: PreAuthKeysRepo;
  apiKeys: ApiKeysRepo;
  policies: PoliciesRepo;
}

export class Store implements Repos {
  readonly dialect: Dialect;
  readonly description: string;
  readonly users: UsersRepo;
  readonly nodes: NodesRepo;
  readonly preAuthKeys: PreAuthKeysRepo;
  readonly apiKeys: ApiKeysRepo;
  readonly policies: PoliciesRepo;
  readonly #db: Kysely<Database>;

  private constructor(db: Kysely<Database>, dialect: Dialect, description: string) {
    this.#db = db;
    this.dialect = dialect;
    this.description = description;
    this.users = new UsersRepo(db);
    this.nodes = new NodesRepo(db);
    this.preAuthKeys = new PreAuthKeysRepo(db);
    this.apiKeys = new ApiKeysRepo(db);
    this.policies = new PoliciesRepo(db);
  }

  static async open(opts: DatabaseOptions, version: string): Promise<Store> {
    const where = describeDatabase(opts);
    const { db, dialect } = await connect(opts);
    try {
      await refuseUnknownMigrations(db, where);
      await refuseNewerVersion(db, version, where);
      await migrate(db, dialect, where);
      await recordVersion(db, version);
    } catch (err) {
      await db.destroy().catch(() => {});
      throw err;
    }
    return new Store(db, dialect, where);
  }

  /** Checks that the database answers and that this version may open it, changing nothing. */
  static async check(opts: DatabaseOptions, version: string): Promise<void> {
    const where = describeDatabase(opts);
    const { db } = await connect(opts);
    try {
      await refuseUnknownMigrations(db, where);
      await refuseNewerVersion(db, version, where);
    } finally {
      await db.destroy().catch(() => {});
    }
  }

  /** Runs fn with repositories bound to one transaction: all of its writes land, or none. */
  async transaction<T>(fn: (repos: Repos) => Promise<T>): Promise<T> {
    return this.#db.transaction().execute((trx) => fn(reposFor(trx)));
  }

  /** True when the database answers a trivial query. */
  async ping(): Promise<boolean> {
    try {
      await sql`select 1`.execute(this.#db);
      return true;
    } catch {
      return false;
    }
  }

  async close(): Promise<void> {
    await this.#db.destroy();
  }
}

function reposFor(db: Kysely<Database>): Repos {
  return {
    users: new UsersRepo(db),
    nodes: new NodesRepo(db),
    preAuthKeys: new PreAuthKeysRepo(db),
    apiKeys: new ApiKeysRepo(db),
    policies: new PoliciesRepo(db),
  };
}

async function migrate(db: Kysely<Database>, dialect: Dialect, where: string): Promise<void> {
  const migrator = new Migrator({
    db,
    migrationTableName: MIGRATION_TABLE,
    migrationLockTableName: `${MIGRATION_TABLE}_lock`,
    provider: { getMigrations: async () => migrationsFor(dialect) },
  });
  const { error, results } = await migrator.migrateToLatest();
  if (error) {
    const failed = results?.find((r) => r.status === 'Error')?.migrationName ?? 'unknown';
    throw new SwitchboardError('ERR_DB_MIGRATION', `migration ${failed} failed on ${where}: ${describeError(error)}`, {
      cause: error,
    });
  }
}
