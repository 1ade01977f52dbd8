import { disabledEndpoint, queuedEndpoints } from './fragments.ts';

/**
 * The earliest instant a pending row of an enabled endpoint becomes due (a lease's end included),
 * for the dispatcher's fallback timer: one descent of the due-rows index per endpoint with pending
 * rows. A disabled endpoint's rows (a resend while disabled) wait for it to be enabled: counted
 * here, the claim would find nothing due and the dispatcher would ask again at once, in a loop.
 */
export const NEXT_DUE = `
WITH RECURSIVE queued (endpoint_id, next_attempt_at) AS (${queuedEndpoints('queued', 'true')})
SELECT min(next_attempt_at) AS at FROM queued q WHERE NOT ${disabledEndpoint('q.endpoint_id')}
`;
