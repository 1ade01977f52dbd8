/**
 * The endpoints a message goes to: the enabled endpoints of the application whose event-type filter
 * (none = all types) and channel filter (none = all; else at least one shared channel) match.
 * Positional parameters, in order: appId, eventType, channels (a JSON array).
 */
const MATCHING_ENDPOINTS = `
FROM endpoints e
WHERE e.app_id = ? AND e.disabled = 0
  AND (e.filter_types IS NULL OR EXISTS (SELECT 1 FROM json_each(e.filter_types) f WHERE f.value = ?))
  AND (e.channels IS NULL OR EXISTS (
    SELECT 1 FROM json_each(e.channels) c JOIN json_each(?) m ON c.value = m.value))
`;

/**
 * Fan-out: one pending delivery per matching endpoint. Runs in the transaction that inserts the
 * message. Positional parameters, in order: msgId, due, now, now, then those of the match. It runs
 * for every message, and binding by name from an object cost more than the statement's own work.
 */
export const ENQUEUE_MESSAGE = `
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger_type, created_at, updated_at)
SELECT ?, e.id, e.app_id, 1, 0, ?, 0, ?, ?
${MATCHING_ENDPOINTS}`;

/** Whether a message would go anywhere (Svix's precheck): the match's parameters. */
export const ANY_MATCHING_ENDPOINT = `SELECT EXISTS (SELECT 1 ${MATCHING_ENDPOINTS}) AS active`;
