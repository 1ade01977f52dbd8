import { PKI_CODES, PkiError, type PkiFiles } from '@hookwarden/pki';
import type { Sealer } from '../sealing.ts';

/** What the platform's files need of a PostgreSQL connection (a `pg` Pool or client). */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(
    text: string,
    values?: unknown[],
  ): Promise<{ rows: R[]; rowCount: number | null }>;
}

// The table is the PostgreSQL store's (store/postgres/schema.ts, platform_files).
const READ = 'SELECT content, secret FROM platform_files WHERE name = $1';
const REPLACE = `INSERT INTO platform_files (name, content, secret) VALUES ($1, $2, $3)
ON CONFLICT (name) DO UPDATE SET content = EXCLUDED.content, secret = EXCLUDED.secret, updated_at = now()`;
const CREATE = 'INSERT INTO platform_files (name, content, secret) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING';
const LIST = `SELECT substr(name, length($1) + 1) AS name FROM platform_files WHERE starts_with(name, $1)`;
const REMOVE = 'DELETE FROM platform_files WHERE name = $1';

/**
 * Files under `prefix` (e.g. `pki/`) of the platform_files table: one row a file, replaced whole by
 * one statement, which is all the PKI store's crash safety asks of a place. A secret file is sealed
 * with its full name as associated data, and one that was stored unsealed is refused.
 */
export function databaseFiles(db: Queryable, sealer: Sealer, prefix: string): PkiFiles {
  const full = (name: string) => prefix + name;
  /** A failed statement is the database's failure, told as such (not as a damaged store). */
  const query = async <R extends object>(text: string, values: unknown[]) => {
    try {
      return await db.query<R>(text, values);
    } catch (err) {
      throw new PkiError(PKI_CODES.STORE_UNAVAILABLE, `the database did not answer: ${(err as Error).message}`, {
        cause: err,
      });
    }
  };
  return {
    location: `the database (${prefix})`,
    check: async () => true,
    async read(name, opts = {}) {
      const { rows } = await query<{ content: string; secret: boolean }>(READ, [full(name)]);
      const row = rows[0];
      if (row === undefined) return undefined;
      if (opts.secret && !row.secret) {
        throw new PkiError(PKI_CODES.STORE_PERMISSIONS, `${full(name)} is stored unsealed in the database: replace it`);
      }
      return row.secret ? sealer.open(full(name), row.content) : row.content;
    },
    async write(name, text, opts) {
      const content = opts.secret ? sealer.seal(full(name), text) : text;
      const { rowCount } = await query(opts.exclusive ? CREATE : REPLACE, [full(name), content, opts.secret]);
      if (opts.exclusive && rowCount === 0) {
        throw new PkiError(
          PKI_CODES.STORE_EXISTS,
          `${full(name)} exists already: another node created the store first`,
        );
      }
    },
    async list() {
      return (await query<{ name: string }>(LIST, [prefix])).rows.map((r) => r.name);
    },
    async remove(name) {
      await query(REMOVE, [full(name)]);
    },
    prepare: async () => {},
  };
}

/**
 * One secret shared by every node (the admin token, the signing key): read, or created by the
 * first node that needs it. Of nodes starting at once, one creates it and the others read theirs.
 */
export async function sharedSecret(
  files: PkiFiles,
  name: string,
  create: () => string,
): Promise<{ value: string; created: boolean }> {
  const existing = await files.read(name, { secret: true });
  if (existing !== undefined) return { value: existing, created: false };
  const value = create();
  try {
    await files.write(name, value, { secret: true, exclusive: true });
    return { value, created: true };
  } catch (err) {
    if (!(err instanceof PkiError) || err.code !== PKI_CODES.STORE_EXISTS) throw err;
    const won = await files.read(name, { secret: true });
    if (won === undefined) throw err;
    return { value: won, created: false };
  }
}
