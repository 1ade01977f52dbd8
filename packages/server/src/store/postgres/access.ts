import type { FoundToken, Page, TaskFilter, TaskRow } from '../types.ts';
import type { Db } from './db.ts';
import { Params, paged } from './page.ts';
import { listParam, taskFromRow } from './rows.ts';

// Tokens, idempotent replies and background task records: what the API keeps besides the queue.

export async function createToken(
  db: Db,
  hash: string,
  appId: string | null,
  expiresAt: number | null,
  opts: { capabilities?: string[] | null; sessionId?: string | null; featureFlags?: string[] | null } = {},
): Promise<void> {
  await db.query(
    `INSERT INTO tokens (hash, app_id, expires_at, capabilities, session_id, feature_flags)
     VALUES ($1, $2, $3, $4, $5, $6)`,
    [hash, appId, expiresAt, opts.capabilities ?? null, opts.sessionId ?? null, listParam(opts.featureFlags)],
  );
}

/** A live portal (or admin) token, else an integration's key: one statement, both by their digest. */
export async function findToken(db: Db, hash: string, now: number): Promise<FoundToken | undefined> {
  const r = await db.row(
    `SELECT app_id, capabilities, feature_flags, false AS integration, expires_at, session_id FROM tokens
       WHERE hash = $1 AND (expires_at IS NULL OR expires_at > $2)
     UNION ALL
     SELECT app_id, NULL, feature_flags, true, NULL, NULL FROM integrations WHERE key_hash = $1
     LIMIT 1`,
    [hash, now],
  );
  return r
    ? {
        appId: (r.app_id as string | null) ?? null,
        capabilities: (r.capabilities as string[] | null) ?? null,
        featureFlags: (r.feature_flags as string[] | null) ?? null,
        integration: r.integration === true,
        expiresAt: (r.expires_at as number | null) ?? null,
        sessionId: (r.session_id as string | null) ?? null,
      }
    : undefined;
}

export async function deleteToken(db: Db, hash: string): Promise<boolean> {
  return (await db.changes('DELETE FROM tokens WHERE hash = $1', [hash])) > 0;
}

export function expireTokens(db: Db, appId: string, at: number, sessionIds?: string[]): Promise<number> {
  return db.changes(
    `UPDATE tokens SET expires_at = $1 WHERE app_id = $2 AND (expires_at IS NULL OR expires_at > $1)
       AND ($3::text[] IS NULL OR session_id = ANY($3::text[]))`,
    [at, appId, sessionIds ?? null],
  );
}

export async function getIdempotent(
  db: Db,
  scope: string,
  key: string,
  now: number,
): Promise<{ status: number; body: string } | undefined> {
  const r = await db.row('SELECT status, body FROM idempotency WHERE scope = $1 AND key = $2 AND expires_at > $3', [
    scope,
    key,
    now,
  ]);
  return r ? { status: r.status as number, body: r.body as string } : undefined;
}

export async function putIdempotent(
  db: Db,
  scope: string,
  key: string,
  status: number,
  body: string,
  expiresAt: number,
): Promise<void> {
  await db.query(
    `INSERT INTO idempotency (scope, key, status, body, expires_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (scope, key) DO UPDATE SET status = excluded.status, body = excluded.body, expires_at = excluded.expires_at`,
    [scope, key, status, body, expiresAt],
  );
}

export async function putTask(db: Db, t: TaskRow, expiresAt: number): Promise<void> {
  await db.query(
    `INSERT INTO background_tasks (id, app_id, task, status, data, updated_at, expires_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7)
     ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data,
       updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
    [t.id, t.appId, t.task, t.status, JSON.stringify(t.data), t.updatedAt, expiresAt],
  );
}

export async function getTask(db: Db, id: string): Promise<TaskRow | undefined> {
  const r = await db.row('SELECT * FROM background_tasks WHERE id = $1', [id]);
  return r ? taskFromRow(r) : undefined;
}

/** Newest first by default, as Svix lists them. */
export function listTasks(db: Db, f: TaskFilter): Promise<Page<TaskRow>> {
  const p = new Params();
  let where = 'true';
  if (f.appId !== undefined) where += ` AND app_id = ${p.add(f.appId)}`;
  if (f.status !== undefined) where += ` AND status = ${p.add(f.status)}`;
  if (f.task !== undefined) where += ` AND task = ${p.add(f.task)}`;
  return paged(db, {
    from: 'background_tasks',
    where,
    params: p,
    page: f,
    defaultOrder: 'descending',
    map: taskFromRow,
  });
}
