import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { DEFAULT_RETRY_SCHEDULE_MS, nextAttemptDelay, parseRetryAfter } from '../../src/delivery/retry.ts';

test('the default schedule is the Standard Webhooks one and ends after eight attempts', () => {
  const exact = DEFAULT_RETRY_SCHEDULE_MS.map((_, i) => nextAttemptDelay(i, { jitter: 0 }));
  assert.deepEqual(exact, [0, 5_000, 300_000, 1_800_000, 7_200_000, 18_000_000, 36_000_000, 36_000_000]);
  assert.equal(nextAttemptDelay(DEFAULT_RETRY_SCHEDULE_MS.length), undefined);
  assert.equal(nextAttemptDelay(1, { scheduleMs: [0, 10, 20], jitter: 0 }), 10);
  assert.equal(nextAttemptDelay(3, { scheduleMs: [0, 10, 20] }), undefined);
});

test('jitter stays within ±jitter of the scheduled delay and uses the injected random', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 0, max: DEFAULT_RETRY_SCHEDULE_MS.length - 1 }),
      fc.double({ min: 0, max: 0.99, noNaN: true }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      (attempt, jitter, r) => {
        const base = DEFAULT_RETRY_SCHEDULE_MS[attempt]!;
        const d = nextAttemptDelay(attempt, { jitter, random: () => r })!;
        return d >= Math.floor(base * (1 - jitter)) && d <= Math.ceil(base * (1 + jitter));
      },
    ),
  );
  assert.equal(nextAttemptDelay(2, { random: () => 0 }), 240_000);
  assert.equal(nextAttemptDelay(2, { random: () => 1 }), 360_000);
});

test('Retry-After lengthens the delay up to the bound, never shortens it', () => {
  const r = () => 0.5;
  assert.equal(nextAttemptDelay(1, { random: r, retryAfterMs: 60_000 }), 60_000);
  assert.equal(nextAttemptDelay(1, { random: r, retryAfterMs: 1_000 }), 5_000);
  assert.equal(nextAttemptDelay(1, { random: r, retryAfterMs: 10 * 86_400_000 }), 86_400_000);
  assert.equal(nextAttemptDelay(1, { random: r, retryAfterMs: 120_000, maxRetryAfterMs: 60_000 }), 60_000);
  assert.equal(nextAttemptDelay(7, { random: r, retryAfterMs: 1_000, maxRetryAfterMs: 60_000 }), 36_000_000);
  assert.equal(nextAttemptDelay(8, { random: r, retryAfterMs: 1_000 }), undefined);
});

test('bad arguments throw the options error', () => {
  assert.throws(() => nextAttemptDelay(-1), { code: 'HW_DELIVERY_OPTIONS_INVALID' });
  assert.throws(() => nextAttemptDelay(1, { jitter: 1.5 }), { code: 'HW_DELIVERY_OPTIONS_INVALID' });
});

test('Retry-After: seconds or an HTTP date; anything else is ignored, never thrown', () => {
  const now = Date.parse('2026-11-28T12:00:00Z');
  assert.equal(parseRetryAfter('30', now), 30_000);
  assert.equal(parseRetryAfter(['0'], now), 0);
  assert.equal(parseRetryAfter('Sat, 28 Nov 2026 12:01:00 GMT', now), 60_000);
  assert.equal(parseRetryAfter('Sat, 28 Nov 2026 11:00:00 GMT', now), 0);
  for (const bad of [undefined, '', '-5', '1.5', 'soon', 'Sat, 28 Nov 2026', '99999999999'])
    assert.equal(parseRetryAfter(bad, now), undefined, String(bad));
  fc.assert(
    fc.property(fc.string(), (s) => {
      const v = parseRetryAfter(s, now);
      return v === undefined || (Number.isFinite(v) && v >= 0);
    }),
  );
});
