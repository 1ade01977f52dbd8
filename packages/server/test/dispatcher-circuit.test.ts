import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { AttemptOutcome, DeliveryRequest } from '../src/delivery/types.ts';
import { createDispatcher } from '../src/dispatcher/dispatcher.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import { Status, type Store } from '../src/store/types.ts';
import { newEndpoint } from './store/fixtures.ts';

const MESSAGES = Array.from({ length: 10 }, (_, i) => `msg_${String(i).padStart(2, '0')}`);

async function queue(): Promise<Store> {
  const store = openSqliteStore(':memory:');
  await store.createApplication({ id: 'app_1', uid: null, name: 'a', metadata: {}, rateLimit: null }, 1);
  await store.createEndpoint(newEndpoint('app_1', 'ep_1', {}), 1);
  for (const id of MESSAGES) {
    await store.createMessage(
      { id, appId: 'app_1', eventType: 'e', eventId: null, channels: null, tags: null, payload: '{}', createdAt: 1 },
      {},
    );
  }
  return store;
}

/** Resolves when `cond()` holds, re-checked whenever `tick` is called. */
function until(cond: () => boolean): { done: Promise<void>; tick: () => void } {
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  const tick = () => {
    if (cond()) resolve();
  };
  return { done, tick };
}

test('the circuit opens after consecutive failures, probes with one delivery when its time is up, closes on an answer; no message loses an attempt to it', {
  timeout: 30_000,
}, async () => {
  const store = await queue();
  let clock = 1_000_000;
  let down = true;
  const calls: string[] = [];
  let recorded = 0;
  let claimsWhileOpen = 0;
  let circuitOpen = false;
  const waiters = new Set<() => void>();
  const tickAll = () => {
    for (const w of waiters) w();
  };
  const wait = async (cond: () => boolean) => {
    const u = until(cond);
    waiters.add(u.tick);
    u.tick();
    await u.done;
    waiters.delete(u.tick);
  };
  // Claims go to the real store; those made while the circuit is open are counted, and must not
  // hand out the endpoint's rows.
  const claim = store.claimDeliveries.bind(store);
  store.claimDeliveries = async (o) => {
    const rows = await claim(o);
    if (circuitOpen) {
      claimsWhileOpen++;
      assert.equal(o.endpointLimits?.get('ep_1'), 0, 'an open circuit claims nothing of its endpoint');
      tickAll();
    }
    return rows;
  };
  const dispatcher = createDispatcher({
    store,
    now: () => clock,
    pollMs: 5,
    perEndpointConcurrency: 4,
    // Three attempts in all per message, each due again at once: only the circuit spaces them.
    retryScheduleMs: [0, 0, 0],
    jitter: 0,
    circuit: { failureThreshold: 3, openMs: 10_000, maxOpenMs: 40_000 },
    client: {
      deliver: async (req: DeliveryRequest): Promise<AttemptOutcome> => {
        calls.push(req.headers['webhook-id'] as string);
        tickAll();
        return down
          ? {
              ok: false,
              durationMs: 0,
              responseExcerpt: '',
              failure: { kind: 'connect', message: 'could not connect (ECONNREFUSED)' },
            }
          : { ok: true, statusCode: 200, durationMs: 0, responseExcerpt: '' };
      },
    },
    onRecorded: (batch) => {
      recorded += batch.length;
      tickAll();
    },
  });
  dispatcher.start();

  // Four attempts start together (the initial limit) and fail: the third failure opens the circuit.
  await wait(() => recorded >= 4);
  const opened = dispatcher.circuit('ep_1');
  assert.equal(opened.state, 'open');
  assert.equal(opened.openedBy, 'failures');
  assert.equal(opened.openUntil, 1_010_000);
  assert.equal(calls.length, 4);

  // The clock stands still: claims go on, and none of them starts the endpoint's due rows.
  circuitOpen = true;
  await wait(() => claimsWhileOpen >= 5);
  circuitOpen = false;
  assert.equal(calls.length, 4, 'nothing was attempted while the circuit was open');
  // Every row is still to be sent (due, or claimed before the circuit opened and waiting here).
  const held = await store.endpointStats('ep_1', {}, clock);
  assert.deepEqual({ ...held, waiting: held.pending + held.sending }, { ...held, waiting: MESSAGES.length });
  assert.equal(held.fail, 0, 'none failed, none skipped');

  // Its time is up: one probe, though four could go; it fails, and the circuit stays open twice as long.
  clock += 10_000;
  await wait(() => recorded >= 5);
  assert.equal(calls.length, 5, 'one probe');
  assert.equal(dispatcher.circuit('ep_1').state, 'open');
  assert.equal(dispatcher.circuit('ep_1').openUntil, clock + 20_000);

  // The receiver is back: the next probe answers, the circuit closes, the rest follows.
  down = false;
  clock += 20_000;
  await wait(() => recorded >= 5 + MESSAGES.length);
  assert.equal(dispatcher.circuit('ep_1').state, 'closed');
  await dispatcher.stop();

  // Each message got all its attempts: as many recorded as were made, and every one delivered.
  for (const id of MESSAGES) {
    const attempts = (await store.listAttemptsByMessage('app_1', id, { limit: 10 })).data;
    const made = calls.filter((c) => c === id).length;
    assert.equal(attempts.length, made, id);
    assert.ok(made <= 3, `${id}: ${made} attempts, the schedule allows 3`);
    assert.equal(attempts.filter((a) => a.status === Status.success).length, 1, `${id} delivered`);
  }
  const stats = await store.endpointStats('ep_1', {}, clock);
  assert.deepEqual(stats, { success: MESSAGES.length, pending: 0, sending: 0, fail: 0, canceled: 0 });
  await store.close();
});
