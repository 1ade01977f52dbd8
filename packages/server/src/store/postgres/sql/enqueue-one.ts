/** One pending delivery of message $1 to endpoint $2 of its application, due at $3, trigger $4 (resend, send-example). */
export const ENQUEUE_ONE = `
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger_type, created_at, updated_at)
SELECT m.id, e.id, e.app_id, 1, 0, $3::bigint, $4::smallint, $3::bigint, $3::bigint
FROM messages m JOIN endpoints e ON e.app_id = m.app_id
WHERE m.id = $1 AND e.id = $2
`;
