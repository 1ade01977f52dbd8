import { conflict } from '../../errors.ts';
import type { EndpointRow, NewEndpoint, Page, PageQuery } from '../types.ts';
import { type Db, violated } from './db.ts';
import { Params, paged } from './page.ts';
import { ENDPOINT_COLUMNS, endpointFromRow, endpointParams } from './rows.ts';
import { UPDATE_ENDPOINT } from './sql/update-endpoint.ts';

const uidTaken = (err: unknown): unknown =>
  violated(err) === 'endpoints_uid' ? conflict('an endpoint with this uid already exists in the application') : err;

const INSERT_ENDPOINT = `INSERT INTO endpoints (${ENDPOINT_COLUMNS.join(', ')})
  VALUES (${ENDPOINT_COLUMNS.map((_, i) => `$${i + 1}`).join(', ')})`;

export async function createEndpoint(db: Db, e: NewEndpoint, now: number): Promise<EndpointRow> {
  const row: EndpointRow = { ...e, failingSince: null, createdAt: now, updatedAt: now };
  try {
    await db.query(INSERT_ENDPOINT, endpointParams(row));
  } catch (err) {
    throw uidTaken(err);
  }
  return row;
}

/** By id, else by uid, within the application. */
export async function getEndpoint(db: Db, appId: string, idOrUid: string): Promise<EndpointRow | undefined> {
  const r = await db.row(
    'SELECT * FROM endpoints WHERE app_id = $1 AND (id = $2 OR uid = $2) ORDER BY id = $2 DESC LIMIT 1',
    [appId, idOrUid],
  );
  return r ? endpointFromRow(r) : undefined;
}

export function listEndpoints(db: Db, appId: string, page: PageQuery): Promise<Page<EndpointRow>> {
  const p = new Params();
  return paged(db, {
    from: 'endpoints',
    where: `app_id = ${p.add(appId)}`,
    params: p,
    page,
    defaultOrder: 'ascending',
    map: endpointFromRow,
  });
}

export async function updateEndpoint(db: Db, e: EndpointRow, now: number): Promise<EndpointRow> {
  try {
    const r = await db.row(UPDATE_ENDPOINT, [...endpointParams(e).slice(0, 19), now, e.updatedAt]);
    return r ? endpointFromRow(r) : { ...e, updatedAt: now };
  } catch (err) {
    throw uidTaken(err);
  }
}

export async function deleteEndpoint(db: Db, appId: string, id: string): Promise<boolean> {
  return (await db.changes('DELETE FROM endpoints WHERE app_id = $1 AND id = $2', [appId, id])) > 0;
}
