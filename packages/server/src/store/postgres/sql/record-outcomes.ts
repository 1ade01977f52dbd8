/**
 * Records a batch of outcomes, one statement (group commit): each delivery row gets its result and
 * loses its lease, each attempt is kept, and each endpoint's failure window and disabling follow
 * the batch. Parameters: $1 … $18 one array per column (rows.ts `outcomeColumns`), $19 now.
 *
 * - A delivery deleted in flight (its endpoint or application went) is skipped, attempt and all:
 *   nothing is left to record, and its references would fail the whole batch.
 * - A retry for an endpoint that is disabled, or that this batch disables, ends failed; so do the
 *   endpoint's other pending rows when this batch disables it (they can be recovered).
 * - The endpoint's failure window follows its last outcome in the batch; an endpoint row is written
 *   only when its state changes, so that workers recording for one endpoint do not queue on its row.
 *
 * Each row is written once per statement (PostgreSQL applies only one change to a row that a
 * statement changes twice): the batch's rows in `done`, the disabled endpoints' other rows in
 * `fail_pending`, every endpoint once in `ends`.
 */
export const RECORD_OUTCOMES = `
WITH o AS (
  SELECT * FROM unnest($1::bigint[], $2::smallint[], $3::bigint[], $4::boolean[], $5::text[], $6::text[],
    $7::text[], $8::text[], $9::text[], $10::smallint[], $11::int[], $12::text[], $13::int[], $14::text[],
    $15::text[], $16::jsonb[], $17::smallint[], $18::bigint[])
  WITH ORDINALITY AS o (delivery_id, status, next_attempt_at, disable, attempt_id, msg_id, endpoint_id, app_id,
    url, attempt_status, status_code, response, duration_ms, failure_kind, failure_message, tls, trigger_type,
    created_at, n)
),
disabling AS (SELECT DISTINCT endpoint_id FROM o WHERE disable),
done AS (
  UPDATE deliveries d
  SET status = CASE WHEN o.status = 1 AND (e.disabled OR d.endpoint_id IN (SELECT endpoint_id FROM disabling))
                    THEN 2 ELSE o.status END,
      next_attempt_at = CASE WHEN o.status = 1 AND NOT (e.disabled OR d.endpoint_id IN (SELECT endpoint_id FROM disabling))
                             THEN o.next_attempt_at END,
      attempts = d.attempts + 1,
      locked_by = NULL, locked_until = NULL, lease_token = NULL, updated_at = $19
  FROM o, endpoints e
  WHERE d.id = o.delivery_id AND e.id = d.endpoint_id
  RETURNING d.id
),
recorded AS (SELECT o.* FROM o JOIN done ON done.id = o.delivery_id),
kept AS (
  INSERT INTO attempts (id, delivery_id, msg_id, endpoint_id, app_id, url, status, status_code, response,
    duration_ms, failure_kind, failure_message, tls, trigger_type, created_at)
  SELECT attempt_id, delivery_id, msg_id, endpoint_id, app_id, url, attempt_status, status_code, response,
    duration_ms, failure_kind, failure_message, tls, trigger_type, created_at
  FROM recorded
),
disabled AS (SELECT DISTINCT endpoint_id FROM recorded WHERE disable),
last AS (
  SELECT DISTINCT ON (endpoint_id) endpoint_id, attempt_status = 0 AS ok, created_at
  FROM recorded ORDER BY endpoint_id, n DESC
),
ends AS (
  UPDATE endpoints e
  SET disabled = e.disabled OR l.endpoint_id IN (SELECT endpoint_id FROM disabled),
      updated_at = CASE WHEN l.endpoint_id IN (SELECT endpoint_id FROM disabled) THEN $19 ELSE e.updated_at END,
      failing_since = CASE WHEN l.ok THEN NULL ELSE coalesce(e.failing_since, l.created_at) END
  FROM last l
  WHERE e.id = l.endpoint_id
    AND (l.endpoint_id IN (SELECT endpoint_id FROM disabled) OR l.ok <> (e.failing_since IS NULL))
),
fail_pending AS (
  UPDATE deliveries d
  SET status = 2, next_attempt_at = NULL, locked_by = NULL, locked_until = NULL, lease_token = NULL, updated_at = $19
  WHERE d.endpoint_id IN (SELECT endpoint_id FROM disabled) AND d.status = 1 AND d.id <> ALL ($1::bigint[])
)
SELECT count(*) AS recorded FROM done
`;
