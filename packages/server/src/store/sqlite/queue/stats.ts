/** Queue depth and the due time of the oldest due delivery, for the metrics. */
export const QUEUE_STATS = `
SELECT COUNT(*) AS depth,
       MIN(CASE WHEN next_attempt_at <= @now AND locked_by IS NULL THEN next_attempt_at END) AS oldest
FROM deliveries WHERE status = 1
`;
