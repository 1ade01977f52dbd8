import type { Store } from './store/types.ts';

/** Svix keeps a payload 90 days unless the message asks for fewer days, or for hours. */
export const DEFAULT_RETENTION_DAYS = 90;

/** Payloads expunged per store call: the store thread answers claims between batches. */
const BATCH = 500;

export interface RetentionSweep {
  /** One sweep now (also what the timer runs): every payload past its retention, in batches. */
  run(): Promise<number>;
  /** No more sweeps; waits for one under way. */
  stop(): Promise<void>;
}

/**
 * Deletes message payloads whose retention ended (Svix's `payloadRetentionPeriod`, 90 days by
 * default), and idempotency replies, tokens and task records past their expiry, every
 * `intervalMs`. The timer never keeps the process alive.
 */
export function startRetentionSweep(o: {
  store: Pick<Store, 'expungeExpiredPayloads' | 'deleteExpiredRecords'>;
  now: () => number;
  intervalMs: number;
  onSwept?: (count: number) => void;
  onError?: (err: unknown) => void;
}): RetentionSweep {
  let running: Promise<number> | undefined;
  let stopped = false;

  async function sweep(): Promise<number> {
    let total = 0;
    for (;;) {
      const n = await o.store.expungeExpiredPayloads(o.now(), BATCH);
      total += n;
      if (n < BATCH || stopped) break;
    }
    // Expired idempotency replies (which may hold a payload), tokens and task records.
    while (!stopped && (await o.store.deleteExpiredRecords(o.now(), BATCH)) > 0) {}
    return total;
  }

  function run(): Promise<number> {
    running ??= sweep()
      .then((n) => {
        if (n > 0) o.onSwept?.(n);
        return n;
      })
      .finally(() => {
        running = undefined;
      });
    return running;
  }

  const timer = setInterval(() => {
    run().catch((err) => o.onError?.(err));
  }, o.intervalMs);
  timer.unref();

  return {
    run,
    async stop() {
      stopped = true;
      clearInterval(timer);
      await running?.catch(() => {});
    },
  };
}
