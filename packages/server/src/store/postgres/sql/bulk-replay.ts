import { Status, Trigger } from '../../types.ts';
import { messageMatch } from '../filters.ts';
import type { Params } from '../page.ts';
import { LATEST_DELIVERY, statusAt } from './fragments.ts';

export interface BulkReplayFilter {
  since: number;
  until: number;
  eventTypes?: string[];
  channel?: string;
  tag?: string;
  status?: number;
  statusCodeClass?: number;
}

/**
 * Bulk replay: a new delivery (manual, due now) to the endpoint of every message created within
 * [since, until) that was sent to it, whose payload is kept, and that matches the filters: message
 * filters, the status of the latest delivery at `now`, the class of its latest attempt's HTTP status
 * (0: none). One statement; the filters decide its conditions.
 */
export function bulkReplay(endpointId: string, f: BulkReplayFilter, now: number, p: Params): string {
  const at = p.add(now);
  let where = `d.endpoint_id = ${p.add(endpointId)} AND m.expunged_at IS NULL
    AND m.created_at >= ${p.add(f.since)} AND m.created_at < ${p.add(f.until)} AND ${LATEST_DELIVERY}`;
  if (f.status !== undefined) where += ` AND ${statusAt(at)} = ${p.add(f.status)}`;
  if (f.statusCodeClass !== undefined) {
    where += ` AND coalesce((SELECT a.status_code FROM attempts a WHERE a.msg_id = m.id AND a.endpoint_id = d.endpoint_id
      ORDER BY a.id DESC LIMIT 1), 0) / 100 = ${p.add(Math.floor(f.statusCodeClass / 100))}`;
  }
  where += messageMatch(f, p, 'm');
  return `
INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger_type, created_at, updated_at)
SELECT m.id, d.endpoint_id, d.app_id, ${Status.pending}, 0, ${at}::bigint, ${Trigger.manual}, ${at}::bigint, ${at}::bigint
FROM deliveries d JOIN messages m ON m.id = d.msg_id
WHERE ${where}`;
}
