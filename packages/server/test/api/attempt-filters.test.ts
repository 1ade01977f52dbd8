import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { newId } from '../../src/ids.ts';
import { startApi } from './harness.ts';

let h: Awaited<ReturnType<typeof startApi>>;
before(async () => {
  h = await startApi();
});
after(() => h.close());

/** Records one attempt per claimed row, with the status code `codeOf` gives its endpoint. */
async function attempt(codeOf: (endpointId: string) => number, now: number) {
  const claimed = await h.store.claimDeliveries({ workerId: 'w', now, leaseMs: 1000, limit: 10 });
  await h.store.recordOutcomes(
    claimed.map((c) => {
      const code = codeOf(c.endpoint.id);
      return {
        deliveryId: c.id,
        ...(code >= 400 ? { nextAttemptAt: now + 1 } : {}),
        attempt: {
          id: newId('atmpt', now),
          msgId: c.message.id,
          endpointId: c.endpoint.id,
          appId: c.message.appId,
          url: c.endpoint.url,
          status: code >= 400 ? 2 : 0,
          statusCode: code,
          response: '',
          durationMs: 1,
          failureKind: code >= 400 ? 'http_status' : null,
          failureMessage: null,
          tls: null,
          triggerType: 0,
          createdAt: now,
        },
      } as const;
    }),
    now,
  );
}

test("a message's attempts filter by endpoint (id or uid) and status-code class in the query, pages full", async () => {
  const app = (await h.request('POST', '/api/v1/app', { name: 'filters' })).body.id as string;
  const first = (await h.request('POST', `/api/v1/app/${app}/endpoint`, { url: 'https://one.example/h' })).body.id;
  const second = (
    await h.request('POST', `/api/v1/app/${app}/endpoint`, { url: 'https://two.example/h', uid: 'second' })
  ).body.id;
  const msg = (await h.request('POST', `/api/v1/app/${app}/msg`, { eventType: 'e', payload: {} })).body.id;
  const t = Date.now();
  await attempt((ep) => (ep === first ? 500 : 200), t);
  await attempt(() => 200, t + 10);
  const list = async (q: string) => {
    const res = await h.request('GET', `/api/v1/app/${app}/attempt/msg/${msg}?${q}`);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    return res.body as { data: { endpointId: string; responseStatusCode: number }[]; done: boolean; iterator: string };
  };
  const one = await list(`endpoint_id=${first}&limit=1`);
  assert.deepEqual([one.data.length, one.done], [1, false]);
  const two = await list(`endpoint_id=${first}&limit=1&iterator=${one.iterator}`);
  assert.deepEqual([two.data.length, two.done], [1, true]);
  assert.deepEqual(
    [...one.data, ...two.data].map((a) => [a.endpointId, a.responseStatusCode]),
    [
      [first, 200],
      [first, 500],
    ],
  );
  const byUid = await list('endpoint_id=second&limit=1');
  assert.deepEqual(
    byUid.data.map((a) => a.endpointId),
    [second],
  );
  assert.equal(byUid.done, true);
  assert.deepEqual((await list('endpoint_id=no-such-endpoint')).data, []);
  assert.deepEqual(
    (await list('status_code_class=500')).data.map((a) => a.responseStatusCode),
    [500],
  );
  const ofEndpoint = await h.request('GET', `/api/v1/app/${app}/attempt/endpoint/${first}?status_code_class=200`);
  assert.deepEqual(
    ofEndpoint.body.data.map((a: { responseStatusCode: number }) => a.responseStatusCode),
    [200],
  );
});
