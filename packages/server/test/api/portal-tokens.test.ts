import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { Svix } from 'svix';
import {
  ACTIONS,
  type Actor,
  CAPABILITIES,
  type Capability,
  can,
  grantOf,
  isAction,
} from '../../src/services/actor.ts';
import { type Harness, startWithSdk } from './harness.ts';

let h: Harness;
let svix: Svix;
// The API's clock, moved by the tests that need time to pass.
let clock = Date.UTC(2026, 0, 1);

before(async () => {
  ({ h, svix } = await startWithSdk({ now: () => clock }));
  await svix.eventType.create({ name: 'invoice.paid', description: 'An invoice was paid' });
});
after(() => h.close());

const refused = (status: number) => (e: { code: number }) => e.code === status;

/** An application with one endpoint and one message, and a portal token made with `access`. */
async function portal(access: { readOnly?: boolean; capabilities?: Capability[] }) {
  const app = await svix.application.create({ name: 'Portal' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://receiver.example/hook' });
  const msg = await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { n: 1 } });
  const { token } = await svix.authentication.appPortalAccess(app.id, access as never);
  return { app, ep, msg, token, as: new Svix(token, { serverUrl: h.url }) };
}

test('a read-only portal token reads its application and changes nothing', async () => {
  const { app, ep, msg, as } = await portal({ readOnly: true });
  assert.equal((await as.endpoint.list(app.id)).data[0]?.id, ep.id);
  assert.equal((await as.endpoint.get(app.id, ep.id)).url, 'https://receiver.example/hook');
  assert.equal((await as.message.get(app.id, msg.id)).eventType, 'invoice.paid');
  assert.equal((await as.message.precheck(app.id, { eventType: 'invoice.paid' })).active, true);
  await as.messageAttempt.listByMsg(app.id, msg.id);
  await as.endpoint.getStats(app.id, ep.id);
  // Every change, and the endpoint's secret and headers, are outside a read-only grant.
  await assert.rejects(as.endpoint.create(app.id, { url: 'https://x.example/' }), refused(403));
  await assert.rejects(as.endpoint.patch(app.id, ep.id, { description: 'x' }), refused(403));
  await assert.rejects(as.endpoint.delete(app.id, ep.id), refused(403));
  await assert.rejects(as.endpoint.getSecret(app.id, ep.id), refused(403));
  await assert.rejects(as.endpoint.rotateSecret(app.id, ep.id, {}), refused(403));
  await assert.rejects(as.endpoint.getHeaders(app.id, ep.id), refused(403));
  await assert.rejects(as.endpoint.sendExample(app.id, ep.id, { eventType: 'invoice.paid' }), refused(403));
  await assert.rejects(as.messageAttempt.resend(app.id, msg.id, ep.id), refused(403));
  await assert.rejects(as.message.create(app.id, { eventType: 'e', payload: {} }), refused(403));
  await assert.rejects(as.application.patch(app.id, { name: 'renamed' }), refused(403));
  assert.equal((await svix.endpoint.get(app.id, ep.id)).description, '');
});

test('capabilities grant exactly their routes', async () => {
  const secret = await portal({ capabilities: ['ViewBase', 'ViewEndpointSecret'] });
  assert.match((await secret.as.endpoint.getSecret(secret.app.id, secret.ep.id)).key, /^whsec_/);
  await assert.rejects(secret.as.endpoint.rotateSecret(secret.app.id, secret.ep.id, {}), refused(403));

  const rotate = await portal({ capabilities: ['ViewBase', 'ManageEndpointSecret'] });
  await rotate.as.endpoint.rotateSecret(rotate.app.id, rotate.ep.id, {});
  await assert.rejects(rotate.as.endpoint.create(rotate.app.id, { url: 'https://x.example/' }), refused(403));

  const attempts = await portal({ capabilities: ['ViewBase', 'CreateAttempts'] });
  await attempts.as.endpoint.sendExample(attempts.app.id, attempts.ep.id, { eventType: 'invoice.paid' });
  await attempts.as.messageAttempt.resend(attempts.app.id, attempts.msg.id, attempts.ep.id);
  await assert.rejects(attempts.as.endpoint.patch(attempts.app.id, attempts.ep.id, { description: 'x' }), refused(403));

  const manage = await portal({ capabilities: ['ViewBase', 'ManageEndpoint'] });
  const made = await manage.as.endpoint.create(manage.app.id, { url: 'https://new.example/' });
  await manage.as.endpoint.updateHeaders(manage.app.id, made.id, { headers: { 'x-tenant': 't1' } });
  assert.deepEqual((await manage.as.endpoint.getHeaders(manage.app.id, made.id)).headers, { 'x-tenant': 't1' });
  await manage.as.endpoint.delete(manage.app.id, made.id);
  // Sending messages is the platform's, not a portal's.
  await assert.rejects(manage.as.message.create(manage.app.id, { eventType: 'e', payload: {} }), refused(403));

  // Read-only wins over a capability that writes.
  const both = await portal({ readOnly: true, capabilities: ['ViewBase', 'ManageEndpoint'] });
  await assert.rejects(both.as.endpoint.create(both.app.id, { url: 'https://x.example/' }), refused(403));

  // A token made without either sees its whole application, as before.
  const full = await portal({});
  await full.as.endpoint.create(full.app.id, { url: 'https://full.example/' });
  const dashboard = await svix.authentication.dashboardAccess(full.app.id);
  await new Svix(dashboard.token, { serverUrl: h.url }).endpoint.getSecret(full.app.id, full.ep.id);
});

test('a portal request is refused when its capabilities are malformed', async () => {
  const app = await svix.application.create({ name: 'Bad' });
  const without = await h.request('POST', `/api/v1/auth/app-portal-access/${app.id}`, {
    capabilities: ['ManageEndpoint'],
  });
  assert.equal(without.status, 422);
  assert.deepEqual(without.body.detail[0].loc, ['body', 'capabilities']);
  const unknown = await h.request('POST', `/api/v1/auth/app-portal-access/${app.id}`, {
    capabilities: ['ViewBase', 'Root'],
  });
  assert.equal(unknown.status, 422);
});

test('logout ends an application token; the admin token cannot log out', async () => {
  const { app, token, as } = await portal({ capabilities: ['ViewBase'] });
  await as.endpoint.list(app.id);
  await as.authentication.logout();
  await assert.rejects(as.endpoint.list(app.id), refused(401));
  await assert.rejects(svix.authentication.logout(), refused(403));
  assert.equal((await h.request('GET', `/api/v1/app/${app.id}/endpoint`, undefined, token)).status, 401);
});

test("expire-all ends an application's tokens, by portal session if asked, now or after a grace period", async () => {
  const app = await svix.application.create({ name: 'Sessions' });
  const tokenFor = async (sessionId?: string) =>
    (await svix.authentication.appPortalAccess(app.id, sessionId ? { sessionId } : {})).token;
  const works = async (token: string) =>
    (await h.request('GET', `/api/v1/app/${app.id}/endpoint`, undefined, token)).status === 200;
  const [s1, s2, plain] = [await tokenFor('s1'), await tokenFor('s2'), await tokenFor()];
  const other = await svix.application.create({ name: 'Untouched' });
  const elsewhere = (await svix.authentication.appPortalAccess(other.id, {})).token;

  await svix.authentication.expireAll(app.id, { sessionIds: ['s1'] });
  assert.deepEqual([await works(s1), await works(s2), await works(plain)], [false, true, true]);

  await svix.authentication.expireAll(app.id, { expiry: 60 });
  assert.deepEqual([await works(s2), await works(plain)], [true, true]);
  clock += 60_000;
  assert.deepEqual([await works(s2), await works(plain)], [false, false]);
  // Another application's tokens are not touched.
  assert.equal((await h.request('GET', `/api/v1/app/${other.id}/endpoint`, undefined, elsewhere)).status, 200);

  const fresh = await tokenFor();
  await svix.authentication.expireAll(app.id);
  assert.equal(await works(fresh), false);

  // Only the admin token may do it, and the body is checked.
  const scoped = (await svix.authentication.appPortalAccess(other.id, {})).token;
  assert.equal((await h.request('POST', `/api/v1/auth/app/${other.id}/expire-all`, {}, scoped)).status, 403);
  assert.equal((await h.request('POST', `/api/v1/auth/app/${app.id}/expire-all`, { expiry: -1 })).status, 422);
  assert.equal((await h.request('POST', '/api/v1/auth/app/app_missing/expire-all', {})).status, 404);
});

const granted = (caps: Iterable<Capability>): Actor => ({
  kind: 'app',
  appId: 'app_x',
  grant: new Set(caps),
  featureFlags: [],
  tokenHash: '',
  integration: false,
});

test("property: a grant never takes the operator's actions; it takes another only with a capability the table lists", () => {
  const actions = Object.keys(ACTIONS) as (keyof typeof ACTIONS)[];
  fc.assert(
    fc.property(fc.subarray([...CAPABILITIES]), fc.constantFrom(...actions), (caps, action) => {
      const rule = ACTIONS[action] as { operator?: true; needs?: readonly Capability[] | 'any' };
      const allowed = can(granted(caps), action);
      if (rule.operator) return !allowed;
      if (rule.needs === 'any') return allowed;
      // The empty grant can do nothing but end itself; nothing reads without ViewBase.
      return allowed === (rule.needs ?? []).some((c) => caps.includes(c));
    }),
  );
  const all = granted(CAPABILITIES);
  assert.equal(can(all, 'message.create'), false);
  assert.equal(can(all, 'application.delete'), false);
  assert.equal(can(granted(['ViewBase']), 'endpoint.secret.read'), false);
  assert.equal(can(granted(['ViewBase']), 'endpoint.read'), true);
  // Without a grant, everything but the operator's.
  const whole: Actor = { ...all, grant: null } as Actor;
  assert.equal(can(whole, 'message.create'), true);
  assert.equal(can(whole, 'application.update'), false);
  assert.deepEqual(grantOf({ readOnly: true }), ['ViewBase']);
  assert.equal(grantOf({}), null);
  assert.deepEqual(grantOf({ readOnly: true, capabilities: ['ViewBase', 'ViewEndpointSecret', 'ManageEndpoint'] }), [
    'ViewBase',
    'ViewEndpointSecret',
  ]);
});

test('every route that needs a token names an action of the table (one without would be refused to every token)', async () => {
  const doc = (await h.request('GET', '/api/v1/openapi.json')).body as {
    paths: Record<string, Record<string, { security?: unknown[]; 'x-hookwarden-action'?: string }>>;
  };
  const named = new Set<string>();
  for (const [path, ops] of Object.entries(doc.paths)) {
    for (const [method, op] of Object.entries(ops)) {
      const action = op['x-hookwarden-action'];
      if (op.security?.length === 0) {
        assert.equal(action, undefined, `${method} ${path} needs no token`);
        continue;
      }
      assert.ok(isAction(action), `${method} ${path}: ${action} is not an action`);
      named.add(action as string);
    }
  }
  // The console's and the portal's own are taken by the portal, not by an API route.
  const portalOnly = new Set(['console.read']);
  for (const action of Object.keys(ACTIONS)) {
    if (!portalOnly.has(action)) assert.ok(named.has(action), `no route takes ${action}`);
  }
});

test("an application token cannot change its application: a uid it took would receive another customer's messages", async () => {
  const { app, as } = await portal({});
  await assert.rejects(as.application.patch(app.id, { uid: 'another-customer' }), refused(403));
  await assert.rejects(
    as.application.update(app.id, { name: 'Portal', uid: 'another-customer' } as never),
    refused(403),
  );
  await assert.rejects(as.application.delete(app.id), refused(403));
  const after = await svix.application.get(app.id);
  assert.equal(after.uid, null);
  assert.equal(after.name, 'Portal');
  // The admin still can.
  assert.equal((await svix.application.patch(app.id, { name: 'Renamed' })).name, 'Renamed');
});

test('dashboard-access takes no body: what is sent cannot make a token that never expires', async () => {
  const app = await svix.application.create({ name: 'Dashboard' });
  for (const body of [{ expiry: 'abc' }, { capabilities: 5 }, { expiry: -10 }, { expiry: 10 ** 12 }]) {
    const res = await h.request('POST', `/api/v1/auth/dashboard-access/${app.id}`, body);
    assert.equal(res.status, 200, JSON.stringify(res.body));
    const as = new Svix(res.body.token, { serverUrl: h.url });
    assert.equal((await as.application.get(app.id)).id, app.id, 'a token for the whole application');
    const start = clock;
    try {
      clock += 7 * 24 * 3600 * 1000 + 1000;
      await assert.rejects(as.application.get(app.id), refused(401), `${JSON.stringify(body)}: expired after 7 days`);
    } finally {
      clock = start;
    }
  }
});
