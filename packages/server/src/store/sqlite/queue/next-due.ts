/** The earliest instant any pending delivery becomes due (including leases that will expire). */
export const NEXT_DUE = `SELECT MIN(next_attempt_at) AS at FROM deliveries WHERE status = 1`;
