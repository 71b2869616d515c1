// The guard against opening a database written by a newer Switchboard: a newer release may have
// changed the schema or the meaning of a column, and running an older server on it could
// corrupt data. Two checks: migrations this build does not know, and the version that last ran.

import { sql, type Kysely } from 'kysely';
import { SwitchboardError } from '../lib/errors.js';
import type { Database } from './tables.js';
import { MIGRATION_NAMES } from './migrations.js';

export const MIGRATION_TABLE = 'switchboard_migrations';

/** Throws ERR_DB_TOO_NEW when the database has migrations this build does not know. */
export async function refuseUnknownMigrations(db: Kysely<Database>, where: string): Promise<void> {
  const tables = await db.introspection.getTables({ withInternalKyselyTables: true });
  if (!tables.some((t) => t.name === MIGRATION_TABLE)) return;
  const rows = await sql<{ name: string }>`select name from ${sql.table(MIGRATION_TABLE)}`.execute(db);
  const unknown = rows.rows.map((r) => r.name).filter((n) => !MIGRATION_NAMES.includes(n));
  if (unknown.length > 0) {
    throw new SwitchboardError(
      'ERR_DB_TOO_NEW',
      `${where} was written by a newer Switchboard (unknown migrations: ${unknown.join(', ')}); ` +
        'refusing to open it. Run the newer version, or restore a backup made for this one.',
    );
  }
}

/** Throws ERR_DB_TOO_NEW when the recorded version is newer than ours. */
export async function refuseNewerVersion(db: Kysely<Database>, ours: string, where: string): Promise<void> {
  const tables = await db.introspection.getTables();
  if (!tables.some((t) => t.name === 'database_versions')) return;
  const row = await db.selectFrom('database_versions').select('version').where('id', '=', 1).executeTakeFirst();
  if (row && compareVersions(row.version, ours) > 0) {
    throw new SwitchboardError(
      'ERR_DB_TOO_NEW',
      `${where} was last used by Switchboard ${row.version}, newer than this ${ours}; refusing to open it.`,
    );
  }
}

/** Records that this version now runs against the database. */
export async function recordVersion(db: Kysely<Database>, ours: string): Promise<void> {
  const row = await db.selectFrom('database_versions').select('version').where('id', '=', 1).executeTakeFirst();
  const now = new Date().toISOString();
  if (row) {
    await db.updateTable('database_versions').set({ version: ours, updated_at: now }).where('id', '=', 1).execute();
  } else {
    await db.insertInto('database_versions').values({ id: 1, version: ours, updated_at: now }).execute();
  }
}

/** Compares dotted numeric versions ("0.1.0" < "0.10.2"); pre-release suffixes are ignored. */
export function compareVersions(a: string, b: string): number {
  const pa = a.replace(/^v/, '').split(/[-+]/)[0]!.split('.').map(Number);
  const pb = b.replace(/^v/, '').split(/[-+]/)[0]!.split('.').map(Number);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] || 0) - (pb[i] || 0);
    if (d !== 0) return Math.sign(d);
  }
  return 0;
}
