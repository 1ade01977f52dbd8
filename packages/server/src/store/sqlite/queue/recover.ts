/** Requeues an endpoint's failed deliveries created within [since, until). */
export const RECOVER_ENDPOINT = `
UPDATE deliveries SET status = 1, next_attempt_at = @now, trigger_type = 1, updated_at = @now
WHERE endpoint_id = @endpointId AND status = 2 AND created_at >= @since AND created_at < @until
`;
