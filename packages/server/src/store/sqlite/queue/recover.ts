/**
 * Requeues an endpoint's failed deliveries created within [since, until): only a message's latest
 * delivery to the endpoint, so a message that a later resend delivered (or is delivering) is not
 * sent again, nor a message twice.
 */
export const RECOVER_ENDPOINT = `
UPDATE deliveries SET status = 1, next_attempt_at = @now, trigger_type = 1, updated_at = @now
WHERE endpoint_id = @endpointId AND status = 2 AND created_at >= @since AND created_at < @until
  AND id = (SELECT MAX(d.id) FROM deliveries d WHERE d.msg_id = deliveries.msg_id AND d.endpoint_id = deliveries.endpoint_id)
`;

/**
 * Replay-missing: one new delivery to the endpoint for every message of its application created
 * within [since, until) that its filters match and that was never sent to it (it was created later,
 * or disabled when the message came). The same filters as the fan-out (enqueue-message.ts).
 */
export const REPLAY_MISSING = `
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger_type, created_at, updated_at)
SELECT m.id, e.id, e.app_id, 1, 0, @now, 1, @now, @now
FROM endpoints e JOIN messages m ON m.app_id = e.app_id
WHERE e.id = @endpointId AND m.created_at >= @since AND m.created_at < @until
  AND (e.filter_types IS NULL OR EXISTS (SELECT 1 FROM json_each(e.filter_types) f WHERE f.value = m.event_type))
  AND (e.channels IS NULL OR EXISTS (
    SELECT 1 FROM json_each(e.channels) c JOIN json_each(m.channels) x ON c.value = x.value))
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = m.id AND d.endpoint_id = e.id)
`;
