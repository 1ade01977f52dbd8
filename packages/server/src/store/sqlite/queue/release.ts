/** Graceful shutdown: the worker's leased rows become due again immediately. */
export const RELEASE_LEASES = `
UPDATE deliveries SET locked_by = NULL, locked_until = NULL, next_attempt_at = @now
WHERE locked_by = @workerId AND status = 1
`;

/**
 * At start-up: one process owns a SQLite data directory, so every lease left belongs to a dispatcher
 * that died (kill -9, power loss). Those rows are due at once instead of when their lease ends.
 */
export const RELEASE_ALL_LEASES = `
UPDATE deliveries SET locked_by = NULL, locked_until = NULL, next_attempt_at = @now
WHERE locked_by IS NOT NULL AND status = 1
`;
