/**
 * Replay-missing: one new delivery, due at $4, to endpoint $1 for every message of its application
 * created within [$2, $3) that its filters match and that was never sent to it (it was created
 * later, or disabled when the message came). The fan-out's filters, on the message's own type and
 * channels; a disabled endpoint is replayed too (its rows wait until it is enabled).
 */
export const REPLAY_MISSING = `
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger_type, created_at, updated_at)
SELECT m.id, e.id, e.app_id, 1, 0, $4::bigint, 1, $4::bigint, $4::bigint
FROM endpoints e JOIN messages m ON m.app_id = e.app_id
WHERE e.id = $1 AND m.created_at >= $2 AND m.created_at < $3
  AND (e.filter_types IS NULL OR m.event_type = ANY(e.filter_types))
  AND (e.channels IS NULL OR e.channels && coalesce(m.channels, '{}'::text[]))
  AND NOT EXISTS (SELECT 1 FROM deliveries d WHERE d.msg_id = m.id AND d.endpoint_id = e.id)
`;
