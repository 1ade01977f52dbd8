import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Svix } from 'svix';
import { OPERATIONAL_APP_ID } from '../../src/operational.ts';
import { type Harness, startWithSdk } from './harness.ts';

let h: Harness;
let svix: Svix;
before(async () => {
  ({ h, svix } = await startWithSdk());
});
after(() => h.close());

/** The operational events queued so far: event type, payload and the endpoints it goes to. */
async function queued(): Promise<{ type: string; data: Record<string, unknown>; to: string[] }[]> {
  const page = await h.store.listMessages(OPERATIONAL_APP_ID, { limit: 100, order: 'ascending' });
  const out = [];
  for (const m of page.data) {
    const dest = await h.store.listMessageDestinations(OPERATIONAL_APP_ID, m.id, { limit: 100 }, Date.now());
    const body = JSON.parse(m.payload) as { type: string; timestamp: string; data: Record<string, unknown> };
    assert.equal(body.type, m.eventType);
    assert.ok(Number.isFinite(Date.parse(body.timestamp)));
    out.push({ type: body.type, data: body.data, to: dest.data.map((d) => d.endpoint.id).sort() });
  }
  return out;
}

test('before any operational endpoint exists, endpoint changes queue nothing and create no application', async () => {
  const app = await svix.application.create({ name: 'Early' });
  await svix.endpoint.create(app.id, { url: 'https://early.example/hook' });
  assert.equal(await h.store.getApplication(OPERATIONAL_APP_ID), undefined);
});

test('operational endpoints through the svix SDK: create, list, get, update, secrets, headers, delete', async () => {
  const ep = await svix.operationalWebhookEndpoint.create({
    url: 'https://ops.example/hook',
    description: 'pager',
    filterTypes: ['endpoint.disabled'],
    metadata: { team: 'ops' },
    uid: 'pager',
  });
  assert.equal(ep.url, 'https://ops.example/hook');
  assert.deepEqual(ep.filterTypes, ['endpoint.disabled']);
  assert.deepEqual(
    (await svix.operationalWebhookEndpoint.list()).data.map((e) => e.id),
    [ep.id],
  );
  assert.equal((await svix.operationalWebhookEndpoint.get('pager')).id, ep.id);
  const updated = await svix.operationalWebhookEndpoint.update(ep.id, {
    url: 'https://ops.example/hook2',
    filterTypes: ['endpoint.disabled', 'message.attempt.exhausted'],
  });
  assert.equal(updated.url, 'https://ops.example/hook2');
  const { key } = await svix.operationalWebhookEndpoint.getSecret(ep.id);
  assert.match(key, /^whsec_/);
  await svix.operationalWebhookEndpoint.rotateSecret(ep.id, {});
  assert.notEqual((await svix.operationalWebhookEndpoint.getSecret(ep.id)).key, key);
  await svix.operationalWebhookEndpoint.updateHeaders(ep.id, { headers: { 'x-team': 'ops' } });
  assert.deepEqual((await svix.operationalWebhookEndpoint.getHeaders(ep.id)).headers, { 'x-team': 'ops' });
  // The same checks as any endpoint's.
  await assert.rejects(
    svix.operationalWebhookEndpoint.create({ url: 'ftp://ops.example/' }),
    (e: { code: number }) => e.code === 422,
  );
  await svix.operationalWebhookEndpoint.delete(ep.id);
  await assert.rejects(svix.operationalWebhookEndpoint.get(ep.id), (e: { code: number }) => e.code === 404);

  // The operator's application is none of the customers': not listed, not reachable as one.
  assert.ok(!(await svix.application.list({ limit: 250 })).data.some((a) => a.id === OPERATIONAL_APP_ID));
  // Left out by the query, not from a fetched page: paging one at a time meets every customer's
  // application and no empty page ('app_hookwarden_…' sorts after every generated id).
  const customers = new Set((await svix.application.list({ limit: 250 })).data.map((a) => a.id));
  const walked: string[] = [];
  let iterator: string | null | undefined;
  for (let i = 0; i <= customers.size; i++) {
    const page = await svix.application.list({ limit: 1, order: 'descending' as never, iterator });
    assert.equal(page.data.length, page.done ? page.data.length : 1, 'no empty page before the end');
    walked.push(...page.data.map((a) => a.id));
    if (page.done) break;
    iterator = page.iterator;
  }
  assert.deepEqual(new Set(walked), customers);
  await assert.rejects(svix.application.get(OPERATIONAL_APP_ID), (e: { code: number }) => e.code === 404);
  // Nor can a customer's application take its id as a uid (lookups try ids first).
  await assert.rejects(
    svix.application.getOrCreate({ name: 'x', uid: OPERATIONAL_APP_ID }),
    (e: { code: number }) => e.code === 422,
  );
  const other = await svix.application.create({ name: 'Other' });
  await assert.rejects(
    svix.application.patch(other.id, { uid: OPERATIONAL_APP_ID }),
    (e: { code: number }) => e.code === 422,
  );
  await assert.rejects(
    svix.message.create(OPERATIONAL_APP_ID, { eventType: 'endpoint.disabled', payload: {} }),
    (e: { code: number }) => e.code === 404,
  );
  await assert.rejects(
    svix.authentication.appPortalAccess(OPERATIONAL_APP_ID, {}),
    (e: { code: number }) => e.code === 404,
  );

  // Application tokens may not see or touch them.
  const mine = await svix.application.create({ name: 'Mine' });
  const { token } = await svix.authentication.appPortalAccess(mine.id, {});
  const portal = new Svix(token, { serverUrl: h.url });
  await assert.rejects(portal.operationalWebhookEndpoint.list(), (e: { code: number }) => e.code === 403);
  await assert.rejects(
    portal.operationalWebhookEndpoint.create({ url: 'https://evil.example/' }),
    (e: { code: number }) => e.code === 403,
  );
});

test("a customer's endpoint created, changed, disabled by hand and deleted queues an event each, to the endpoints whose filters match", async () => {
  const all = await svix.operationalWebhookEndpoint.create({ url: 'https://all.example/hook' });
  const deletions = await svix.operationalWebhookEndpoint.create({
    url: 'https://deletions.example/hook',
    filterTypes: ['endpoint.deleted'],
  });
  const before = (await queued()).length;
  const app = await svix.application.create({ name: 'Customer', uid: 'customer' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://customer.example/hook', uid: 'main' });
  await svix.endpoint.patch(app.id, ep.id, { disabled: true });
  // Changes to the operator's own endpoints raise nothing (a failing one would feed itself).
  await svix.operationalWebhookEndpoint.update(all.id, { url: 'https://all.example/hook', description: 'x' });
  await svix.endpoint.delete(app.id, ep.id);

  const about = { appId: app.id, appUid: 'customer', endpointId: ep.id, endpointUid: 'main' };
  const events = (await queued()).slice(before);
  assert.deepEqual(
    events.map((e) => [e.type, e.to]),
    [
      ['endpoint.created', [all.id]],
      ['endpoint.updated', [all.id]],
      ['endpoint.disabled', [all.id]],
      ['endpoint.deleted', [all.id, deletions.id].sort()],
    ],
  );
  assert.deepEqual(events[0]?.data, about);
  assert.deepEqual(events[2]?.data, { ...about, failSince: null, trigger: 'manual' });
  assert.deepEqual(events[3]?.data, about);
});
