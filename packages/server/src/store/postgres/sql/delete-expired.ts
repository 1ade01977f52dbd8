/** Deletes up to $2 each of the idempotency replies, tokens and background task records expired by $1. */
export const DELETE_EXPIRED = `
WITH replies AS (
  DELETE FROM idempotency WHERE (scope, key) IN (SELECT scope, key FROM idempotency WHERE expires_at <= $1 LIMIT $2)
  RETURNING 1
),
tokens AS (
  DELETE FROM tokens WHERE hash IN (
    SELECT hash FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= $1 LIMIT $2)
  RETURNING 1
),
tasks AS (
  DELETE FROM background_tasks WHERE id IN (SELECT id FROM background_tasks WHERE expires_at <= $1 LIMIT $2)
  RETURNING 1
)
SELECT (SELECT count(*) FROM replies) + (SELECT count(*) FROM tokens) + (SELECT count(*) FROM tasks) AS deleted
`;
