import { expungeSteps } from './expunge-message.ts';

/**
 * Expunges up to $3 messages of application $1 after id $2, in id order, at $4; answers the last
 * one's id (null when none was left).
 */
export const EXPUNGE_APPLICATION = `
WITH picked AS (SELECT id FROM messages WHERE app_id = $1 AND id > $2 ORDER BY id LIMIT $3),
${expungeSteps('(SELECT id FROM picked)', '$4')}
SELECT max(id) AS last FROM picked
`;
