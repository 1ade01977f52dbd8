import type { IntegrationRow, Page, PageQuery } from '../types.ts';
import type { Db } from './db.ts';
import { Params, paged } from './page.ts';
import { integrationFromRow, listParam } from './rows.ts';

// Integrations (Svix's): named keys acting on one application; requests find a key by its digest.

export async function createIntegration(
  db: Db,
  i: Omit<IntegrationRow, 'createdAt' | 'updatedAt'>,
  keyHash: string,
  now: number,
): Promise<IntegrationRow> {
  await db.query(
    `INSERT INTO integrations (id, app_id, name, feature_flags, key, key_hash, created_at, updated_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
    [i.id, i.appId, i.name, listParam(i.featureFlags), i.key, keyHash, now],
  );
  return { ...i, createdAt: now, updatedAt: now };
}

export async function getIntegration(db: Db, appId: string, id: string): Promise<IntegrationRow | undefined> {
  const r = await db.row('SELECT * FROM integrations WHERE app_id = $1 AND id = $2', [appId, id]);
  return r ? integrationFromRow(r) : undefined;
}

export function listIntegrations(db: Db, appId: string, page: PageQuery): Promise<Page<IntegrationRow>> {
  const p = new Params();
  return paged(db, {
    from: 'integrations',
    where: `app_id = ${p.add(appId)}`,
    params: p,
    page,
    defaultOrder: 'ascending',
    map: integrationFromRow,
  });
}

export async function updateIntegration(
  db: Db,
  appId: string,
  id: string,
  change: { name: string; featureFlags: string[] | null },
  now: number,
): Promise<IntegrationRow | undefined> {
  const r = await db.row(
    'UPDATE integrations SET name = $3, feature_flags = $4, updated_at = $5 WHERE app_id = $1 AND id = $2 RETURNING *',
    [appId, id, change.name, listParam(change.featureFlags), now],
  );
  return r ? integrationFromRow(r) : undefined;
}

/** A new key; the previous one stops working at once (its digest is gone). */
export async function rotateIntegrationKey(
  db: Db,
  appId: string,
  id: string,
  key: string,
  keyHash: string,
  now: number,
): Promise<IntegrationRow | undefined> {
  const r = await db.row(
    'UPDATE integrations SET key = $3, key_hash = $4, updated_at = $5 WHERE app_id = $1 AND id = $2 RETURNING *',
    [appId, id, key, keyHash, now],
  );
  return r ? integrationFromRow(r) : undefined;
}

export async function deleteIntegration(db: Db, appId: string, id: string): Promise<boolean> {
  return (await db.changes('DELETE FROM integrations WHERE app_id = $1 AND id = $2', [appId, id])) > 0;
}
