/**
 * Every lease becomes due at $1: the start-up step of a store that one process owns. With many
 * processes on one database, a lease may be a live worker's: only its expiry frees it.
 */
export const RELEASE_ALL_LEASES = `
UPDATE deliveries SET locked_by = NULL, locked_until = NULL, lease_token = NULL, next_attempt_at = $1
WHERE locked_by IS NOT NULL AND status = 1
`;
