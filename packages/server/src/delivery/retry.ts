/**
 * When to try again. The Standard Webhooks schedule: immediately, 5 s, 5 min, 30 min, 2 h, 5 h,
 * 10 h, 10 h — about 28 hours in all — with ±jitter so that endpoints that failed together do not
 * come back together. A receiver's Retry-After is honoured within bounds: never sooner than the
 * schedule, never later than `maxRetryAfterMs`.
 */
import { DeliveryError } from './errors.ts';

export const DEFAULT_RETRY_SCHEDULE_MS: readonly number[] = [
  0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000,
];

export const DEFAULT_MAX_RETRY_AFTER_MS = 86_400_000;

export interface RetryOptions {
  scheduleMs?: readonly number[];
  /** Fraction of the delay added or removed at random: 0.2 → ±20 %. */
  jitter?: number;
  retryAfterMs?: number;
  maxRetryAfterMs?: number;
  random?: () => number;
}

/**
 * Delay before the next attempt after `attemptsMade` attempts (the first attempt counts as one),
 * or undefined when the schedule is exhausted. Entry 0 of the schedule is the first attempt.
 */
export function nextAttemptDelay(attemptsMade: number, opts: RetryOptions = {}): number | undefined {
  const schedule = opts.scheduleMs ?? DEFAULT_RETRY_SCHEDULE_MS;
  const jitter = opts.jitter ?? 0.2;
  const maxRetryAfter = opts.maxRetryAfterMs ?? DEFAULT_MAX_RETRY_AFTER_MS;
  if (!Number.isInteger(attemptsMade) || attemptsMade < 0) {
    throw new DeliveryError('HW_DELIVERY_OPTIONS_INVALID', `attemptsMade must be a non-negative integer`);
  }
  if (!(jitter >= 0 && jitter < 1)) {
    throw new DeliveryError('HW_DELIVERY_OPTIONS_INVALID', `retry option 'jitter' must be in [0, 1)`);
  }
  const base = schedule[attemptsMade];
  if (base === undefined) return undefined;
  const random = opts.random ?? Math.random;
  const r = Math.min(Math.max(random(), 0), 1);
  let delay = Math.round(base * (1 + jitter * (2 * r - 1)));
  const asked = opts.retryAfterMs;
  if (asked !== undefined && Number.isFinite(asked) && asked > delay)
    delay = Math.min(asked, Math.max(maxRetryAfter, delay));
  return Math.max(0, delay);
}

/**
 * Parses a Retry-After header (delay in seconds or an HTTP date) into milliseconds from `nowMs`;
 * undefined when absent or malformed (a bad header must not stall retries).
 */
export function parseRetryAfter(value: string | string[] | undefined, nowMs: number): number | undefined {
  const v = (Array.isArray(value) ? value[0] : value)?.trim();
  if (!v) return undefined;
  if (/^\d{1,10}$/.test(v)) return Number(v) * 1000;
  if (!/^[A-Za-z]{3}, \d{2} [A-Za-z]{3} \d{4} \d{2}:\d{2}:\d{2} GMT$/.test(v)) return undefined;
  const at = Date.parse(v);
  return Number.isFinite(at) ? Math.max(0, at - nowMs) : undefined;
}
