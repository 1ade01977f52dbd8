/** Records the result of one attempt on its delivery row and releases the lease. */
export const COMPLETE_DELIVERY = `
UPDATE deliveries
SET status = @status, attempts = attempts + 1, next_attempt_at = @nextAttemptAt,
    locked_by = NULL, locked_until = NULL, updated_at = @now
WHERE id = @id
`;
