import { MESSAGE_COLUMNS } from '../rows.ts';
import { matches } from './fragments.ts';

/**
 * Stores a message and fans it out, one statement: one pending delivery per endpoint that the
 * message matches (fragments.ts), due at $11, unless $12 (fan out) is false. An eventId ($4)
 * already used in the application ($2) stores nothing and answers the stored message; so does a
 * concurrent insert of the same eventId that committed first (then the stored row is not in this
 * statement's snapshot: `created` is 0 and no message comes back, and the caller reads it).
 * Parameters $1 … $10: id, app id, event type, event id, channels, tags, payload, created at,
 * payload expiry, deliver at.
 */
export const CREATE_MESSAGE = `
WITH existing AS (
  SELECT * FROM messages WHERE app_id = $2 AND event_id = $4
),
inserted AS (
  INSERT INTO messages (id, app_id, event_type, event_id, channels, tags, payload, created_at, payload_expires_at, deliver_at)
  SELECT $1::text, $2::text, $3::text, $4::text, $5::text[], $6::text[], $7::text, $8::bigint, $9::bigint, $10::bigint
  WHERE NOT EXISTS (SELECT 1 FROM existing)
  ON CONFLICT (app_id, event_id) DO NOTHING
  RETURNING id, app_id
),
fanned AS (
  INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger_type, created_at, updated_at)
  SELECT i.id, e.id, e.app_id, 1, 0, $11::bigint, 0, $8::bigint, $8::bigint
  FROM inserted i JOIN endpoints e ON e.app_id = i.app_id
  WHERE $12::boolean AND ${matches('$3::text', '$5::text[]')}
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted) AS created, (SELECT count(*) FROM fanned) AS deliveries,
  ${MESSAGE_COLUMNS.map((c) => `x.${c}`).join(', ')}
FROM (SELECT 1) one LEFT JOIN existing x ON true
`;
