import assert from 'node:assert/strict';
import { test } from 'node:test';
import { startRetentionSweep } from '../src/retention.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';

const T0 = 1_764_000_000_000;

async function storeWith(expiring: number) {
  const store = openSqliteStore(':memory:');
  await store.createApplication({ id: 'app_1', uid: null, name: 'a', metadata: {}, rateLimit: null }, T0);
  await Promise.all(
    Array.from({ length: expiring }, (_, i) =>
      store.createMessage(
        {
          id: `msg_${String(i).padStart(5, '0')}`,
          appId: 'app_1',
          eventType: 'e',
          eventId: null,
          channels: null,
          tags: null,
          payload: '{"secret":1}',
          createdAt: T0,
        },
        { payloadExpiresAt: T0 + 1000 + i },
      ),
    ),
  );
  return store;
}

test('a sweep expunges every payload past its retention, in batches, and only those', async () => {
  const store = await storeWith(1_200);
  let clock = T0 + 1000 + 1_099; // the first 1,100 have expired
  const sweep = startRetentionSweep({ store, now: () => clock, intervalMs: 3_600_000 });
  assert.equal(await sweep.run(), 1_100);
  assert.equal(await sweep.run(), 0);
  assert.equal((await store.getMessage('app_1', 'msg_01099'))?.payload, '{}');
  assert.equal((await store.getMessage('app_1', 'msg_01100'))?.payload, '{"secret":1}');
  clock += 1_000;
  assert.equal(await sweep.run(), 100);
  // Idempotency replies (a copy of what a POST answered, payload included) go once expired.
  await store.putIdempotent('s', 'k', 202, '{"payload":1}', clock);
  await sweep.run();
  assert.equal(await store.deleteExpiredRecords(clock, 100), 0);
  await sweep.stop();
  await store.close();
});

test('the timer sweeps by itself and reports what it deleted', async () => {
  const store = await storeWith(3);
  // The sweep's own timer is unref'd (it never keeps a process alive): this one keeps the test's
  // process up, and fails it if no sweep comes.
  let guard: NodeJS.Timeout | undefined;
  const swept = new Promise<number>((resolve, reject) => {
    guard = setTimeout(() => reject(new Error('no sweep within 10 s')), 10_000);
    const sweep = startRetentionSweep({
      store,
      now: () => T0 + 10_000,
      intervalMs: 5,
      onSwept: (n) => {
        void sweep.stop().then(() => resolve(n));
      },
    });
  });
  assert.equal(await swept, 3);
  clearTimeout(guard);
  await store.close();
});
