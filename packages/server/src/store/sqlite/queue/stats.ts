/**
 * Queue depth and the due time of the oldest due delivery, for the metrics. A disabled endpoint's
 * pending rows count in the depth but are not due: they wait for it to be enabled.
 */
export const QUEUE_STATS = `
SELECT COUNT(*) AS depth,
       MIN(CASE WHEN next_attempt_at <= @now AND locked_by IS NULL
                 AND endpoint_id NOT IN (SELECT id FROM endpoints WHERE disabled = 1)
            THEN next_attempt_at END) AS oldest
FROM deliveries WHERE status = 1
`;
/**
 * One endpoint's deliveries by status for messages created in [since, until), through the
 * endpoint's queue index. `sending`: pending rows a dispatcher holds right now.
 */
export const ENDPOINT_STATS = `
SELECT SUM(status = 0) AS success,
       SUM(status = 1 AND (locked_until IS NULL OR locked_until <= @now)) AS pending,
       SUM(status = 1 AND locked_until > @now) AS sending,
       SUM(status = 2) AS fail
FROM deliveries
WHERE endpoint_id = @endpointId AND created_at >= @since AND created_at < @until
`;

/**
 * The same over all time, from the endpoint's queue index alone (through the table rows it took
 * ~50 ms per 100,000 deliveries, and the store thread answers no claim meanwhile). Only rows due in
 * the future are read, to tell the held ones (a lease end is their next_attempt_at) from scheduled
 * retries.
 */
export const ENDPOINT_STATS_ALL_TIME = `
SELECT success, queued - sending AS pending, sending, fail FROM (
  SELECT SUM(status = 0) AS success,
         SUM(status = 1) AS queued,
         SUM(status = 2) AS fail,
         (SELECT COUNT(*) FROM deliveries
           WHERE endpoint_id = @endpointId AND status = 1 AND next_attempt_at > @now AND locked_until > @now) AS sending
  FROM deliveries
  WHERE endpoint_id = @endpointId
)
`;
