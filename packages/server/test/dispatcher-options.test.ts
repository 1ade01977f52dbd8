import assert from 'node:assert/strict';
import { test } from 'node:test';
import { verifySignature } from '@hookwarden/verify/signature';
import type { DeliveryRequest } from '../src/delivery/types.ts';
import { createDispatcher } from '../src/dispatcher/dispatcher.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import type { EndpointRow, NewEndpoint, Store } from '../src/store/types.ts';
import { newEndpoint } from './store/fixtures.ts';

test('dispatcher options are checked at creation, naming the field', async () => {
  const store = openSqliteStore(':memory:');
  const client = { deliver: async () => ({ ok: true, durationMs: 0, responseExcerpt: '' }) };
  const cases: [Record<string, unknown>, string][] = [
    [{ concurrency: 0 }, 'concurrency'],
    [{ concurrency: 4, perEndpointConcurrency: 8 }, 'perEndpointConcurrency'],
    [{ leaseMs: -1 }, 'leaseMs'],
    [{ retryScheduleMs: [] }, 'retryScheduleMs'],
    [{ retryScheduleMs: [0, -5] }, 'retryScheduleMs'],
    [{ jitter: 1 }, 'jitter'],
    [{ leaseMs: 1000, deliveryDeadlineMs: 600 }, 'leaseMs'],
  ];
  for (const [bad, field] of cases) {
    assert.throws(
      () => createDispatcher({ store, client, ...bad }),
      (err: { code: string; message: string }) => err.code === 'HW_OPTION_INVALID' && err.message.includes(field),
      field,
    );
  }
  await store.close();
});

/** A store with one application, one endpoint and these messages, all due. */
async function queueOf(endpoint: Partial<NewEndpoint>, messageIds: string[], appRateLimit: number | null = null) {
  const store = openSqliteStore(':memory:');
  await store.createApplication({ id: 'app_1', uid: null, name: 'a', metadata: {}, rateLimit: appRateLimit }, 1);
  await store.createEndpoint(newEndpoint('app_1', 'ep_1', endpoint), 1);
  for (const id of messageIds) {
    await store.createMessage(
      { id, appId: 'app_1', eventType: 'e', eventId: null, channels: null, tags: null, payload: '{}', createdAt: 1 },
      {},
    );
  }
  return store;
}

/** A client that answers 200 at once, telling `seen` about every request. */
function okClient(seen: (req: DeliveryRequest) => void = () => {}) {
  return {
    deliver: async (req: DeliveryRequest) => {
      seen(req);
      return { ok: true, statusCode: 200, durationMs: 0, responseExcerpt: '' };
    },
  };
}

/** An onRecorded that resolves `done` once `n` outcomes are durable. */
function recordedCount(n: number): { onRecorded: (batch: unknown[]) => void; done: Promise<void> } {
  let recorded = 0;
  let resolve!: () => void;
  const done = new Promise<void>((r) => {
    resolve = r;
  });
  return {
    done,
    onRecorded: (batch) => {
      recorded += batch.length;
      if (recorded >= n) resolve();
    },
  };
}

test('the last outcome in flight is written at once, not after flushMs', async () => {
  const store = await queueOf({}, ['msg_1', 'msg_2']);
  const recorded = recordedCount(2);
  // A flush interval far beyond the test's own timeout: only the idle flush can write in time.
  const dispatcher = createDispatcher({
    store,
    client: okClient(),
    now: () => 2,
    flushMs: 3_600_000,
    onRecorded: recorded.onRecorded,
  });
  dispatcher.start();
  await recorded.done;
  await dispatcher.stop();
  const attempts = await store.listAttemptsByMessage('app_1', 'msg_2', { limit: 10 });
  assert.equal(attempts.data.length, 1);
  await store.close();
});

/**
 * Sends eight messages through a dispatcher and returns when each was sent, in milliseconds after
 * the dispatcher started (real clock, the dispatcher's own).
 */
async function sendTimes(store: Store): Promise<number[]> {
  const sentAt: number[] = [];
  const recorded = recordedCount(8);
  const dispatcher = createDispatcher({
    store,
    client: okClient(() => sentAt.push(Date.now() - startedAt)),
    onRecorded: recorded.onRecorded,
  });
  const startedAt = Date.now();
  dispatcher.start();
  await recorded.done;
  await dispatcher.stop();
  await store.close();
  return sentAt;
}

const eight = Array.from({ length: 8 }, (_, i) => `msg_${i}`);

for (const [setOn, store] of [
  ['an endpoint', () => queueOf({ rateLimit: 5 }, eight)],
  // Svix: an application's limit applies to each of its endpoints that sets none.
  ['an application', () => queueOf({}, eight, 5)],
  // An endpoint's own limit overrides its application's (5 per second here, not 1000).
  ['an endpoint over its application', () => queueOf({ rateLimit: 5 }, eight, 1000)],
] as const) {
  test(`a rate limit set on ${setOn} spaces deliveries: a burst of one second's worth, then rate per second`, async () => {
    const sentAt = await sendTimes(await store());
    assert.equal(sentAt.length, 8);
    // Five tokens at once; the sixth is due 200 ms after the bucket filled, the eighth 600 ms. The
    // bucket fills when the dispatcher first reads its clock to start a row, after start() and a
    // little before the first send is seen, so the bounds count from start(). (Lower bounds only:
    // a slow machine spaces them further; without the limit all eight go within one claim.)
    assert.ok((sentAt[5] as number) >= 200, `6th after ${sentAt[5]} ms`);
    assert.ok((sentAt[7] as number) >= 600, `8th after ${sentAt[7]} ms`);
  });
}

test('a row that waits in the read-ahead past its lease is never started twice', async () => {
  // One delivery per second, and leases shorter than that: rows wait longer than their lease.
  const ids = ['msg_a', 'msg_b'];
  const store = await queueOf({ rateLimit: 1 }, ids);
  const sent: string[] = [];
  const recorded = recordedCount(2);
  const dispatcher = createDispatcher({
    store,
    client: okClient((req) => sent.push(req.headers['webhook-id'] as string)),
    leaseMs: 900,
    deliveryDeadlineMs: 400,
    pollMs: 50,
    onRecorded: recorded.onRecorded,
  });
  dispatcher.start();
  await recorded.done;
  // msg_b waited a second for its token, past its 900 ms lease: the copy claimed before was
  // dropped, not kept to be started a second time beside the one claimed after the lease ended.
  assert.equal(dispatcher.waiting, 0);
  await dispatcher.stop();
  assert.deepEqual([...sent].sort(), ids);
  await store.close();
});

test('a presigned signature is sent only within its second and before its until; otherwise signed afresh', async () => {
  const second = 1_764_320_000_000;
  const cases: [startAt: number, until: number, presignedSent: boolean][] = [
    [second + 400, second + 1000, true],
    // A later second: its timestamp would be stale.
    [second + 1000, second + 2000, false],
    // A secret expired at +300 (until), after the claim and before the start.
    [second + 400, second + 300, false],
  ];
  for (const [startAt, until, presignedSent] of cases) {
    const store = await queueOf({}, ['msg_1']);
    const claim = store.claimDeliveries.bind(store);
    // As the store's thread hands them over (delivery/signing.ts); a marker value, to see which is sent.
    store.claimDeliveries = async (o) =>
      (await claim(o)).map((d) => ({ ...d, presigned: { timestamp: second / 1000, until, value: 'v1,presigned' } }));
    const sent: DeliveryRequest[] = [];
    const recorded = recordedCount(1);
    const dispatcher = createDispatcher({
      store,
      client: okClient((req) => sent.push(req)),
      now: () => startAt,
      onRecorded: recorded.onRecorded,
    });
    dispatcher.start();
    await recorded.done;
    await dispatcher.stop();
    const headers = sent[0]?.headers as Record<string, string>;
    assert.equal(headers['webhook-timestamp'], String(Math.floor(startAt / 1000)));
    if (presignedSent) assert.equal(headers['webhook-signature'], 'v1,presigned');
    else {
      const endpoint = (await store.getEndpoint('app_1', 'ep_1')) as EndpointRow;
      verifySignature({
        headers,
        body: '{}',
        secrets: endpoint.secrets.map((s) => s.key),
        now: () => startAt,
      });
    }
    await store.close();
  }
});

test("rows waiting for one endpoint's rate limit do not hold back other endpoints", { timeout: 30_000 }, async () => {
  const store = openSqliteStore(':memory:');
  await store.createApplication({ id: 'app_1', uid: null, name: 'a', metadata: {}, rateLimit: null }, 1);
  const endpoints = {
    limited: { rateLimit: 1, filterTypes: ['limited'] },
    slow: { filterTypes: ['slow'] },
    fast: { filterTypes: ['fast'] },
  };
  for (const [id, over] of Object.entries(endpoints)) {
    await store.createEndpoint(newEndpoint('app_1', id, { ...over, url: `https://${id}.example/hook` }), 1);
  }
  const enqueue = async (eventType: string, n: number) => {
    for (let i = 0; i < n; i++) {
      await store.createMessage(
        {
          id: `msg_${eventType}_${i}`,
          appId: 'app_1',
          eventType,
          eventId: null,
          channels: null,
          tags: null,
          payload: '{}',
          createdAt: 1,
        },
        {},
      );
    }
  };
  await enqueue('slow', 1);
  await enqueue('limited', 50);
  await enqueue('fast', 200);
  // The clock stands still: the limited endpoint gets its one token and no more, so its other rows
  // wait for the whole test, while the slow endpoint's one delivery is held until the end.
  let releaseSlow!: () => void;
  const slowHeld = new Promise<void>((r) => {
    releaseSlow = r;
  });
  let fast = 0;
  let allFast!: () => void;
  const fastDone = new Promise<void>((r) => {
    allFast = r;
  });
  const dispatcher = createDispatcher({
    store,
    now: () => 1_000,
    concurrency: 8,
    batchSize: 8,
    perEndpointConcurrency: 4,
    client: {
      deliver: async (req: DeliveryRequest) => {
        if (req.url.startsWith('https://slow.')) await slowHeld;
        if (req.url.startsWith('https://fast.') && ++fast === 200) allFast();
        return { ok: true, statusCode: 200, durationMs: 0, responseExcerpt: '' };
      },
    },
  });
  dispatcher.start();
  // Before the fix, the limited endpoint's waiting rows filled the read-ahead and no claim was made
  // while the slow delivery was in flight: this never resolved.
  await fastDone;
  assert.equal(fast, 200);
  assert.ok(dispatcher.waiting <= 8 + 4 * 8, `rows waiting: ${dispatcher.waiting}`);
  releaseSlow();
  await dispatcher.stop({ deadlineMs: 1_000 });
  await store.close();
});

test('stop: an outcome that lands during the last write is written before the leases are released', async () => {
  const store = await queueOf({}, ['msg_quick', 'msg_late']);
  const calls: string[] = [];
  let releaseWrite: (() => void) | undefined;
  let releaseLate!: () => void;
  const lateHeld = new Promise<void>((r) => {
    releaseLate = r;
  });
  const watched: Store = {
    ...store,
    async recordOutcomes(outcomes, now) {
      calls.push(`record ${outcomes.map((o) => o.attempt.msgId).join(',')}`);
      // The first write waits until the late delivery has finished meanwhile.
      if (releaseWrite === undefined) {
        await new Promise<void>((r) => {
          releaseWrite = r;
        });
      }
      return store.recordOutcomes(outcomes, now);
    },
    async releaseLeases(workerId, now) {
      calls.push('release');
      return store.releaseLeases(workerId, now);
    },
  };
  let quickSent!: () => void;
  const quick = new Promise<void>((r) => {
    quickSent = r;
  });
  const dispatcher = createDispatcher({
    store: watched,
    client: {
      deliver: async (req: DeliveryRequest) => {
        if (req.headers['webhook-id'] === 'msg_late') await lateHeld;
        else quickSent();
        return { ok: true, statusCode: 200, durationMs: 0, responseExcerpt: '' };
      },
    },
    flushMs: 3_600_000,
  });
  dispatcher.start();
  await quick;
  // The late delivery outlives the stop's deadline; it finishes while the quick one is written.
  const stopped = dispatcher.stop({ deadlineMs: 1 });
  while (releaseWrite === undefined) await new Promise((r) => setImmediate(r));
  releaseLate();
  await new Promise((r) => setImmediate(r));
  releaseWrite();
  await stopped;
  assert.deepEqual(calls, ['record msg_quick', 'record msg_late', 'release']);
  assert.equal((await store.listAttemptsByMessage('app_1', 'msg_late', { limit: 10 })).data.length, 1);
  await store.close();
});

/**
 * A dispatcher of one slot over msg_1 and msg_2 whose first delivery is held until `releaseFirst`:
 * meanwhile msg_2 waits in the read-ahead. Resolves once the first is in flight.
 */
async function firstHeld(n: number) {
  const store = await queueOf({}, ['msg_1', 'msg_2']);
  const sent: DeliveryRequest[] = [];
  let releaseFirst!: () => void;
  const held = new Promise<void>((r) => {
    releaseFirst = r;
  });
  let firstSent!: () => void;
  const inFlight = new Promise<void>((r) => {
    firstSent = r;
  });
  const recorded = recordedCount(n);
  const dispatcher = createDispatcher({
    store,
    concurrency: 1,
    client: {
      deliver: async (req: DeliveryRequest) => {
        sent.push(req);
        if (sent.length === 1) {
          firstSent();
          await held;
        }
        return { ok: true, statusCode: 200, durationMs: 0, responseExcerpt: '' };
      },
    },
    onRecorded: recorded.onRecorded,
  });
  dispatcher.start();
  await inFlight;
  /** Lets the first delivery finish, waits for `n` outcomes, stops. */
  const finish = async () => {
    releaseFirst();
    await recorded.done;
    await dispatcher.stop();
  };
  return { store, sent, dispatcher, finish };
}

test('withdrawn rows waiting to start never start; the one in flight finishes', async () => {
  const { store, sent, dispatcher, finish } = await firstHeld(1);
  const waitingBefore = dispatcher.waiting;
  // The endpoint is deleted (or disabled) meanwhile: its waiting rows are dropped.
  dispatcher.withdraw({ endpointId: 'ep_1' });
  const waitingAfter = dispatcher.waiting;
  await finish();
  assert.deepEqual(
    { waitingBefore, waitingAfter, sent: sent.map((r) => r.headers['webhook-id']) },
    { waitingBefore: 1, waitingAfter: 0, sent: ['msg_1'] },
  );
  await store.close();
});

test('410 from several deliveries in flight disables the endpoint once', async () => {
  const ids = ['msg_1', 'msg_2', 'msg_3', 'msg_4'];
  const store = await queueOf({}, ids);
  let arrived = 0;
  let answer!: () => void;
  const allArrived = new Promise<void>((r) => {
    answer = r;
  });
  const disabling: string[] = [];
  const recorded = recordedCount(4);
  const dispatcher = createDispatcher({
    store,
    concurrency: 4,
    perEndpointConcurrency: 4,
    client: {
      deliver: async () => {
        if (++arrived === 4) answer();
        await allArrived;
        return { ok: false, statusCode: 410, durationMs: 0, responseExcerpt: 'gone' };
      },
    },
    onRecorded: (batch) => {
      for (const o of batch as { disableEndpoint?: boolean; attempt: { msgId: string } }[]) {
        if (o.disableEndpoint) disabling.push(o.attempt.msgId);
      }
      recorded.onRecorded(batch);
    },
  });
  dispatcher.start();
  await recorded.done;
  await dispatcher.stop();
  assert.equal(disabling.length, 1, `disabled by ${disabling.join(', ')}`);
  assert.equal((await store.getEndpoint('app_1', 'ep_1'))?.disabled, true);
  const attempts = await Promise.all(ids.map((id) => store.listAttemptsByMessage('app_1', id, { limit: 10 })));
  assert.deepEqual(
    attempts.map((a) => a.data.map((x) => x.statusCode)),
    ids.map(() => [410]),
  );
  await store.close();
});

test('a changed endpoint: rows waiting to start go to its new URL, signed with its new secret', async () => {
  const { store, sent, dispatcher, finish } = await firstHeld(2);
  const secret = 'whsec_bmV3c2VjcmV0bmV3c2VjcmV0bmV3c2VjcmV0bmV3';
  const before = (await store.getEndpoint('app_1', 'ep_1')) as EndpointRow;
  const moved = await store.updateEndpoint(
    { ...before, url: 'https://moved.example/hook', secrets: [{ key: secret, expiresAt: null }] },
    Date.now(),
  );
  dispatcher.refresh(moved);
  await finish();
  const second = sent[1] as DeliveryRequest;
  assert.deepEqual(
    sent.map((r) => r.url),
    ['https://example.test/hook', 'https://moved.example/hook'],
  );
  const headers = second.headers as Record<string, string>;
  // Throws unless signed with the new secret (the claim had presigned it with the old one).
  verifySignature({
    headers,
    body: second.body as string,
    secrets: [secret],
    now: () => Number(headers['webhook-timestamp']) * 1000,
  });
  await store.close();
});
