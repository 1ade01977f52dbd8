import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { createRateLimiter } from '../src/dispatcher/rate-limit.ts';

test('a quiet endpoint takes a burst of its rate, then one per 1/rate seconds', () => {
  const limiter = createRateLimiter();
  const T = 1_000_000;
  for (let i = 0; i < 4; i++) assert.equal(limiter.take('ep', 4, T), 0);
  assert.equal(limiter.take('ep', 4, T), 250);
  assert.equal(limiter.take('ep', 4, T + 249), 1);
  assert.equal(limiter.take('ep', 4, T + 250), 0);
  assert.equal(limiter.take('ep', 4, T + 250), 250);
  // Endpoints are limited separately; a changed limit starts a full bucket.
  assert.equal(limiter.take('other', 1, T), 0);
  assert.equal(limiter.take('ep', 10, T + 250), 0);
});

test('a clock that steps back refills nothing', () => {
  const limiter = createRateLimiter();
  assert.equal(limiter.take('ep', 1, 10_000), 0);
  assert.equal(limiter.take('ep', 1, 5_000), 1000);
  assert.equal(limiter.take('ep', 1, 10_999), 1);
  assert.equal(limiter.take('ep', 1, 11_000), 0);
});

test('property: over any span, no more than rate x (1 s + span) tokens are taken', () => {
  fc.assert(
    fc.property(
      fc.integer({ min: 1, max: 50 }),
      fc.array(fc.integer({ min: 0, max: 400 }), { minLength: 1, maxLength: 300 }),
      (rate, steps) => {
        const limiter = createRateLimiter();
        let now = 0;
        const taken: number[] = [];
        for (const step of steps) {
          now += step;
          const wait = limiter.take('ep', rate, now);
          assert.ok(wait >= 0 && Number.isFinite(wait));
          if (wait === 0) taken.push(now);
        }
        // The bucket starts full (one second's worth) and refills at `rate` per second.
        for (let i = 0; i < taken.length; i++) {
          for (let j = i; j < taken.length; j++) {
            const span = (taken[j] as number) - (taken[i] as number);
            assert.ok(j - i + 1 <= rate + (span * rate) / 1000 + 1e-9);
          }
        }
      },
    ),
  );
});
