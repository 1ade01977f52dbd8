/**
 * Records the result of one attempt on its delivery row and releases the lease. Positional
 * parameters (status, nextAttemptAt, now, id): it runs for every delivery.
 */
export const COMPLETE_DELIVERY = `
UPDATE deliveries
SET status = ?, attempts = attempts + 1, next_attempt_at = ?, locked_by = NULL, locked_until = NULL, updated_at = ?
WHERE id = ?
`;
