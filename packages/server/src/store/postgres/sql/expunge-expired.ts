import { expungeSteps } from './expunge-message.ts';

/**
 * Expunges up to $2 messages whose payload retention ended by $1, oldest first. Sweeps on several
 * nodes take different messages (SKIP LOCKED) rather than the same ones.
 */
export const EXPUNGE_EXPIRED = `
WITH picked AS (
  SELECT id FROM messages
  WHERE payload_expires_at IS NOT NULL AND expunged_at IS NULL AND payload_expires_at <= $1
  ORDER BY payload_expires_at LIMIT $2
  FOR UPDATE SKIP LOCKED
),
${expungeSteps('(SELECT id FROM picked)', '$1')}
SELECT count(*) AS expunged FROM picked
`;
