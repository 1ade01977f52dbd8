/**
 * Fan-out: one pending delivery per enabled endpoint of the application whose event-type filter
 * (none = all types) and channel filter (none = all; else at least one shared channel) match.
 * Runs in the transaction that inserts the message. Positional parameters, in order: msgId, due,
 * now, now, appId, eventType, channels (a JSON array). It runs for every message, and binding by
 * name from an object cost more than the statement's own work.
 */
export const ENQUEUE_MESSAGE = `
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger_type, created_at, updated_at)
SELECT ?, e.id, e.app_id, 1, 0, ?, 0, ?, ?
FROM endpoints e
WHERE e.app_id = ? AND e.disabled = 0
  AND (e.filter_types IS NULL OR EXISTS (SELECT 1 FROM json_each(e.filter_types) f WHERE f.value = ?))
  AND (e.channels IS NULL OR EXISTS (
    SELECT 1 FROM json_each(e.channels) c JOIN json_each(?) m ON c.value = m.value))
`;
