/** One pending delivery of an existing message to one endpoint (resend, send-example). */
export const ENQUEUE_ONE = `
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger_type, created_at, updated_at)
SELECT m.id, e.id, e.app_id, 1, 0, @now, @triggerType, @now, @now
FROM messages m JOIN endpoints e ON e.app_id = m.app_id
WHERE m.id = @msgId AND e.id = @endpointId
`;
