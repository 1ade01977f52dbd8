import { join } from 'node:path';
import Database from 'better-sqlite3';
import { ServerError } from '../../errors.ts';

/** How long to wait for a predecessor that is still exiting: a killed process drops its locks as it exits. */
const DEFAULT_WAIT_MS = 2_000;

/** Open lock connections: referenced here so that no garbage collection ever closes one (and drops its lock). */
const held = new Set<Database.Database>();

export interface DataDirLock {
  readonly path: string;
  /** Lets the next process in at once (it would be let in anyway when this one exits). */
  release(): void;
}

/**
 * Holds a data directory for one process: at start every leftover lease is made due again, which is
 * only right when no other dispatcher uses the database. The hold is an exclusive SQLite lock on
 * `<dir>/hookwarden.lock` (a POSIX advisory lock underneath), which belongs to the process: the
 * kernel drops it when the process exits, however it exits, before it turns into a zombie. A pid
 * file could only be judged by asking whether its pid was alive: a process killed with `kill -9`
 * stayed "alive" as a zombie until reaped (over a second seen), so a supervisor's immediate restart
 * was refused, and a reused pid refused forever.
 *
 * The file is never deleted: a process that opened it just before the deletion would lock the old
 * file while the next one locks a new file of the same name, and both would run.
 */
export function lockDataDirectory(dir: string, opts: { waitMs?: number } = {}): DataDirLock {
  const path = join(dir, 'hookwarden.lock');
  const db = new Database(path, { timeout: opts.waitMs ?? DEFAULT_WAIT_MS });
  try {
    db.pragma('locking_mode = EXCLUSIVE');
    // Held until the connection closes or the process ends: the transaction is never finished.
    db.exec('BEGIN EXCLUSIVE');
  } catch (err) {
    db.close();
    if ((err as { code?: string }).code === 'SQLITE_BUSY') {
      throw new ServerError('HW_DATA_DIR_IN_USE', `${dir} is in use by another process (it holds ${path})`, {
        status: 500,
      });
    }
    throw err;
  }
  held.add(db);
  return {
    path,
    release() {
      held.delete(db);
      if (db.open) db.close();
    },
  };
}
