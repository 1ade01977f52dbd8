import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Svix } from 'svix';
import { newId } from '../../src/ids.ts';
import { OPERATIONAL_APP_ID } from '../../src/operational.ts';
import { type Harness, startWithSdk } from './harness.ts';

let h: Harness;
let svix: Svix;
before(async () => {
  ({ h, svix } = await startWithSdk());
});
after(() => h.close());

test("no application gets the operator's application id, or another application's id, as its uid", async () => {
  const victim = await svix.application.create({ name: 'Victim' });
  for (const uid of [OPERATIONAL_APP_ID, victim.id, newId('app')]) {
    const created = await h.request('POST', '/api/v1/app', { name: 'Taker', uid });
    assert.equal(created.status, 422, uid);
    assert.deepEqual(created.body.detail[0].loc, ['body', 'uid']);
    const patched = await h.request('PATCH', `/api/v1/app/${victim.id}`, { uid });
    assert.equal(patched.status, 422, uid);
    // Nor through a message that creates its application inline.
    const inline = await h.request('POST', `/api/v1/app/${uid}/msg`, {
      eventType: 'x',
      payload: {},
      application: { name: 'Taker' },
    });
    assert.equal(inline.status, uid === victim.id ? 202 : 422, uid);
  }
  // The victim's own id still names the victim: that message went to it.
  assert.equal((await svix.message.list(victim.id)).data.length, 1);
  assert.equal(await h.store.getApplication(OPERATIONAL_APP_ID), undefined);
});

test("an application that holds the reserved id as its uid (an older database) never stands in for the operator's", async () => {
  const now = Date.now();
  const customer = await h.store.createApplication(
    { id: newId('app', now), uid: OPERATIONAL_APP_ID, name: 'Customer', metadata: {}, rateLimit: null },
    now,
  );
  const ep = await svix.operationalWebhookEndpoint.create({ url: 'https://ops.example/hook' });
  assert.equal((await h.store.listEndpoints(customer.id, { limit: 10 })).data.length, 0);
  const [stored] = (await h.store.listEndpoints(OPERATIONAL_APP_ID, { limit: 10 })).data;
  assert.equal(stored?.id, ep.id);
  // The customer's portal token sees none of it.
  const { token } = await svix.authentication.appPortalAccess(customer.id, {});
  const mine = await h.request('GET', `/api/v1/app/${customer.id}/endpoint`, undefined, token);
  assert.deepEqual(mine.body.data, []);
});
