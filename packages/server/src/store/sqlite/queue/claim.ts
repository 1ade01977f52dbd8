/**
 * Leases a batch of due deliveries. The lease end becomes the row's next_attempt_at, so the due
 * index never has to skip leased rows, and a row whose dispatcher died is due again once its lease
 * ends (crash safety without a reaper). SQLite has a single writer, so no SKIP LOCKED is needed;
 * PostgreSQL will use `FOR UPDATE SKIP LOCKED` in the subquery.
 */
export const CLAIM_DELIVERIES = `
UPDATE deliveries SET locked_by = @workerId, locked_until = @until, next_attempt_at = @until
WHERE id IN (
  SELECT d.id FROM deliveries d
  WHERE d.status = 1 AND d.next_attempt_at <= @now
    AND d.endpoint_id NOT IN (SELECT value FROM json_each(@skip))
  ORDER BY d.next_attempt_at, d.id
  LIMIT @limit
)
RETURNING id, msg_id, endpoint_id, attempts, trigger_type
`;
