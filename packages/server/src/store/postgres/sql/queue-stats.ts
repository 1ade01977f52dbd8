/**
 * Queue depth and the due time of the oldest due delivery at $1, for the metrics. A disabled
 * endpoint's pending rows count in the depth but are not due: they wait for it to be enabled.
 */
export const QUEUE_STATS = `
SELECT count(*) AS depth,
       min(next_attempt_at) FILTER (
         WHERE next_attempt_at <= $1 AND locked_by IS NULL
           AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE disabled)) AS oldest
FROM deliveries WHERE status = 1
`;
