import { matches } from './fragments.ts';

/** Whether a message of type $2 and channels $3 in application $1 would go anywhere (Svix's precheck): the fan-out's match. */
export const ANY_MATCHING_ENDPOINT = `
SELECT EXISTS (SELECT 1 FROM endpoints e WHERE e.app_id = $1 AND ${matches('$2::text', '$3::text[]')}) AS active
`;
