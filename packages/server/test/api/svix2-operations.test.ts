import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Svix as Svix1 } from 'svix';
import { AppPortalCapability, Svix as Svix2 } from 'svix2';
import { newId } from '../../src/ids.ts';
import { ADMIN_TOKEN, type Harness, startApi } from './harness.ts';

// What svix 2 added or renamed, and the operations Svix had that were missing here.

let h: Harness;
let svix: Svix2;
let clock = Date.parse('2026-03-01T00:00:00Z');

before(async () => {
  h = await startApi({ now: () => clock });
  svix = new Svix2(ADMIN_TOKEN, { serverUrl: h.url });
});
after(() => h.close());

const refused = (status: number, code: string) => (e: { code: number; body: { code?: string } }) =>
  e.code === status && e.body.code === code;

test('eventTypes and filterTypes are one setting: either sets it, both answer it, two different values are a 422', async () => {
  const app = (await h.request('POST', '/api/v1/app', { name: 'types' })).body.id;
  for (const base of [`/api/v1/app/${app}/endpoint`, '/api/v1/operational-webhook/endpoint']) {
    const created = await h.request('POST', base, { url: 'https://r.example/a', eventTypes: ['a.b'] });
    assert.equal(created.status, 201, JSON.stringify(created.body));
    assert.deepEqual([created.body.eventTypes, created.body.filterTypes], [['a.b'], ['a.b']]);
    const id = created.body.id;
    const patched = await h.request('PATCH', `${base}/${id}`, { filterTypes: ['c.d'] });
    assert.deepEqual(patched.body.eventTypes, ['c.d']);
    const same = await h.request('PATCH', `${base}/${id}`, { filterTypes: ['e', 'f'], eventTypes: ['f', 'e'] });
    assert.equal(same.status, 200);
    for (const method of ['POST', 'PUT', 'PATCH']) {
      const path = method === 'POST' ? base : `${base}/${id}`;
      const both = await h.request(method, path, { url: 'https://r.example/a', eventTypes: ['x'], filterTypes: ['y'] });
      assert.equal(both.status, 422, `${method} ${path}`);
      assert.deepEqual(both.body.detail[0].loc, ['body', 'eventTypes']);
    }
    // PUT without either resets it to every type.
    assert.equal((await h.request('PUT', `${base}/${id}`, { url: 'https://r.example/a' })).body.eventTypes, null);
  }
  // The fan-out's match reads it: an application whose one endpoint takes a.b (svix 2's name).
  const only = (await h.request('POST', '/api/v1/app', { name: 'only' })).body.id;
  await h.request('POST', `/api/v1/app/${only}/endpoint`, { url: 'https://r.example/b', eventTypes: ['a.b'] });
  const active = async (eventType: string) =>
    (await h.request('POST', `/api/v1/app/${only}/msg/precheck/active`, { eventType })).body.active;
  assert.deepEqual([await active('a.b'), await active('c.d')], [true, false]);
});

test('PUT creates what is missing (201) and updates what exists (200), by id or uid', async () => {
  const made = await h.request('PUT', '/api/v1/app/acme-put', { name: 'Acme' });
  assert.equal(made.status, 201);
  assert.equal(made.body.uid, 'acme-put');
  const again = await h.request('PUT', '/api/v1/app/acme-put', { name: 'Acme 2' });
  assert.deepEqual([again.status, again.body.id, again.body.uid], [200, made.body.id, 'acme-put']);
  assert.equal(
    (await h.request('PUT', `/api/v1/app/${made.body.id}`, { name: 'Acme 3', uid: 'acme-put' })).status,
    200,
  );
  const otherUid = await h.request('PUT', '/api/v1/app/beta-put', { name: 'B', uid: 'gamma' });
  assert.deepEqual([otherUid.status, otherUid.body.detail[0].loc], [422, ['body', 'uid']]);
  const idShaped = await h.request('PUT', `/api/v1/app/${newId('app')}`, { name: 'B' });
  assert.deepEqual([idShaped.status, idShaped.body.detail[0].loc], [422, ['path', 'app_id']]);

  const base = `/api/v1/app/${made.body.id}/endpoint`;
  const ep = await h.request('PUT', `${base}/main`, { url: 'https://r.example/main', eventTypes: ['a'] });
  assert.deepEqual([ep.status, ep.body.uid], [201, 'main']);
  const epAgain = await h.request('PUT', `${base}/main`, { url: 'https://r.example/v2' });
  assert.deepEqual([epAgain.status, epAgain.body.id, epAgain.body.uid], [200, ep.body.id, 'main']);
  assert.equal((await h.request('PUT', `${base}/${ep.body.id}`, { url: 'https://r.example/v3' })).status, 200);
  assert.equal((await h.request('PUT', `${base}/${newId('ep')}`, { url: 'https://r.example/' })).status, 404);
  const otherEpUid = await h.request('PUT', `${base}/second`, { url: 'https://r.example/', uid: 'third' });
  assert.deepEqual([otherEpUid.status, otherEpUid.body.detail[0].loc], [422, ['body', 'uid']]);
  // A portal token may create endpoints, and so upsert one; never an application.
  const { token } = (await h.request('POST', `/api/v1/auth/app-portal-access/${made.body.id}`, {})).body;
  assert.equal((await h.request('PUT', `${base}/portal-made`, { url: 'https://r.example/p' }, token)).status, 201);
  assert.equal((await h.request('PUT', '/api/v1/app/tenant-made', { name: 'no' }, token)).status, 403);

  const et = await h.request('PUT', '/api/v1/event-type/order.put', { description: 'Created' });
  assert.deepEqual([et.status, et.body.name, et.body.description], [201, 'order.put', 'Created']);
  const etAgain = await h.request('PUT', '/api/v1/event-type/order.put', { description: 'Updated' });
  assert.deepEqual([etAgain.status, etAgain.body.description], [200, 'Updated']);
});

test('event types keep featureFlags (the older featureFlag is its single-item form); expunge deletes them', async () => {
  const et = await svix.eventType.create({ name: 'flags.one', description: 'd', featureFlags: ['beta', 'gamma'] });
  assert.deepEqual(et.featureFlags, ['beta', 'gamma']);
  const v1 = new Svix1(ADMIN_TOKEN, { serverUrl: h.url });
  const single = await v1.eventType.create({ name: 'flags.two', description: 'd', featureFlag: 'beta' });
  assert.deepEqual([single.featureFlags, single.featureFlag], [['beta'], 'beta']);
  assert.deepEqual((await svix.eventType.patch('flags.two', { featureFlags: null })).featureFlags, null);
  const clash = await h.request('POST', '/api/v1/event-type', {
    name: 'flags.three',
    description: 'd',
    featureFlag: 'a',
    featureFlags: ['b'],
  });
  assert.deepEqual([clash.status, clash.body.detail[0].loc], [422, ['body', 'featureFlags']]);
  // What export answers, import takes back.
  const exported = (await h.request('POST', '/api/v1/environment/export')).body;
  assert.equal((await h.request('POST', '/api/v1/environment/import', exported)).status, 204);
  assert.deepEqual((await svix.eventType.get('flags.one')).featureFlags, ['beta', 'gamma']);

  await svix.eventType.delete('flags.one');
  assert.equal((await svix.eventType.get('flags.one')).archived, true);
  assert.equal((await h.request('DELETE', '/api/v1/event-type/flags.one?expunge=true')).status, 204);
  await assert.rejects(svix.eventType.get('flags.one'), refused(404, 'not_found'));
  const fresh = await svix.eventType.create({ name: 'flags.one', description: 'new' });
  assert.deepEqual(fresh.featureFlags, null, 'a new type, not the archived one revived');
});

test('app-portal-access creates the application given inline, and honours expiry, readOnly and capabilities', async () => {
  const out = await svix.authentication.appPortalAccess('portal-inline', {
    application: { name: 'Inline', metadata: { plan: 'pro' } },
    expiry: 3600,
    readOnly: true,
  });
  const app = await svix.application.get('portal-inline');
  assert.deepEqual([app.name, app.uid, app.metadata], ['Inline', 'portal-inline', { plan: 'pro' }]);
  const portal = new Svix2(out.token, { serverUrl: h.url });
  assert.deepEqual((await portal.endpoint.list(app.id)).data, []);
  await assert.rejects(
    portal.endpoint.create(app.id, { url: 'https://r.example/' }),
    refused(403, 'insufficient access'),
  );
  // Given again for an existing application, `application` is ignored.
  await svix.authentication.appPortalAccess('portal-inline', { application: { name: 'Renamed' } });
  assert.equal((await svix.application.get('portal-inline')).name, 'Inline');
  const manage = await svix.authentication.appPortalAccess(app.id, {
    capabilities: [AppPortalCapability.ViewBase, AppPortalCapability.ManageEndpoint],
  });
  const manager = new Svix2(manage.token, { serverUrl: h.url });
  assert.ok((await manager.endpoint.create(app.id, { url: 'https://r.example/m' })).id);
  clock += 3600_000;
  await assert.rejects(portal.endpoint.list(app.id), refused(401, 'authentication_failed'));
  assert.equal((await manager.endpoint.list(app.id)).data.length, 1, 'the default expiry is longer');
  // A refused body creates nothing.
  const bad = await h.request('POST', '/api/v1/auth/app-portal-access/portal-never', {
    application: { name: 'x' },
    capabilities: ['ManageEndpoint'],
  });
  assert.equal(bad.status, 422);
  await assert.rejects(svix.application.get('portal-never'), refused(404, 'not_found'));
});

test('application lists leave out those with no endpoints, or with only disabled ones', async () => {
  const none = await svix.application.create({ name: 'none' });
  const on = await svix.application.create({ name: 'on' });
  await svix.endpoint.create(on.id, { url: 'https://r.example/on' });
  const off = await svix.application.create({ name: 'off' });
  await svix.endpoint.create(off.id, { url: 'https://r.example/off', disabled: true });
  const ours = new Set([none.id, on.id, off.id]);
  const list = async (o: object) =>
    (await svix.application.list({ limit: 250, ...o })).data.map((a) => a.id).filter((id) => ours.has(id));
  assert.deepEqual(await list({}), [none.id, on.id, off.id]);
  assert.deepEqual(await list({ excludeAppsWithNoEndpoints: true }), [on.id, off.id]);
  assert.deepEqual(await list({ excludeAppsWithDisabledEndpoints: true }), [none.id, on.id]);
  assert.deepEqual(await list({ excludeAppsWithSvixPlayEndpoints: true }), [none.id, on.id, off.id]);
});

test('statistics.aggregateEventTypes: per application, the types its endpoints name and whether one takes all', async () => {
  const a = await svix.application.create({ name: 'agg-a' });
  await svix.endpoint.create(a.id, { url: 'https://r.example/1', eventTypes: ['user.signup', 'user.deleted'] });
  await svix.endpoint.create(a.id, { url: 'https://r.example/2', eventTypes: ['user.signup'] });
  const b = await svix.application.create({ name: 'agg-b' });
  await svix.endpoint.create(b.id, { url: 'https://r.example/3' });
  const out = await svix.statistics.aggregateEventTypes();
  assert.deepEqual([out.task, out.status], ['event-type.aggregate', 'finished']);
  const data = (await svix.backgroundTask.get(out.id)).data.event_types as {
    appId: string;
    explicitlySubscribedEventTypes: string[];
    hasCatchAllEndpoint: boolean;
  }[];
  assert.deepEqual(
    data.filter((d) => d.appId === a.id || d.appId === b.id),
    [
      { appId: a.id, explicitlySubscribedEventTypes: ['user.deleted', 'user.signup'], hasCatchAllEndpoint: false },
      { appId: b.id, explicitlySubscribedEventTypes: [], hasCatchAllEndpoint: true },
    ],
  );
  const { token } = await svix.authentication.appPortalAccess(a.id, {});
  await assert.rejects(
    new Svix2(token, { serverUrl: h.url }).statistics.aggregateEventTypes(),
    refused(403, 'insufficient access'),
  );
});

test('integrations: created, listed, changed, deleted; their key acts on their application until rotated', async () => {
  const app = await svix.application.create({ name: 'integrated' });
  const other = await svix.application.create({ name: 'other' });
  const integ = await svix.integration.create(app.id, { name: 'Zapier', featureFlags: ['beta'] });
  assert.match(integ.id, /^integ_/);
  assert.deepEqual(integ.featureFlags, ['beta']);
  assert.deepEqual(
    (await svix.integration.list(app.id)).data.map((i) => i.id),
    [integ.id],
  );
  assert.equal((await svix.integration.update(app.id, integ.id, { name: 'Zapier 2' })).name, 'Zapier 2');
  assert.deepEqual((await svix.integration.get(app.id, integ.id)).featureFlags, []);
  await assert.rejects(svix.integration.get(other.id, integ.id), refused(404, 'not_found'));

  const v1 = new Svix1(ADMIN_TOKEN, { serverUrl: h.url });
  const { key } = await v1.integration.getKey(app.id, integ.id);
  assert.match(key, /^integsk_/);
  const asKey = new Svix2(key, { serverUrl: h.url });
  assert.ok((await asKey.endpoint.create(app.id, { url: 'https://r.example/k' })).id);
  await assert.rejects(asKey.endpoint.list(other.id), refused(403, 'insufficient access'));
  await assert.rejects(asKey.integration.list(app.id), refused(403, 'insufficient access'));
  await assert.rejects(asKey.authentication.logout(), refused(403, 'insufficient access'));

  const rotated = await svix.integration.rotateKey(app.id, integ.id);
  assert.notEqual(rotated.key, key);
  await assert.rejects(asKey.endpoint.list(app.id), refused(401, 'authentication_failed'));
  assert.equal((await v1.integration.getKey(app.id, integ.id)).key, rotated.key);
  const asNewKey = new Svix2(rotated.key, { serverUrl: h.url });
  assert.equal((await asNewKey.endpoint.list(app.id)).data.length, 1);
  await svix.integration.delete(app.id, integ.id);
  await assert.rejects(asNewKey.endpoint.list(app.id), refused(401, 'authentication_failed'));
  await assert.rejects(svix.integration.get(app.id, integ.id), refused(404, 'not_found'));
});

test("attempt lists leave the receiver's answer out with with_content=false; with_msg carries the payload", async () => {
  const app = await svix.application.create({ name: 'attempts' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://r.example/at' });
  const msg = await svix.message.create(app.id, { eventType: 'e', payload: { secret: 'payload' } });
  const [claimed] = (await h.store.claimDeliveries({ workerId: 'w', now: clock, leaseMs: 60_000, limit: 100 })).filter(
    (c) => c.message.id === msg.id,
  );
  assert.ok(claimed);
  await h.store.recordOutcomes(
    [
      {
        deliveryId: claimed.id,
        attempt: {
          id: newId('atmpt'),
          msgId: msg.id,
          endpointId: ep.id,
          appId: app.id,
          url: ep.url,
          status: 0,
          statusCode: 200,
          response: 'the receiver said this',
          durationMs: 5,
          failureKind: null,
          failureMessage: null,
          tls: null,
          triggerType: 0,
          createdAt: clock,
        },
      },
    ],
    clock,
  );
  // svix 2 asks for with_content=false by default; 1.x does not send it.
  const v1 = new Svix1(ADMIN_TOKEN, { serverUrl: h.url });
  assert.equal((await svix.messageAttempt.listByMsg(app.id, msg.id)).data[0]?.response, '{}');
  assert.equal((await svix.messageAttempt.listByEndpoint(app.id, ep.id)).data[0]?.response, '{}');
  assert.equal((await v1.messageAttempt.listByMsg(app.id, msg.id)).data[0]?.response, 'the receiver said this');
  const withContent = await svix.messageAttempt.listByEndpoint(app.id, ep.id, { withContent: true, withMsg: true });
  assert.equal(withContent.data[0]?.response, 'the receiver said this');
  assert.deepEqual(withContent.data[0]?.msg?.payload, { secret: 'payload' });
  assert.deepEqual((await svix.messageAttempt.listByEndpoint(app.id, ep.id, { withMsg: true })).data[0]?.msg?.payload, {
    secret: 'payload',
  });
});

test('endpoint headers read back without credential-like ones, which sensitive names; PATCH keeps them', async () => {
  const app = await svix.application.create({ name: 'headers' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://r.example/h' });
  await svix.endpoint.setHeaders(app.id, ep.id, {
    headers: { Authorization: 'Bearer s3cr3t', 'X-Api-Key': 'k', 'X-Auth-Token': 't', 'X-Tenant': 'acme' },
  });
  const got = await svix.endpoint.getHeaders(app.id, ep.id);
  assert.deepEqual(got.headers, { 'X-Tenant': 'acme' });
  assert.deepEqual([...got.sensitive].sort(), ['Authorization', 'X-Api-Key', 'X-Auth-Token']);
  assert.doesNotMatch(JSON.stringify(got), /s3cr3t/);
  await svix.endpoint.patchHeaders(app.id, ep.id, { headers: { 'X-Tenant': 'beta' } });
  assert.deepEqual((await svix.endpoint.getHeaders(app.id, ep.id)).sensitive.length, 3);
  const stored = await h.store.getEndpoint(app.id, ep.id);
  assert.equal(stored?.headers.Authorization, 'Bearer s3cr3t');
});

test('msg/bulk-expunge deletes the payloads of the messages named, by id or eventId', async () => {
  const app = await svix.application.create({ name: 'bulk' });
  const a = await svix.message.create(app.id, { eventType: 'e', payload: { a: 1 } });
  await svix.message.create(app.id, { eventType: 'e', payload: { b: 2 }, eventId: 'evt-b' });
  const out = await svix.message.bulkExpungeContent(app.id, { ids: [a.id, 'evt-b', 'msg_missing'] });
  assert.deepEqual(out.results, { [a.id]: 'expunged', 'evt-b': 'expunged', msg_missing: 'not-found' });
  assert.deepEqual((await svix.message.get(app.id, 'evt-b', { withContent: true })).payload, {});
});
