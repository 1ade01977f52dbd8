import assert from 'node:assert/strict';
import { test } from 'node:test';
import { freePort, needPostgres, startPostgres } from '@hookwarden/testkit';
import { newId } from '../../src/ids.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';

const skip = needPostgres();
const T0 = 1_700_000_000_000;
const unavailable = { code: 'HW_STORE_UNAVAILABLE', status: 503 };

test('no database listening: opening the store fails as unavailable', { skip }, async () => {
  const port = await freePort();
  await assert.rejects(
    openPostgresStore({ url: `postgres://postgres@127.0.0.1:${port}/postgres`, connectTimeoutMs: 2000 }),
    unavailable,
  );
});

test('the database stopped and started again: calls fail as unavailable meanwhile, then work on new connections', {
  skip,
}, async () => {
  const pg = await startPostgres();
  const store = await openPostgresStore({ url: pg.url(), connectTimeoutMs: 2000, maxConnections: 2 });
  try {
    const app = await store.createApplication(
      { id: newId('app'), uid: null, name: 'kept', metadata: {}, rateLimit: null },
      T0,
    );
    // A crash: pooled connections die under the store.
    await pg.stop('immediate');
    await assert.rejects(store.getApplication(app.id), unavailable);
    await assert.rejects(store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 1000, limit: 10 }), unavailable);
    await pg.start();
    assert.deepEqual(await store.getApplication(app.id), app, 'what was committed is there, through a new connection');
  } finally {
    await store.close();
    await pg.destroy();
  }
  await assert.rejects(store.getApplication('x'), { code: 'HW_STORE_CLOSED' });
});
