/**
 * Requeues endpoint $1's failed deliveries created within [$2, $3), due at $4: only a message's
 * latest delivery to the endpoint, so a message that a later resend delivered (or is delivering)
 * is not sent again, nor a message twice.
 */
export const RECOVER_ENDPOINT = `
UPDATE deliveries d SET status = 1, next_attempt_at = $4, trigger_type = 1, updated_at = $4
WHERE d.endpoint_id = $1 AND d.status = 2 AND d.created_at >= $2 AND d.created_at < $3
  AND d.id = (SELECT max(l.id) FROM deliveries l WHERE l.msg_id = d.msg_id AND l.endpoint_id = d.endpoint_id)
`;
