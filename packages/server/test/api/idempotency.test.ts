import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Svix } from 'svix';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { Store } from '../../src/store/types.ts';
import { ADMIN_TOKEN, startApi } from './harness.ts';

/**
 * The store, with message creation held at a gate: a request stays inside its handler until the
 * test lets it go, so a retry can be sent while the first is still at work.
 */
function gatedStore() {
  const inner = openSqliteStore(':memory:');
  let open = true;
  let release: () => void = () => {};
  let gate = Promise.resolve();
  const waiting: (() => void)[] = [];
  let creates = 0;
  let lookups = 0;
  const lookupWaiters: { n: number; resolve: () => void }[] = [];
  const store: Store = {
    ...inner,
    async createMessage(...args) {
      creates++;
      for (const w of waiting.splice(0)) w();
      await gate;
      return inner.createMessage(...args);
    },
    async getIdempotent(...args) {
      const hit = await inner.getIdempotent(...args);
      lookups++;
      for (const w of lookupWaiters.filter((w) => w.n <= lookups)) {
        lookupWaiters.splice(lookupWaiters.indexOf(w), 1);
        w.resolve();
      }
      return hit;
    },
  };
  return {
    store,
    inner,
    creates: () => creates,
    lookups: () => lookups,
    hold() {
      open = false;
      gate = new Promise((resolve) => {
        release = resolve;
      });
    },
    release() {
      if (!open) release();
      open = true;
    },
    /** Resolves once a request is inside createMessage. */
    entered: () => new Promise<void>((resolve) => waiting.push(resolve)),
    /** Resolves once the store has answered `n` idempotency lookups in all. */
    lookedUp: (n: number) =>
      new Promise<void>((resolve) => {
        if (lookups >= n) resolve();
        else lookupWaiters.push({ n, resolve });
      }),
  };
}

let gated: ReturnType<typeof gatedStore>;
let h: Awaited<ReturnType<typeof startApi>>;
let svix: Svix;

before(async () => {
  gated = gatedStore();
  h = await startApi({ store: gated.store });
  svix = new Svix(ADMIN_TOKEN, { serverUrl: h.url });
});
after(async () => {
  await h.api.close();
  await gated.inner.close();
});

const post = (path: string, key: string, payload: unknown) =>
  h.request('POST', path, { eventType: 'order.placed', payload }, undefined, { 'idempotency-key': key });

test('a retry sent while the first request is still at work waits for it and gets its answer', async () => {
  const app = await svix.application.create({ name: 'In flight' });
  gated.hold();
  const entered = gated.entered();
  const lookupsBefore = gated.lookups();
  const first = post(`/api/v1/app/${app.id}/msg`, 'order-1', { n: 1 });
  await entered;
  // The retry has looked its key up (nothing stored yet) and now waits for the first.
  const retry = post(`/api/v1/app/${app.id}/msg`, 'order-1', { n: 1 });
  await gated.lookedUp(lookupsBefore + 2);
  gated.release();
  const [a, b] = await Promise.all([first, retry]);
  assert.equal(a.status, 202);
  assert.equal(b.status, 202);
  assert.equal(b.headers.get('idempotent-replayed'), 'true');
  assert.equal(b.body.id, a.body.id);
  assert.equal(gated.creates(), 1);
  assert.equal((await svix.message.list(app.id)).data.length, 1);
});

test('a retry of a request that failed without an answer to keep acts itself', async () => {
  const app = await svix.application.create({ name: 'Failed first' });
  const inner = gated.store.createMessage;
  let failNext = true;
  gated.store.createMessage = async (...args) => {
    if (failNext) {
      failNext = false;
      throw new Error('disk on fire');
    }
    return inner(...args);
  };
  try {
    const first = await post(`/api/v1/app/${app.id}/msg`, 'order-2', { n: 2 });
    assert.equal(first.status, 500);
    const retry = await post(`/api/v1/app/${app.id}/msg`, 'order-2', { n: 2 });
    assert.equal(retry.status, 202);
    assert.equal(retry.headers.get('idempotent-replayed'), null);
  } finally {
    gated.store.createMessage = inner;
  }
});

test("the same request through the application's uid, a trailing slash or a query string is replayed", async () => {
  const app = await svix.application.create({ name: 'Spellings', uid: 'shop-7' });
  const first = await post(`/api/v1/app/${app.id}/msg`, 'order-3', { n: 3 });
  assert.equal(first.status, 202);
  for (const path of [
    '/api/v1/app/shop-7/msg',
    `/api/v1/app/${app.id}/msg/`,
    `/api/v1/app/shop-7/msg?with_content=true`,
  ]) {
    const again = await post(path, 'order-3', { n: 3 });
    assert.equal(again.headers.get('idempotent-replayed'), 'true', path);
    assert.equal(again.body.id, first.body.id, path);
  }
  assert.equal((await svix.message.list(app.id)).data.length, 1);
  // Another key, or another route, is another request.
  assert.notEqual((await post(`/api/v1/app/shop-7/msg`, 'order-4', { n: 3 })).body.id, first.body.id);
  const other = await svix.application.create({ name: 'Other shop' });
  const elsewhere = await post(`/api/v1/app/${other.id}/msg`, 'order-3', { n: 3 });
  assert.equal(elsewhere.headers.get('idempotent-replayed'), null);
  assert.notEqual(elsewhere.body.id, first.body.id);
});

test('a retried message that created its application inline is replayed, not sent again', async () => {
  const send = () =>
    h.request(
      'POST',
      '/api/v1/app/new-shop/msg',
      { eventType: 'order.placed', payload: { n: 5 }, application: { name: 'New shop' } },
      undefined,
      { 'idempotency-key': 'order-5' },
    );
  const first = await send();
  assert.equal(first.status, 202);
  const retry = await send();
  assert.equal(retry.headers.get('idempotent-replayed'), 'true');
  assert.equal(retry.body.id, first.body.id);
  assert.equal((await svix.message.list('new-shop')).data.length, 1);
});

test('portal tokens are never kept for replay: a retry mints another, and the first stays revocable', async () => {
  const app = await svix.application.create({ name: 'Portal' });
  const mint = () =>
    h.request('POST', `/api/v1/auth/app-portal-access/${app.id}`, {}, undefined, { 'idempotency-key': 'portal-1' });
  const first = await mint();
  assert.equal(first.status, 200);
  assert.equal((await h.request('POST', '/api/v1/auth/logout', undefined, first.body.token)).status, 204);
  const again = await mint();
  assert.equal(again.headers.get('idempotent-replayed'), null);
  assert.notEqual(again.body.token, first.body.token);
  assert.equal((await h.request('GET', `/api/v1/app/${app.id}/endpoint`, undefined, again.body.token)).status, 200);
});
