import type Database from 'better-sqlite3';
import { idFloor } from '../../ids.ts';
import { type TimelineRow, timelineOf } from '../timeline.ts';
import type { DeliveryTimeline, TroubledEndpoint } from '../types.ts';
import { endpointFromRow } from './rows.ts';

// The operator's console: reads over every application, none on the delivery path.

/**
 * The queue at the window's start, then per bucket the deliveries that joined and left it and the
 * attempts made. Attempts are found by the time in their ids (the primary key), not by scanning.
 * better-sqlite3 binds numbers past 32 bits as REAL: the bucket is cast back to a whole number.
 */
const TIMELINE = `
SELECT 'queued' AS kind, 0 AS bucket, count(*) AS n, 0 AS failed, 0 AS total, 0 AS longest
  FROM deliveries WHERE created_at < @since AND (status = 1 OR updated_at >= @since)
UNION ALL
SELECT 'enqueued', CAST((created_at - @since) / @bucketMs AS INTEGER), count(*), 0, 0, 0
  FROM deliveries WHERE created_at >= @since AND created_at < @until GROUP BY 2
UNION ALL
SELECT 'finished', CAST((updated_at - @since) / @bucketMs AS INTEGER), count(*), 0, 0, 0
  FROM deliveries WHERE status <> 1 AND updated_at >= @since AND updated_at < @until GROUP BY 2
UNION ALL
SELECT 'attempts', CAST((created_at - @since) / @bucketMs AS INTEGER), count(*), count(*) FILTER (WHERE status = 2),
       sum(duration_ms), max(duration_ms)
  FROM attempts WHERE id >= @fromId AND id < @toId AND created_at >= @since AND created_at < @until GROUP BY 2
`;

/**
 * Disabled, failing, or throttled with a backlog. `pending` through the endpoint's queue index;
 * the endpoints table is read whole, which the console does on a page view, not per delivery.
 */
const TROUBLED = `
SELECT * FROM (
  SELECT e.*, a.name AS app_name, coalesce(e.rate_limit, a.rate_limit) AS throttle,
         (SELECT count(*) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 1) AS pending
    FROM endpoints e JOIN applications a ON a.id = e.app_id
)
WHERE disabled = 1 OR failing_since IS NOT NULL OR (throttle IS NOT NULL AND pending > 0)
ORDER BY disabled DESC, failing_since IS NULL, failing_since, pending DESC, id
LIMIT @limit
`;

type Prepare = (sql: string) => Database.Statement;

export function deliveryTimeline(
  stmt: Prepare,
  w: { since: number; until: number; bucketMs: number },
): DeliveryTimeline {
  const rows = stmt(TIMELINE).all({
    ...w,
    fromId: idFloor('atmpt', w.since),
    toId: idFloor('atmpt', w.until),
  }) as TimelineRow[];
  return timelineOf(rows, w);
}

export function troubledEndpoints(stmt: Prepare, limit: number): TroubledEndpoint[] {
  return (stmt(TROUBLED).all({ limit }) as Record<string, unknown>[]).map((r) => ({
    endpoint: endpointFromRow(r),
    appName: r.app_name as string,
    throttle: (r.throttle as number | null) ?? null,
    pending: r.pending as number,
  }));
}
