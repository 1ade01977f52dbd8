/** Graceful shutdown: the worker's leased rows become due again immediately. */
export const RELEASE_LEASES = `
UPDATE deliveries SET locked_by = NULL, locked_until = NULL, next_attempt_at = @now
WHERE locked_by = @workerId AND status = 1
`;
