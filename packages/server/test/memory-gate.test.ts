import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { AttemptOutcome } from '../src/delivery/types.ts';
import { type AttemptReport, type CircuitState, verdictOf } from '../src/dispatcher/endpoint-gate.ts';
import { createMemoryGate, type MemoryGateOptions } from '../src/dispatcher/memory-gate.ts';

const OPTIONS: MemoryGateOptions = {
  initial: 4,
  max: 16,
  failureThreshold: 5,
  openMs: 1_000,
  maxOpenMs: 8_000,
  idleMs: 60_000,
};

function gateWith(over: Partial<MemoryGateOptions> = {}) {
  const transitions: CircuitState[] = [];
  const gate = createMemoryGate({ ...OPTIONS, ...over, onTransition: (_id, to) => transitions.push(to) });
  /** Reports one attempt started now (its epoch read now). */
  const attempt = (verdict: AttemptReport['verdict'], now: number, more: Partial<AttemptReport> = {}) =>
    gate.report('ep', { verdict, epoch: gate.epoch('ep'), slow: false, ...more }, now);
  return { gate, attempt, transitions };
}

test('what an outcome says about its endpoint', () => {
  const cases: [Partial<AttemptOutcome>, string][] = [
    [{ ok: true, statusCode: 200 }, 'answered'],
    [{ ok: false, statusCode: 400 }, 'answered'],
    [{ ok: false, statusCode: 404 }, 'answered'],
    [{ ok: false, statusCode: 301 }, 'answered'],
    [{ ok: false, statusCode: 429 }, 'slow_down'],
    [{ ok: false, statusCode: 503 }, 'slow_down'],
    [{ ok: false, statusCode: 500 }, 'failed'],
    [{ ok: false, statusCode: 502 }, 'failed'],
    [{ ok: false, failure: { kind: 'timeout', message: '', phase: 'headers' } }, 'failed'],
    [{ ok: false, failure: { kind: 'connect', message: '' } }, 'failed'],
    [{ ok: false, statusCode: 0, failure: { kind: 'tls_other', message: '' } }, 'failed'],
  ];
  for (const [o, verdict] of cases) {
    assert.equal(verdictOf({ durationMs: 1, responseExcerpt: '', ...o } as AttemptOutcome), verdict, JSON.stringify(o));
  }
});

test('an unknown endpoint starts at the initial limit; prompt answers grow it by one each up to the max', () => {
  const { gate, attempt } = gateWith();
  assert.equal(gate.allowance('ep', 0), 4);
  for (let i = 0; i < 12; i++) attempt('answered', i);
  assert.equal(gate.allowance('ep', 20), 16);
  attempt('answered', 21);
  assert.equal(gate.allowance('ep', 22), 16, 'never beyond the max');
  const slow = gateWith();
  for (let i = 0; i < 12; i++) slow.attempt('answered', i, { slow: true });
  assert.equal(slow.gate.allowance('ep', 20), 4, 'slow answers earn no slot');
  assert.deepEqual(gate.allowances(30), new Map([['ep', 16]]), 'a limit that differs is handed to claims');
});

test('failures halve the limit once per round: attempts started before a decrease do not decrease again', () => {
  const { gate } = gateWith();
  const epoch = gate.epoch('ep');
  // Four attempts in flight together, all failing: one decrease (4 → 2), not four.
  for (let i = 0; i < 4; i++) gate.report('ep', { verdict: 'failed', epoch, slow: true }, 100 + i);
  assert.equal(gate.allowance('ep', 200), 2);
  assert.equal(gate.circuit('ep', 200).consecutiveFailures, 4);
  assert.equal(gate.slow('ep'), true);
  assert.equal(gate.census(200).reduced, 1);
  // An answer resets the count and grows again, past the halved threshold only by 1/limit per answer.
  gate.report('ep', { verdict: 'answered', epoch: gate.epoch('ep'), slow: false }, 300);
  assert.equal(gate.circuit('ep', 300).consecutiveFailures, 0);
  assert.equal(gate.allowance('ep', 300), 2, '2.5');
  gate.report('ep', { verdict: 'answered', epoch: gate.epoch('ep'), slow: false }, 301);
  assert.equal(gate.allowance('ep', 301), 2, '2.9');
  gate.report('ep', { verdict: 'answered', epoch: gate.epoch('ep'), slow: false }, 302);
  assert.equal(gate.allowance('ep', 302), 3, '3.24');
  assert.equal(gate.slow('ep'), false);
});

test('the circuit opens after consecutive failures, lets one probe through when its time is up, and closes on an answer', () => {
  const { gate, attempt, transitions } = gateWith();
  for (let i = 0; i < 5; i++) attempt('failed', 1_000);
  assert.equal(gate.allowance('ep', 1_000), 0, 'open: nothing starts');
  assert.deepEqual(gate.circuit('ep', 1_500), {
    state: 'open',
    concurrencyLimit: 0,
    consecutiveFailures: 5,
    openUntil: 2_000,
    openedBy: 'failures',
    slow: false,
  });
  assert.equal(gate.nextOpeningAt(), 2_000);
  assert.equal(gate.allowance('ep', 1_999), 0);
  assert.equal(gate.allowance('ep', 2_000), 1, 'half open: one probe');
  // The probe fails: open again, twice as long.
  attempt('failed', 2_100);
  assert.equal(gate.circuit('ep', 2_100).openUntil, 4_100);
  assert.equal(gate.allowance('ep', 4_100), 1);
  // An attempt that started before the circuit opened tells nothing: the probe decides.
  gate.report('ep', { verdict: 'answered', epoch: 0, slow: false }, 4_150);
  assert.equal(gate.circuit('ep', 4_150).state, 'half_open');
  attempt('answered', 4_200);
  assert.equal(gate.circuit('ep', 4_200).state, 'closed');
  assert.equal(gate.allowance('ep', 4_200), 1, 'closed again, growing from one');
  assert.equal(gate.nextOpeningAt(), undefined);
  assert.deepEqual(transitions, ['open', 'half_open', 'open', 'half_open', 'closed']);
  // A later opening waits the first cooldown again, not the doubled one.
  for (let i = 0; i < 5; i++) attempt('failed', 5_000);
  assert.equal(gate.circuit('ep', 5_000).openUntil, 6_000);
});

test("a receiver's Retry-After opens the circuit for that long, at most maxOpenMs", () => {
  const { gate, attempt } = gateWith();
  attempt('slow_down', 1_000, { retryAfterMs: 3_000 });
  assert.deepEqual(
    { ...gate.circuit('ep', 1_000) },
    {
      state: 'open',
      concurrencyLimit: 0,
      consecutiveFailures: 1,
      openUntil: 4_000,
      openedBy: 'retry_after',
      slow: false,
    },
  );
  assert.equal(gate.allowance('ep', 4_000), 1);
  // Asked to wait a day: held for maxOpenMs.
  attempt('slow_down', 4_100, { retryAfterMs: 86_400_000 });
  assert.equal(gate.circuit('ep', 4_100).openUntil, 12_100);
  // 429 / 503 without Retry-After: the limit halves.
  const other = gateWith();
  other.attempt('slow_down', 1);
  assert.equal(other.gate.allowance('ep', 2), 2);
});

test('an endpoint not heard of for idleMs is forgotten; an open one is kept', () => {
  const { gate, attempt } = gateWith({ idleMs: 1_000 });
  attempt('answered', 0);
  gate.report('other', { verdict: 'failed', epoch: 0, slow: false }, 0);
  for (let i = 0; i < 5; i++) gate.report('open', { verdict: 'failed', epoch: gate.epoch('open'), slow: false }, 0);
  assert.deepEqual([...gate.allowances(500).keys()].sort(), ['ep', 'open', 'other']);
  assert.deepEqual([...gate.allowances(1_000).keys()], ['open']);
  assert.equal(gate.allowance('ep', 1_000), 4);
});

test('property: the allowance stays within [0, max] and an open circuit lets nothing through until its time', () => {
  const report = fc.record({
    verdict: fc.constantFrom('answered', 'failed', 'slow_down' as const),
    stale: fc.boolean(),
    retryAfterMs: fc.option(fc.integer({ min: 0, max: 20_000 }), { nil: undefined }),
    slow: fc.boolean(),
    dt: fc.integer({ min: 0, max: 3_000 }),
  });
  fc.assert(
    fc.property(fc.array(report, { maxLength: 200 }), (reports) => {
      const gate = createMemoryGate(OPTIONS);
      let now = 0;
      for (const r of reports) {
        now += r.dt;
        const epoch = Math.max(0, gate.epoch('ep') - (r.stale ? 1 : 0));
        gate.report('ep', { verdict: r.verdict, epoch, slow: r.slow, retryAfterMs: r.retryAfterMs }, now);
        const view = gate.circuit('ep', now);
        const a = gate.allowance('ep', now);
        if (a < 0 || a > OPTIONS.max || !Number.isInteger(a)) return false;
        if (view.state === 'open' && (a !== 0 || (view.openUntil as number) <= now)) return false;
        if (view.state === 'half_open' && a !== 1) return false;
      }
      return true;
    }),
  );
});
