/** A disabled endpoint's pending deliveries fail at once (they can be recovered after re-enabling). */
export const FAIL_PENDING_OF_ENDPOINT = `
UPDATE deliveries SET status = 2, next_attempt_at = NULL, locked_by = NULL, locked_until = NULL, updated_at = @now
WHERE endpoint_id = @endpointId AND status = 1
`;
