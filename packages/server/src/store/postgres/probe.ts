import type { Db } from './db.ts';

/**
 * A light write that tells whether the database takes writes now (Store.probeWrite): one committed
 * upsert of a row that is expired from the start, so no request ever reads it and the retention
 * sweep deletes it. A read-only database (25006) or a stopped one refuses it as it refuses a
 * message. Its scope cannot be an API request's (those begin with `admin ` or an application id).
 */
export async function probeWrite(db: Db, now: number): Promise<void> {
  await db.changes(
    `INSERT INTO idempotency (scope, key, status, body, expires_at) VALUES ('hookwarden:probe', 'probe', 204, '', $1)
     ON CONFLICT (scope, key) DO UPDATE SET expires_at = excluded.expires_at`,
    [now],
  );
}
