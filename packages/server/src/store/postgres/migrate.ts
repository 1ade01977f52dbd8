import { schemaTooNew } from '../../errors.ts';
import type { Db } from './db.ts';
import { MIGRATIONS } from './schema.ts';

/**
 * One key for every Hookwarden process on a database ('hookward' in ASCII): the migrations of
 * processes that start together run one after the other, never side by side.
 */
const MIGRATION_LOCK = 0x686f6f6b77617264n;

/**
 * Brings the schema to this code's version: one transaction, under a transaction-scoped advisory
 * lock (released by the commit, so it holds through PgBouncer in transaction mode). A process
 * that waited for the lock finds the work done. A schema newer than the code is refused: its
 * queries could misread columns that a later version changed.
 */
export async function migrate(db: Db, migrations: readonly string[] = MIGRATIONS): Promise<number> {
  return db.transaction(async (client) => {
    await client.query('SELECT pg_advisory_xact_lock($1)', [MIGRATION_LOCK.toString()]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS hookwarden_migrations (
         version integer PRIMARY KEY,
         applied_at timestamptz NOT NULL DEFAULT now()
       )`,
    );
    const r = await client.query('SELECT coalesce(max(version), 0) AS version FROM hookwarden_migrations');
    const current = Number(r.rows[0]?.version ?? 0);
    if (current > migrations.length) throw schemaTooNew(current, migrations.length);
    for (let v = current; v < migrations.length; v++) {
      await client.query(migrations[v] as string);
      await client.query('INSERT INTO hookwarden_migrations (version) VALUES ($1)', [v + 1]);
    }
    return migrations.length;
  });
}
