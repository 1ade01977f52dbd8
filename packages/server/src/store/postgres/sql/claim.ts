import { ENDPOINT_COLUMNS, MESSAGE_COLUMNS, prefixed } from '../rows.ts';
import { disabledEndpoint, queuedEndpoints } from './fragments.ts';

/**
 * The claim, one statement. Parameters: $1 now, $2 lease end, $3 worker id, $4 limit, $5 rows per
 * endpoint, $6 the endpoint the previous claim ended at ('' at first), $7/$8 endpoint ids and the
 * rows each already holds in this worker (parallel arrays), $9/$10 endpoint ids and their own
 * limits in place of $5 (0: the endpoint's circuit is open; its rows stay due, untouched).
 *
 * Fair across endpoints, and its cost follows the due work rather than the table or the number of
 * endpoints: it walks the endpoints that have pending rows (one index descent each: fragments.ts),
 * starting after the one the previous claim ended at and wrapping around, and takes from each at
 * most its quota of earliest due rows, until `limit` rows are taken. PostgreSQL evaluates the walk
 * lazily, so the claim stops descending once it has its rows: one endpoint's backlog of a million
 * rows costs its quota, and the endpoints behind it are reached by the next claims in turn.
 * (A single scan in due order would serve that backlog alone until it drained; a window function
 * over every due row costs the whole backlog on each claim.)
 *
 * `FOR UPDATE SKIP LOCKED` lets claimers on other connections pass over rows being claimed; a row
 * another claim took meanwhile is no longer due when re-checked (its next_attempt_at is its lease
 * end), so no row is held twice. The lease end becomes the row's next_attempt_at (an expired lease
 * is simply due again) and each claim gets a fresh lease token. A row whose message was expunged
 * meanwhile (a retry scheduled by an attempt in flight then) is ended as failed, never returned.
 * Rows come back oldest due first, each with its message, its endpoint and the rate limit that
 * applies (the endpoint's own, else its application's).
 */
export const CLAIM = `
WITH RECURSIVE
after_cursor (endpoint_id, next_attempt_at) AS (${queuedEndpoints('after_cursor', 'endpoint_id > $6')}),
from_start (endpoint_id, next_attempt_at) AS (${queuedEndpoints('from_start', 'true', 'q.endpoint_id < $6')}),
visit AS (
  SELECT endpoint_id FROM after_cursor WHERE next_attempt_at <= $1
  UNION ALL
  SELECT endpoint_id FROM from_start WHERE endpoint_id <= $6 AND next_attempt_at <= $1
),
picked AS (
  SELECT q.id, q.next_attempt_at FROM visit v
  CROSS JOIN LATERAL (
    SELECT d.id, d.next_attempt_at FROM deliveries d
    WHERE d.endpoint_id = v.endpoint_id AND d.status = 1 AND d.next_attempt_at <= $1
      AND NOT ${disabledEndpoint('v.endpoint_id')}
    ORDER BY d.next_attempt_at, d.id
    LIMIT greatest(0,
      coalesce((SELECT l.n FROM unnest($9::text[], $10::int[]) AS l (endpoint_id, n) WHERE l.endpoint_id = v.endpoint_id), $5)
      - coalesce((SELECT f.n FROM unnest($7::text[], $8::int[]) AS f (endpoint_id, n) WHERE f.endpoint_id = v.endpoint_id), 0))
    FOR UPDATE OF d SKIP LOCKED
  ) q
  LIMIT $4
),
claimed AS (
  UPDATE deliveries d
  SET locked_by = CASE WHEN m.expunged_at IS NULL THEN $3 END,
      locked_until = CASE WHEN m.expunged_at IS NULL THEN $2::bigint END,
      lease_token = CASE WHEN m.expunged_at IS NULL THEN gen_random_uuid() END,
      next_attempt_at = CASE WHEN m.expunged_at IS NULL THEN $2::bigint END,
      status = CASE WHEN m.expunged_at IS NULL THEN d.status ELSE 2 END,
      updated_at = CASE WHEN m.expunged_at IS NULL THEN d.updated_at ELSE $1 END
  FROM picked p, messages m
  WHERE d.id = p.id AND m.id = d.msg_id
  RETURNING d.id, d.msg_id, d.endpoint_id, d.attempts, d.trigger_type, p.next_attempt_at AS due,
    m.expunged_at IS NULL AS live
)
SELECT c.id AS d_id, c.attempts AS d_attempts, c.trigger_type AS d_trigger_type,
  coalesce(e.rate_limit, a.rate_limit) AS rate_limit,
  ${prefixed('m', MESSAGE_COLUMNS, 'm_')},
  ${prefixed('e', ENDPOINT_COLUMNS, 'e_')}
FROM claimed c
JOIN messages m ON m.id = c.msg_id
JOIN endpoints e ON e.id = c.endpoint_id
JOIN applications a ON a.id = e.app_id
WHERE c.live
ORDER BY c.due, c.id
`;
