/**
 * Records the result of one attempt on its delivery row and releases the lease. Positional
 * parameters (status, nextAttemptAt, now, id): it runs for every delivery.
 */
export const COMPLETE_DELIVERY = `
UPDATE deliveries
SET status = ?, attempts = attempts + 1, next_attempt_at = ?, locked_by = NULL, locked_until = NULL, updated_at = ?
WHERE id = ?
`;

/**
 * A retry scheduled for an endpoint that was disabled while the attempt was in flight ends failed,
 * as disabling failed the endpoint's other pending rows.
 */
export const FAIL_RETRY_OF_DISABLED = `
UPDATE deliveries SET status = 2, next_attempt_at = NULL
WHERE id = ? AND status = 1 AND endpoint_id IN (SELECT id FROM endpoints WHERE disabled = 1)
`;
