import { conflict } from '../../errors.ts';
import type { ApplicationRow, NewApplication, Page, PageQuery } from '../types.ts';
import { type Db, violated } from './db.ts';
import { Params, paged } from './page.ts';
import { appFromRow } from './rows.ts';

// No cache of applications here, unlike SQLite's: other processes change them.

const uidTaken = (err: unknown): unknown =>
  violated(err) === 'applications_uid' ? conflict('an application with this uid already exists') : err;

export async function createApplication(db: Db, app: NewApplication, now: number): Promise<ApplicationRow> {
  try {
    await db.query(
      `INSERT INTO applications (id, uid, name, metadata, rate_limit, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $6)`,
      [app.id, app.uid, app.name, JSON.stringify(app.metadata), app.rateLimit, now],
    );
  } catch (err) {
    throw uidTaken(err);
  }
  return { ...app, createdAt: now, updatedAt: now };
}

/** By id, else by uid: one statement, both indexed. */
export async function getApplication(db: Db, idOrUid: string): Promise<ApplicationRow | undefined> {
  const r = await db.row('SELECT * FROM applications WHERE id = $1 OR uid = $1 ORDER BY id = $1 DESC LIMIT 1', [
    idOrUid,
  ]);
  return r ? appFromRow(r) : undefined;
}

export function listApplications(
  db: Db,
  page: PageQuery & { exceptId?: string; withEndpoints?: boolean; withoutOnlyDisabled?: boolean },
): Promise<Page<ApplicationRow>> {
  const p = new Params();
  let where = `id <> ${p.add(page.exceptId ?? '')}`;
  if (page.withEndpoints) where += ' AND EXISTS (SELECT 1 FROM endpoints e WHERE e.app_id = applications.id)';
  if (page.withoutOnlyDisabled) {
    where += ` AND (NOT EXISTS (SELECT 1 FROM endpoints e WHERE e.app_id = applications.id)
      OR EXISTS (SELECT 1 FROM endpoints e WHERE e.app_id = applications.id AND NOT e.disabled))`;
  }
  return paged(db, {
    from: 'applications',
    where,
    params: p,
    page,
    defaultOrder: 'ascending',
    map: appFromRow,
  });
}

export async function updateApplication(db: Db, app: ApplicationRow, now: number): Promise<ApplicationRow> {
  try {
    await db.query(
      'UPDATE applications SET uid = $2, name = $3, metadata = $4, rate_limit = $5, updated_at = $6 WHERE id = $1',
      [app.id, app.uid, app.name, JSON.stringify(app.metadata), app.rateLimit, now],
    );
  } catch (err) {
    throw uidTaken(err);
  }
  return { ...app, updatedAt: now };
}

export async function deleteApplication(db: Db, id: string): Promise<boolean> {
  return (await db.changes('DELETE FROM applications WHERE id = $1', [id])) > 0;
}
