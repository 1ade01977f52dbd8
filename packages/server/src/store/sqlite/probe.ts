import type Database from 'better-sqlite3';

/** Larger than a page (4 KiB by default): the row takes pages of its own, as a message's payload may. */
const PROBE_BYTES = 8192;

/**
 * A light write that tells whether the database takes writes now (Store.probeWrite): one row that
 * needs fresh pages, deleted in the same committed transaction. A full database (or page limit)
 * refuses it as it refuses a message; a read-only or unreachable file refuses any write. The pages
 * it frees go to the free list, where the next writes find them.
 */
export function probeWrite(db: Database.Database, now: number): void {
  db.transaction(() => {
    db.prepare(
      `INSERT INTO idempotency (scope, key, status, body, expires_at)
       VALUES ('hookwarden:probe', 'probe', 204, printf('%.*c', ?, 'x'), ?)`,
    ).run(PROBE_BYTES, now);
    db.prepare("DELETE FROM idempotency WHERE scope = 'hookwarden:probe' AND key = 'probe'").run();
  })();
}
