import type { ClaimedDelivery, Outcome, Store } from '../types.ts';
import type { Db, Row } from './db.ts';
import { endpointFromRow, messageFromRow, outcomeColumns } from './rows.ts';
import { CLAIM } from './sql/claim.ts';
import { NEXT_DUE } from './sql/next-due.ts';
import { QUEUE_STATS } from './sql/queue-stats.ts';
import { RECORD_OUTCOMES } from './sql/record-outcomes.ts';
import { RELEASE_ALL_LEASES } from './sql/release-all-leases.ts';
import { RELEASE_LEASES } from './sql/release-leases.ts';

type ClaimOptions = Parameters<Store['claimDeliveries']>[0];

/**
 * Claims in turn across endpoints: each claim starts after the endpoint the previous one of this
 * store ended at (sql/claim.ts), so every endpoint with due rows is reached within a few claims.
 */
export class Claimer {
  private cursor = '';

  constructor(private readonly db: Db) {}

  async claim(o: ClaimOptions): Promise<ClaimedDelivery[]> {
    if (o.limit <= 0) return [];
    const held = [...(o.inFlight ?? new Map<string, number>())];
    const limits = [...(o.endpointLimits ?? new Map<string, number>())];
    const rows = await this.db.rows(CLAIM, [
      o.now,
      o.now + o.leaseMs,
      o.workerId,
      o.limit,
      o.perEndpointLimit ?? o.limit,
      this.cursor,
      held.map(([id]) => id),
      held.map(([, n]) => n),
      limits.map(([id]) => id),
      limits.map(([, n]) => n),
    ]);
    if (rows.length > 0)
      this.cursor = lastInTurn(
        rows.map((r) => r.e_id as string),
        this.cursor,
      );
    return rows.map(claimedFromRow);
  }
}

/** The endpoint the claim reached last, walking up from `cursor` and wrapping around. */
function lastInTurn(endpointIds: string[], cursor: string): string {
  let after: string | undefined;
  let wrapped: string | undefined;
  for (const id of endpointIds) {
    if (id > cursor) after = after === undefined || id > after ? id : after;
    else wrapped = wrapped === undefined || id > wrapped ? id : wrapped;
  }
  return wrapped ?? after ?? cursor;
}

const claimedFromRow = (r: Row): ClaimedDelivery => ({
  id: r.d_id as number,
  attempts: r.d_attempts as number,
  triggerType: r.d_trigger_type as number,
  message: messageFromRow(r, 'm_'),
  endpoint: endpointFromRow(r, 'e_'),
  rateLimit: (r.rate_limit as number | null) ?? null,
});

export async function recordOutcomes(db: Db, outcomes: Outcome[], now: number): Promise<void> {
  if (outcomes.length > 0) await db.query(RECORD_OUTCOMES, [...outcomeColumns(outcomes), now]);
}

export function releaseLeases(db: Db, workerId: string, now: number): Promise<number> {
  return db.changes(RELEASE_LEASES, [workerId, now]);
}

export function releaseAllLeases(db: Db, now: number): Promise<number> {
  return db.changes(RELEASE_ALL_LEASES, [now]);
}

export async function nextDueAt(db: Db): Promise<number | undefined> {
  const r = await db.row(NEXT_DUE);
  return (r?.at as number | null | undefined) ?? undefined;
}

export async function queueStats(db: Db, now: number): Promise<{ depth: number; oldestDueAgeMs: number }> {
  const r = (await db.row(QUEUE_STATS, [now])) as { depth: number; oldest: number | null };
  return { depth: r.depth, oldestDueAgeMs: r.oldest === null ? 0 : Math.max(0, now - r.oldest) };
}
