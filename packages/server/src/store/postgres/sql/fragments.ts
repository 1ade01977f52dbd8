import { Status } from '../../types.ts';

/**
 * Pieces that several statements share, so that each reads the same rule the same way.
 */

/**
 * The endpoints a message goes to, as conditions on the endpoints row `e`: enabled, its event-type
 * filter (none = all types) names the type, and its channel filter (none = all) shares a channel
 * with the message's (none: it shares none). `type` and `channels` are SQL expressions.
 */
export const matches = (type: string, channels: string): string =>
  `NOT e.disabled AND (e.filter_types IS NULL OR ${type} = ANY(e.filter_types))
   AND (e.channels IS NULL OR e.channels && coalesce(${channels}, '{}'::text[]))`;

/** Delivery `d` is the latest of its message to its endpoint (a resend adds one). */
export const LATEST_DELIVERY =
  'd.id = (SELECT max(l.id) FROM deliveries l WHERE l.msg_id = d.msg_id AND l.endpoint_id = d.endpoint_id)';

/** Delivery `d`'s status at the instant `now` (an SQL expression): a pending row under a live lease is sending. */
export const statusAt = (now: string): string =>
  `CASE WHEN d.status = ${Status.pending} AND d.locked_until > ${now} THEN ${Status.sending} ELSE d.status END`;

/**
 * A recursive query's two terms that walk the endpoints with pending rows in id order, one
 * descent of the due-rows index each (a loose index scan): each row is an endpoint and its earliest
 * next_attempt_at. Idle endpoints cost nothing, however many there are. `start` is the condition
 * on the first endpoint (e.g. `endpoint_id > $1`), `more` the condition on the last one found for
 * the walk to go on, `name` the recursive query's own name.
 */
export const queuedEndpoints = (name: string, start: string, more = 'true'): string => `
  (SELECT endpoint_id, next_attempt_at FROM deliveries
   WHERE status = ${Status.pending} AND ${start}
   ORDER BY endpoint_id, next_attempt_at LIMIT 1)
  UNION ALL
  SELECT n.endpoint_id, n.next_attempt_at FROM ${name} q
  CROSS JOIN LATERAL (
    SELECT endpoint_id, next_attempt_at FROM deliveries
    WHERE status = ${Status.pending} AND endpoint_id > q.endpoint_id
    ORDER BY endpoint_id, next_attempt_at LIMIT 1
  ) n
  WHERE ${more}`;

/** Whether the endpoint `id` (an SQL expression) is disabled: a point lookup, never a join the planner could turn into a scan. */
export const disabledEndpoint = (id: string): string => `(SELECT e.disabled FROM endpoints e WHERE e.id = ${id})`;
