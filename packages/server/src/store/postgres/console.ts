import { idFloor } from '../../ids.ts';
import { type TimelineRow, timelineOf } from '../timeline.ts';
import type { DeliveryTimeline, TroubledEndpoint } from '../types.ts';
import type { Db } from './db.ts';
import { endpointFromRow } from './rows.ts';

// The operator's console: reads over every application, none on the delivery path. One statement
// each; the same queries as SQLite's (store/sqlite/console.ts).

/** $1 since, $2 until, $3 bucketMs, $4 and $5 the attempt ids that bound the window. */
const TIMELINE = `
SELECT 'queued' AS kind, 0::bigint AS bucket, count(*) AS n, 0::bigint AS failed, 0::bigint AS total, 0 AS longest
  FROM deliveries WHERE created_at < $1 AND (status = 1 OR updated_at >= $1)
UNION ALL
SELECT 'enqueued', (created_at - $1) / $3, count(*), 0, 0, 0
  FROM deliveries WHERE created_at >= $1 AND created_at < $2 GROUP BY 2
UNION ALL
SELECT 'finished', (updated_at - $1) / $3, count(*), 0, 0, 0
  FROM deliveries WHERE status <> 1 AND updated_at >= $1 AND updated_at < $2 GROUP BY 2
UNION ALL
SELECT 'attempts', (created_at - $1) / $3, count(*), count(*) FILTER (WHERE status = 2),
       sum(duration_ms), max(duration_ms)
  FROM attempts WHERE id >= $4 AND id < $5 AND created_at >= $1 AND created_at < $2 GROUP BY 2
`;

/** $1 limit. */
const TROUBLED = `
SELECT * FROM (
  SELECT e.*, a.name AS app_name, coalesce(e.rate_limit, a.rate_limit) AS throttle,
         (SELECT count(*) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 1) AS pending
    FROM endpoints e JOIN applications a ON a.id = e.app_id
) t
WHERE disabled OR failing_since IS NOT NULL OR (throttle IS NOT NULL AND pending > 0)
ORDER BY disabled DESC, failing_since IS NULL, failing_since, pending DESC, id
LIMIT $1
`;

export async function deliveryTimeline(
  db: Db,
  w: { since: number; until: number; bucketMs: number },
): Promise<DeliveryTimeline> {
  const rows = await db.rows(TIMELINE, [
    w.since,
    w.until,
    w.bucketMs,
    idFloor('atmpt', w.since),
    idFloor('atmpt', w.until),
  ]);
  return timelineOf(rows as unknown as TimelineRow[], w);
}

export async function troubledEndpoints(db: Db, limit: number): Promise<TroubledEndpoint[]> {
  const rows = await db.rows(TROUBLED, [limit]);
  return rows.map((r) => ({
    endpoint: endpointFromRow(r),
    appName: r.app_name as string,
    throttle: (r.throttle as number | null) ?? null,
    pending: Number(r.pending),
  }));
}
