import type { DeliveryTimeline, TimelineBucket } from './types.ts';

/** One row of a backend's timeline query: what it counts, in which bucket. */
export interface TimelineRow {
  kind: 'queued' | 'enqueued' | 'finished' | 'attempts';
  bucket: number;
  n: number;
  failed: number;
  total: number;
  longest: number;
}

/** The timeline from the rows both backends' queries answer: every bucket, empty ones too. */
export function timelineOf(
  rows: readonly TimelineRow[],
  w: { since: number; until: number; bucketMs: number },
): DeliveryTimeline {
  const count = Math.max(0, Math.ceil((w.until - w.since) / w.bucketMs));
  const buckets: TimelineBucket[] = Array.from({ length: count }, (_, i) => ({
    start: w.since + i * w.bucketMs,
    enqueued: 0,
    finished: 0,
    attempts: 0,
    failed: 0,
    durationMsSum: 0,
    durationMsMax: 0,
  }));
  let queuedAtStart = 0;
  for (const r of rows) {
    if (r.kind === 'queued') {
      queuedAtStart = Number(r.n);
      continue;
    }
    const b = buckets[Math.floor(Number(r.bucket))];
    if (!b) continue;
    if (r.kind === 'enqueued') b.enqueued = Number(r.n);
    else if (r.kind === 'finished') b.finished = Number(r.n);
    else {
      b.attempts = Number(r.n);
      b.failed = Number(r.failed);
      b.durationMsSum = Number(r.total);
      b.durationMsMax = Number(r.longest);
    }
  }
  return { queuedAtStart, buckets };
}
