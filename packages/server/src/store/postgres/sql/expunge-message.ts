import { Status } from '../../types.ts';

/**
 * Empties the payloads of the messages `ids` (an SQL set) at `now` and ends their waiting
 * deliveries: a leased delivery finishes its attempt, and if that would be retried, its next claim
 * ends it (claim.ts).
 */
export const expungeSteps = (ids: string, now: string): string => `
emptied AS (
  UPDATE messages SET payload = '{}', expunged_at = coalesce(expunged_at, ${now}::bigint) WHERE id IN ${ids} RETURNING id
),
ended AS (
  UPDATE deliveries SET status = ${Status.fail}, next_attempt_at = NULL, updated_at = ${now}::bigint
  WHERE msg_id IN ${ids} AND status = ${Status.pending} AND locked_by IS NULL
)`;

/**
 * Expunges message $2 of application $1 at $3. An Idempotency-Key reply to its creation holds its
 * payload (for up to a day): it keeps answering a retried POST, with the payload as the message now
 * reads, `{}`. $4 is the text such a reply holds (`"id":"msg_…"`).
 */
export const EXPUNGE_MESSAGE = `
WITH target AS (SELECT id FROM messages WHERE app_id = $1 AND id = $2),
${expungeSteps('(SELECT id FROM target)', '$3')},
replies AS (
  UPDATE idempotency SET body = jsonb_set(hookwarden_jsonb_or_null(body), '{payload}', '{}'::jsonb)::text
  WHERE EXISTS (SELECT 1 FROM target) AND strpos(body, $4) > 0
    AND jsonb_typeof(hookwarden_jsonb_or_null(body) -> 'payload') IS NOT NULL
)
SELECT count(*) AS found FROM target
`;
