/**
 * One endpoint's ($1) deliveries by status, of messages created within [$2, $3), at $4: `sending`
 * are pending rows a dispatcher holds right now. Through the endpoint's index.
 */
export const ENDPOINT_STATS = `
SELECT count(*) FILTER (WHERE status = 0) AS success,
       count(*) FILTER (WHERE status = 1 AND (locked_until IS NULL OR locked_until <= $4)) AS pending,
       count(*) FILTER (WHERE status = 1 AND locked_until > $4) AS sending,
       count(*) FILTER (WHERE status = 2) AS fail
FROM deliveries
WHERE endpoint_id = $1 AND created_at >= $2 AND created_at < $3
`;
