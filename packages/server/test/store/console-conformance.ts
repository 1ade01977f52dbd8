import assert from 'node:assert/strict';
import { afterEach, beforeEach, describe, test } from 'node:test';
import { newId } from '../../src/ids.ts';
import type { EndpointRow, MessageRow, NewEndpoint, Outcome, Store } from '../../src/store/types.ts';
import { newEndpoint, newMessage } from './fixtures.ts';

// Attempts are found by the time in their ids, which never go back (ids.ts): the test's clock
// runs ahead of every id made so far.
const T0 = Date.now() + 24 * 3_600_000;
const MIN = 60_000;

/** The operator console's reads (deliveryTimeline, troubledEndpoints), for every backend. */
export function consoleConformance(
  name: string,
  factory: () => Promise<{ store: Store; cleanup: () => Promise<void> }>,
) {
  describe(`Store conformance, the operator's console: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    beforeEach(async () => {
      ({ store, cleanup } = await factory());
    });
    afterEach(async () => {
      await store.close();
      await cleanup();
    });

    const app = (rateLimit: number | null = null) =>
      store.createApplication({ id: newId('app'), uid: null, name: `app-${rateLimit}`, metadata: {}, rateLimit }, T0);
    const endpoint = (appId: string, over: Partial<NewEndpoint> = {}) =>
      store.createEndpoint(newEndpoint(appId, newId('ep'), over), T0);
    const send = async (appId: string, at: number): Promise<MessageRow> =>
      (await store.createMessage(newMessage(appId, at), {})).message;

    /** Claims what is due at `at` and records for each the outcome `ok` says, made at `madeAt`. */
    async function attempt(at: number, madeAt: number, recordedAt: number, ok: boolean, durationMs: number) {
      const claimed = await store.claimDeliveries({ workerId: 'w', now: at, leaseMs: 1000, limit: 10 });
      assert.ok(claimed.length > 0, 'something was due');
      const outcomes: Outcome[] = claimed.map((c) => ({
        deliveryId: c.id,
        attempt: attemptOf(c.message, c.endpoint, ok, madeAt, durationMs),
        ...(ok ? {} : { nextAttemptAt: T0 + 1000 * MIN }),
      }));
      await store.recordOutcomes(outcomes, recordedAt);
      return claimed;
    }

    test('the timeline: the queue at the start, and per bucket what joined it, left it and was attempted', async () => {
      const a = await app();
      await endpoint(a.id);
      // Delivered before the window: in none of it.
      await send(a.id, T0 - 2 * MIN);
      await attempt(T0 - 110_000, T0 - 105_000, T0 - 100_000, true, 50);
      // Waiting when the window starts, delivered in its second minute.
      await send(a.id, T0 - 90_000);
      // Joins in the first minute, fails there (and is retried later: it stays queued).
      await send(a.id, T0 + 30_000);
      const first = await store.claimDeliveries({ workerId: 'w', now: T0 + 40_000, leaseMs: 1000, limit: 10 });
      assert.equal(first.length, 2);
      const [early, late] = [...first].sort((x, y) => x.message.createdAt - y.message.createdAt) as [
        (typeof first)[number],
        (typeof first)[number],
      ];
      await store.recordOutcomes(
        [
          {
            deliveryId: late.id,
            attempt: attemptOf(late.message, late.endpoint, false, T0 + 42_000, 7),
            nextAttemptAt: T0 + 1000 * MIN,
          },
        ],
        T0 + 45_000,
      );
      await store.recordOutcomes(
        [{ deliveryId: early.id, attempt: attemptOf(early.message, early.endpoint, true, T0 + 72_000, 3) }],
        T0 + 75_000,
      );

      const t = await store.deliveryTimeline({ since: T0, until: T0 + 3 * MIN, bucketMs: MIN });
      assert.equal(t.queuedAtStart, 1);
      assert.deepEqual(t.buckets, [
        { start: T0, enqueued: 1, finished: 0, attempts: 1, failed: 1, durationMsSum: 7, durationMsMax: 7 },
        { start: T0 + MIN, enqueued: 0, finished: 1, attempts: 1, failed: 0, durationMsSum: 3, durationMsMax: 3 },
        { start: T0 + 2 * MIN, enqueued: 0, finished: 0, attempts: 0, failed: 0, durationMsSum: 0, durationMsMax: 0 },
      ]);
      // A window before anything happened is empty; one partly past `until` is cut at it.
      const before = await store.deliveryTimeline({ since: T0 - 10 * MIN, until: T0 - 9 * MIN, bucketMs: MIN });
      assert.deepEqual(before, {
        queuedAtStart: 0,
        buckets: [
          {
            start: T0 - 10 * MIN,
            enqueued: 0,
            finished: 0,
            attempts: 0,
            failed: 0,
            durationMsSum: 0,
            durationMsMax: 0,
          },
        ],
      });
      const cut = await store.deliveryTimeline({ since: T0, until: T0 + 90_000, bucketMs: MIN });
      assert.equal(cut.buckets.length, 2);
      assert.equal(cut.buckets[1]?.attempts, 1);
    });

    test('troubled endpoints: disabled first, then the longest failing, then throttled ones with a backlog', async () => {
      const a = await app();
      const throttled = await app(5);
      const fine = await endpoint(a.id, { filterTypes: ['other'] });
      const disabled = await endpoint(a.id, { disabled: true });
      const failing = await endpoint(a.id, { filterTypes: ['failing'] });
      const held = await endpoint(throttled.id);
      const idle = await endpoint(throttled.id, { filterTypes: ['nothing'] });
      await store.createMessage(newMessage(a.id, T0, { eventType: 'failing' }), {});
      await attempt(T0, T0 + 1, T0 + 2, false, 9);
      await send(throttled.id, T0 + 10);
      await send(throttled.id, T0 + 11);

      const found = await store.troubledEndpoints(10);
      assert.deepEqual(
        found.map((t) => t.endpoint.id),
        [disabled.id, failing.id, held.id],
      );
      const byId = new Map(found.map((t) => [t.endpoint.id, t]));
      assert.equal(byId.get(disabled.id)?.appName, a.name);
      assert.equal(byId.get(failing.id)?.endpoint.failingSince !== null, true);
      assert.equal(byId.get(failing.id)?.pending, 1);
      assert.deepEqual([byId.get(held.id)?.throttle, byId.get(held.id)?.pending], [5, 2]);
      assert.equal(byId.get(failing.id)?.throttle, null);
      for (const e of [fine, idle] as EndpointRow[]) assert.ok(!byId.has(e.id), 'neither failing nor held back');
      assert.deepEqual(
        (await store.troubledEndpoints(2)).map((t) => t.endpoint.id),
        [disabled.id, failing.id],
      );
    });
  });
}

function attemptOf(m: MessageRow, e: EndpointRow, ok: boolean, at: number, durationMs: number): Outcome['attempt'] {
  return {
    id: newId('atmpt', at),
    msgId: m.id,
    endpointId: e.id,
    appId: m.appId,
    url: e.url,
    status: ok ? 0 : 2,
    statusCode: ok ? 200 : 500,
    response: 'ok',
    durationMs,
    failureKind: ok ? null : 'http_status',
    failureMessage: null,
    tls: null,
    triggerType: 0,
    createdAt: at,
  };
}
