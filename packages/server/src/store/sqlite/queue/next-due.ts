/**
 * The earliest instant any pending delivery of an enabled endpoint becomes due (including leases
 * that will expire). A disabled endpoint's pending rows (a resend or recovery while disabled) wait
 * for it to be enabled again: counted here, the claim would find nothing due and the dispatcher
 * would ask again at once, in a loop. One index probe per enabled endpoint, as the claim's own
 * DUE_ENDPOINTS makes.
 */
export const NEXT_DUE = `
SELECT MIN((SELECT MIN(d.next_attempt_at) FROM deliveries d WHERE d.endpoint_id = e.id AND d.status = 1)) AS at
FROM endpoints e WHERE e.disabled = 0
`;
