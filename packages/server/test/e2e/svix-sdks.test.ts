import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { Webhook } from 'standardwebhooks';
import { Svix as Svix1 } from 'svix';
import { Svix as Svix2 } from 'svix2';
import type { RunningServer } from '../../src/server.ts';
import { callApi, type Received, startServerWithReceiver, waitFor } from './receiver.ts';

// The same flows through the Svix SDK of each major version a user may have: 1.x (`svix`, which
// names an endpoint's event types `filterTypes` and calls upserts `update`) and 2.x (`svix2`, an
// alias of the current `svix`: `eventTypes`, `upsert`). Real server, dispatcher and mTLS receiver.

const TOKEN = 'e2e-admin-token-sdks-0123456789';

/** What differs between the SDK versions; the rest is called the same way on both. */
interface Sdk {
  name: string;
  client(token: string, serverUrl: string): Svix1;
  /** The endpoint field naming the event types it receives. */
  typesField: 'filterTypes' | 'eventTypes';
  /** PUT: create or replace. */
  upsertApp(svix: Svix1, id: string, body: { name: string; uid?: string }): Promise<{ id: string; name: string }>;
  upsertEndpoint(svix: Svix1, app: string, ep: string, body: Record<string, unknown>): Promise<EndpointSeen>;
  upsertEventType(svix: Svix1, name: string, body: { description: string; featureFlags?: string[] }): Promise<unknown>;
}
type EndpointSeen = { id: string; uid?: string | null } & Record<string, unknown>;

// Both clients are driven through the 1.x typings; where 2.x differs, the adapter calls its own.
const v2 = (svix: Svix1) => svix as unknown as Svix2;
const SDKS: Sdk[] = [
  {
    name: 'svix 1.x',
    client: (token, serverUrl) => new Svix1(token, { serverUrl }),
    typesField: 'filterTypes',
    upsertApp: (svix, id, body) => svix.application.update(id, body),
    upsertEndpoint: (svix, app, ep, body) =>
      svix.endpoint.update(app, ep, body as never) as unknown as Promise<EndpointSeen>,
    upsertEventType: (svix, name, body) => svix.eventType.update(name, body),
  },
  {
    name: 'svix 2.x',
    client: (token, serverUrl) => new Svix2(token, { serverUrl }) as unknown as Svix1,
    typesField: 'eventTypes',
    upsertApp: (svix, id, body) => v2(svix).application.upsert(id, body),
    upsertEndpoint: (svix, app, ep, body) =>
      v2(svix).endpoint.upsert(app, ep, body as never) as unknown as Promise<EndpointSeen>,
    upsertEventType: (svix, name, body) => v2(svix).eventType.upsert(name, body),
  },
];

type ApiError = { code: number; body: { code?: string; detail?: unknown } };
/** The SDK's error for a refused call: its HTTP status and Svix's code in the body. */
const refusedWith = (status: number, code: string) => (e: ApiError) => {
  assert.equal(e.code, status, JSON.stringify(e.body));
  assert.equal(e.body.code, code, JSON.stringify(e.body));
  return true;
};

let e2e: Awaited<ReturnType<typeof startServerWithReceiver>>;
let server: RunningServer;
let receiver: Awaited<ReturnType<typeof startServerWithReceiver>>['receiver'];
let pki: Awaited<ReturnType<typeof startServerWithReceiver>>['pki'];

before(async () => {
  e2e = await startServerWithReceiver({ token: TOKEN });
  ({ server, receiver, pki } = e2e);
});
after(() => e2e?.close());

/** The deliveries the receiver got that verify under `secret`: those sent to that endpoint. */
function deliveredTo(secret: string): Received[] {
  const wh = new Webhook(secret);
  return receiver.received.filter((r) => {
    try {
      wh.verify(r.body, r.headers as Record<string, string>);
      return true;
    } catch {
      return false;
    }
  });
}

for (const sdk of SDKS) {
  describe(sdk.name, () => {
    let svix: Svix1;
    const tag = sdk.typesField === 'filterTypes' ? 'v1' : 'v2';
    before(() => {
      svix = sdk.client(TOKEN, server.url);
    });

    test('applications: create, get by uid, upsert (update and create), patch, list, delete; errors carry Svix codes', async () => {
      const app = await svix.application.create({ name: 'Shop', uid: `shop-${tag}` });
      assert.equal((await svix.application.get(`shop-${tag}`)).id, app.id);
      assert.equal((await sdk.upsertApp(svix, app.id, { name: 'Shop 2', uid: `shop-${tag}` })).name, 'Shop 2');
      // PUT on a uid that names nothing creates the application, with that uid.
      const made = await sdk.upsertApp(svix, `made-${tag}`, { name: 'Made by upsert' });
      assert.equal((await svix.application.get(`made-${tag}`)).id, made.id);
      assert.equal((await svix.application.patch(made.id, { name: 'Patched' })).name, 'Patched');
      const listed = await svix.application.list({ limit: 250, excludeAppsWithNoEndpoints: true });
      assert.ok(!listed.data.some((a) => a.id === made.id), 'an application without endpoints is left out');

      await assert.rejects(svix.application.create({ name: 'dup', uid: `shop-${tag}` }), refusedWith(409, 'conflict'));
      await assert.rejects(svix.application.create({ name: '' }), (e: ApiError) => {
        assert.equal(e.code, 422);
        assert.deepEqual((e.body.detail as { loc: string[] }[])[0]?.loc, ['body', 'name']);
        return true;
      });
      await svix.application.delete(made.id);
      await assert.rejects(svix.application.get(made.id), refusedWith(404, 'not_found'));
    });

    test('event types: create, upsert (update and create), feature flags, duplicate, delete', async () => {
      const name = `invoice.${tag}.paid`;
      await svix.eventType.create({ name, description: 'Paid' });
      await assert.rejects(
        svix.eventType.create({ name, description: 'again' }),
        refusedWith(409, 'event_type_exists'),
      );
      await sdk.upsertEventType(svix, name, { description: 'Paid, updated' });
      assert.equal((await svix.eventType.get(name)).description, 'Paid, updated');
      const beta = `beta.${tag}.thing`;
      await sdk.upsertEventType(svix, beta, { description: 'Created by upsert', featureFlags: ['beta'] });
      assert.deepEqual((await svix.eventType.get(beta)).featureFlags, ['beta']);
      // A portal token sees a flagged type only when it holds the flag.
      const app = await svix.application.create({ name: 'Flags' });
      const plain = sdk.client((await svix.authentication.appPortalAccess(app.id, {})).token, server.url);
      const flagged = sdk.client(
        (await svix.authentication.appPortalAccess(app.id, { featureFlags: ['beta'] })).token,
        server.url,
      );
      await assert.rejects(plain.eventType.get(beta), refusedWith(404, 'not_found'));
      assert.equal((await flagged.eventType.get(beta)).name, beta);
      assert.ok(!(await plain.eventType.list({ limit: 250 })).data.some((t) => t.name === beta));
      await svix.eventType.delete(beta);
      assert.equal((await svix.eventType.get(beta)).archived, true);
      await assert.rejects(svix.eventType.get(`missing.${tag}`), refusedWith(404, 'not_found'));
    });

    test(`endpoints filter by ${sdk.typesField}: a real delivery reaches only the endpoints whose types match; attempts are listed`, async () => {
      const app = await svix.application.create({ name: 'Deliveries', uid: `deliveries-${tag}` });
      const filtered = await svix.endpoint.create(app.id, {
        url: receiver.url,
        uid: 'filtered',
        [sdk.typesField]: ['invoice.paid'],
      } as never);
      assert.deepEqual((filtered as unknown as EndpointSeen)[sdk.typesField], ['invoice.paid']);
      const all = await svix.endpoint.create(app.id, { url: receiver.url });
      // The SDK knows nothing of our extensions: trust the receiver's private CA with a plain PATCH.
      for (const ep of [filtered, all]) {
        const res = await callApi(server.url, TOKEN, 'PATCH', `/api/v1/app/${app.id}/endpoint/${ep.id}`, {
          serverCa: pki.receiverCaPem,
        });
        assert.equal(res.status, 200, JSON.stringify(res.body));
      }
      const filteredKey = (await svix.endpoint.getSecret(app.id, filtered.id)).key;
      const allKey = (await svix.endpoint.getSecret(app.id, all.id)).key;

      const before = e2e.recorded();
      const paid = await svix.message.create(app.id, { eventType: 'invoice.paid', payload: { n: 1 } });
      const other = await svix.message.create(app.id, { eventType: 'order.shipped', payload: { n: 2 } });
      await waitFor(() => deliveredTo(allKey).length >= 2, receiver.onRequest, 20_000, 'deliveries');
      await waitFor(() => e2e.recorded() >= before + 3, e2e.onRecorded, 20_000, 'attempts');
      assert.deepEqual(
        deliveredTo(filteredKey).map((r) => r.headers['webhook-id']),
        [paid.id],
        'the filtered endpoint got the matching type only',
      );
      assert.deepEqual(
        deliveredTo(allKey)
          .map((r) => r.headers['webhook-id'])
          .sort(),
        [paid.id, other.id].sort(),
      );

      const byMsg = await svix.messageAttempt.listByMsg(app.id, other.id);
      assert.deepEqual(
        byMsg.data.map((a) => [a.endpointId, a.status]),
        [[all.id, 0]],
      );
      const attempt = await svix.messageAttempt.get(app.id, other.id, byMsg.data[0]?.id as string);
      assert.equal(attempt.responseStatusCode, 200);
      const byEndpoint = await svix.messageAttempt.listByEndpoint(app.id, filtered.id, { withMsg: true });
      assert.deepEqual(
        byEndpoint.data.map((a) => a.msgId),
        [paid.id],
      );
      assert.deepEqual(byEndpoint.data[0]?.msg?.payload, { n: 1 });
      assert.equal((await svix.message.get(app.id, paid.id)).eventType, 'invoice.paid');
      const destinations = await svix.messageAttempt.listAttemptedDestinations(app.id, other.id);
      assert.deepEqual(
        destinations.data.map((d) => d.id),
        [all.id],
      );

      // Upsert: the uid a PUT names is created, then replaced (keeping the uid its path names); the
      // types field comes back as sent. Every URL here is the loopback receiver's.
      const made = await sdk.upsertEndpoint(svix, app.id, 'by-upsert', {
        url: `https://localhost:${receiver.port}/upsert`,
        [sdk.typesField]: ['a.b'],
      });
      assert.equal(made.uid, 'by-upsert');
      const replaced = await sdk.upsertEndpoint(svix, app.id, 'by-upsert', {
        url: `https://localhost:${receiver.port}/v2`,
        [sdk.typesField]: ['c.d'],
      });
      assert.equal(replaced.id, made.id);
      assert.deepEqual(replaced[sdk.typesField], ['c.d']);
      assert.equal((await svix.endpoint.get(app.id, 'by-upsert')).url, `https://localhost:${receiver.port}/v2`);

      await assert.rejects(svix.endpoint.get(app.id, 'ep_missing'), refusedWith(404, 'not_found'));
      await assert.rejects(
        svix.endpoint.create(app.id, { url: receiver.url, uid: 'filtered' }),
        refusedWith(409, 'conflict'),
      );
      await assert.rejects(svix.endpoint.create(app.id, { url: 'not a url' }), (e: ApiError) => {
        assert.equal(e.code, 422);
        assert.deepEqual((e.body.detail as { loc: string[] }[])[0]?.loc, ['body', 'url']);
        return true;
      });
    });
  });
}
