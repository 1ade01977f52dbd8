import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Withdrawn } from '../../src/dispatcher/dispatcher.ts';
import { startApi } from './harness.ts';

// Rows the dispatcher has claimed but not started must not start once their endpoint is deleted or
// disabled, their message expunged or their application deleted: the API tells it.
const told: Withdrawn[] = [];
const changed: string[] = [];
let h: Awaited<ReturnType<typeof startApi>>;
before(async () => {
  h = await startApi({
    onWithdrawn: (w) => told.push(w),
    onEndpointChanged: (e) => changed.push(`${e.id}${e.disabled ? ' disabled' : ''}`),
  });
});
after(() => h.close());

test('changing, deleting an endpoint, expunging and deleting tell the dispatcher what it holds', async () => {
  const app = (await h.request('POST', '/api/v1/app', { name: 'w' })).body.id as string;
  const endpoint = async () =>
    (await h.request('POST', `/api/v1/app/${app}/endpoint`, { url: 'https://receiver.example/hook' })).body
      .id as string;
  const [kept, disabled, deleted] = [await endpoint(), await endpoint(), await endpoint()];
  const msg = (await h.request('POST', `/api/v1/app/${app}/msg`, { eventType: 'e', payload: {} })).body.id as string;

  assert.equal(
    (await h.request('PATCH', `/api/v1/app/${app}/endpoint/${kept}`, { url: 'https://moved.example/' })).status,
    200,
  );
  assert.equal((await h.request('POST', `/api/v1/app/${app}/endpoint/${kept}/secret/rotate`, {})).status, 204);
  assert.equal(
    (await h.request('PUT', `/api/v1/app/${app}/endpoint/${kept}/headers`, { headers: { 'x-a': '1' } })).status,
    204,
  );
  assert.equal((await h.request('PATCH', `/api/v1/app/${app}/endpoint/${disabled}`, { disabled: true })).status, 200);
  assert.deepEqual(changed, [kept, kept, kept, `${disabled} disabled`]);
  assert.equal((await h.request('DELETE', `/api/v1/app/${app}/endpoint/${deleted}`)).status, 204);
  assert.equal((await h.request('DELETE', `/api/v1/app/${app}/msg/${msg}/content`)).status, 204);
  assert.equal((await h.request('POST', `/api/v1/app/${app}/msg/expunge-all-contents`)).status, 202);
  assert.equal((await h.request('DELETE', `/api/v1/app/${app}`)).status, 204);
  assert.deepEqual(told, [{ endpointId: deleted }, { msgId: msg }, { appId: app }, { appId: app }]);
});
