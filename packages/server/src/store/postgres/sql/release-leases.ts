/** Graceful shutdown: $1 the worker's leased rows become due again at $2. */
export const RELEASE_LEASES = `
UPDATE deliveries SET locked_by = NULL, locked_until = NULL, lease_token = NULL, next_attempt_at = $2
WHERE locked_by = $1 AND status = 1
`;
