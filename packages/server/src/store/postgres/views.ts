import { idFloor } from '../../ids.ts';
import type {
  AttemptFilter,
  AttemptRow,
  EndpointMessage,
  EndpointMessageFilter,
  EndpointStats,
  MessageDestination,
  Page,
  PageQuery,
  StatusCode,
} from '../types.ts';
import { Status } from '../types.ts';
import type { Db } from './db.ts';
import { attemptFilter, messageMatch, timeWindow } from './filters.ts';
import { Params, paged } from './page.ts';
import { attemptFromRow, endpointFromRow, messageFromRow } from './rows.ts';
import { ANY_MATCHING_ENDPOINT } from './sql/any-matching-endpoint.ts';
import { type BulkReplayFilter, bulkReplay as bulkReplaySql } from './sql/bulk-replay.ts';
import { ENDPOINT_STATS } from './sql/endpoint-stats.ts';
import { LATEST_DELIVERY, statusAt } from './sql/fragments.ts';

/** The endpoints a message was sent to, by endpoint id, each with its latest delivery's status at `now`. */
export function listMessageDestinations(
  db: Db,
  appId: string,
  msgId: string,
  page: PageQuery,
  now: number,
): Promise<Page<MessageDestination>> {
  const p = new Params();
  const from = `(SELECT e.*, ${statusAt(p.add(now))} AS d_status, d.next_attempt_at AS d_next
    FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
    WHERE d.msg_id = ${p.add(msgId)} AND ${LATEST_DELIVERY}) AS destinations`;
  return paged(db, {
    from,
    where: `app_id = ${p.add(appId)}`,
    params: p,
    page,
    defaultOrder: 'ascending',
    map: (r) => {
      const status = r.d_status as StatusCode;
      return {
        endpoint: endpointFromRow(r),
        status,
        nextAttemptAt: status === Status.pending ? (r.d_next as number | null) : null,
      };
    },
  });
}

/** The messages sent to an endpoint, newest first, each with its latest delivery's status at `now`. */
export function listEndpointMessages(
  db: Db,
  appId: string,
  endpointId: string,
  f: EndpointMessageFilter,
  now: number,
): Promise<Page<EndpointMessage>> {
  const p = new Params();
  const from = `(SELECT m.*, ${statusAt(p.add(now))} AS d_status, d.next_attempt_at AS d_next
    FROM deliveries d JOIN messages m ON m.id = d.msg_id
    WHERE d.endpoint_id = ${p.add(endpointId)} AND ${LATEST_DELIVERY}) AS em`;
  let where = `app_id = ${p.add(appId)}${messageMatch(f, p, 'em')}${timeWindow(f, p)}`;
  if (f.status !== undefined) where += ` AND d_status = ${p.add(f.status)}`;
  return paged(db, {
    from,
    where,
    params: p,
    page: f,
    defaultOrder: 'descending',
    map: (r) => {
      const status = r.d_status as StatusCode;
      return {
        message: messageFromRow(r),
        status,
        nextAttemptAt: status === Status.pending ? (r.d_next as number | null) : null,
      };
    },
  });
}

export async function endpointStats(
  db: Db,
  endpointId: string,
  window: { since?: number; until?: number },
  now: number,
): Promise<EndpointStats> {
  const r = (await db.row(ENDPOINT_STATS, [
    endpointId,
    window.since ?? 0,
    window.until ?? Number.MAX_SAFE_INTEGER,
    now,
  ])) as { success: number; pending: number; sending: number; fail: number };
  return { success: r.success, pending: r.pending, sending: r.sending, fail: r.fail, canceled: 0 };
}

function listAttempts(db: Db, appId: string, column: 'msg_id' | 'endpoint_id', value: string, f: AttemptFilter) {
  const p = new Params();
  const where = `app_id = ${p.add(appId)} AND ${column} = ${p.add(value)}${attemptFilter(f, p)}`;
  return paged(db, { from: 'attempts', where, params: p, page: f, defaultOrder: 'descending', map: attemptFromRow });
}

export const listAttemptsByMessage = (db: Db, appId: string, msgId: string, f: AttemptFilter) =>
  listAttempts(db, appId, 'msg_id', msgId, f);

export const listAttemptsByEndpoint = (db: Db, appId: string, endpointId: string, f: AttemptFilter) =>
  listAttempts(db, appId, 'endpoint_id', endpointId, f);

export async function getAttempt(
  db: Db,
  appId: string,
  msgId: string,
  attemptId: string,
): Promise<AttemptRow | undefined> {
  const r = await db.row('SELECT * FROM attempts WHERE app_id = $1 AND msg_id = $2 AND id = $3', [
    appId,
    msgId,
    attemptId,
  ]);
  return r ? attemptFromRow(r) : undefined;
}

export async function hasActiveEndpoint(
  db: Db,
  appId: string,
  eventType: string,
  channels: string[] | null,
): Promise<boolean> {
  const r = await db.row(ANY_MATCHING_ENDPOINT, [appId, eventType, channels]);
  return r?.active === true;
}

export function bulkReplay(db: Db, endpointId: string, f: BulkReplayFilter, now: number): Promise<number> {
  const p = new Params();
  const sql = bulkReplaySql(endpointId, f, now, p);
  return db.changes(sql, p.values);
}

/**
 * Deliveries made by the application's messages created in [since, until): messages by the time in
 * their ids (messages_app), their deliveries by deliveries_msg; no scan of either table.
 */
export async function countMessageDestinations(db: Db, appId: string, since: number, until: number): Promise<number> {
  const r = await db.row(
    `SELECT count(*) AS n FROM messages m JOIN deliveries d ON d.msg_id = m.id
     WHERE m.app_id = $1 AND m.id >= $2 AND m.id < $3`,
    [appId, idFloor('msg', since), idFloor('msg', until)],
  );
  return r?.n as number;
}
