import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { Svix } from 'svix';
import { type Harness, startWithSdk } from './harness.ts';

let h: Harness;
let svix: Svix;

before(async () => {
  ({ h, svix } = await startWithSdk());
});
after(() => h.close());

test('the svix SDK manages applications, with uid, pagination and get_if_exists', async () => {
  const a = await svix.application.create({ name: 'Acme', uid: 'acme', metadata: { plan: 'pro' } });
  assert.match(a.id, /^app_/);
  assert.equal(a.uid, 'acme');
  assert.ok(a.createdAt instanceof Date && !Number.isNaN(a.createdAt.getTime()));
  assert.equal((await svix.application.get('acme')).id, a.id);
  const again = await svix.application.getOrCreate({ name: 'Acme', uid: 'acme' });
  assert.equal(again.id, a.id);
  await assert.rejects(svix.application.create({ name: 'dup', uid: 'acme' }), (e: { code: number }) => e.code === 409);
  for (let i = 0; i < 4; i++) await svix.application.create({ name: `n${i}` });
  const seen = new Set<string>();
  let iterator: string | null = null;
  for (let i = 0; i < 10; i++) {
    const page = await svix.application.list({ limit: 2, iterator });
    for (const app of page.data) seen.add(app.id);
    if (page.done) break;
    iterator = page.iterator;
  }
  assert.equal(seen.size, 5);
  const updated = await svix.application.update(a.id, { name: 'Acme 2', uid: 'acme' });
  assert.equal(updated.name, 'Acme 2');
  const patched = await svix.application.patch(a.id, { metadata: { plan: 'free' } });
  assert.deepEqual(patched.metadata, { plan: 'free' });
});

test("the svix SDK's throttleRate and rateLimit are one setting, on applications and endpoints", async () => {
  // Newer SDKs send throttleRate, older ones rateLimit: either sets it, and both names read it back.
  const app = await svix.application.create({ name: 'Throttled', throttleRate: 20 });
  assert.equal(app.throttleRate, 20);
  assert.equal(app.rateLimit, 20);
  assert.equal((await svix.application.patch(app.id, { rateLimit: 30 })).throttleRate, 30);
  // A patch that names neither keeps it.
  assert.equal((await svix.application.patch(app.id, { name: 'Renamed' })).throttleRate, 30);
  const ep = await svix.endpoint.create(app.id, { url: 'https://receiver.example/t', throttleRate: 5 });
  assert.equal(ep.rateLimit, 5);
  assert.equal((await svix.endpoint.patch(app.id, ep.id, { throttleRate: null })).rateLimit, null);
  // Both names with different values: the caller's bug, named.
  const both = await h.request('POST', '/api/v1/app', { name: 'x', rateLimit: 1, throttleRate: 2 });
  assert.equal(both.status, 422);
  assert.deepEqual(both.body.detail[0].loc, ['body', 'throttleRate']);
  const same = await h.request('POST', '/api/v1/app', { name: 'x', rateLimit: 2, throttleRate: 2 });
  assert.equal(same.status, 201);
  // The application a message creates on the fly (MessageIn.application) takes either name too.
  await svix.message.create('made-by-message', {
    eventType: 'e',
    payload: {},
    application: { name: 'On the fly', uid: 'made-by-message', throttleRate: 9 },
  });
  assert.equal((await svix.application.get('made-by-message')).rateLimit, 9);
  const clash = await h.request('POST', '/api/v1/app/other-by-message/msg', {
    eventType: 'e',
    payload: {},
    application: { name: 'x', rateLimit: 1, throttleRate: 2 },
  });
  assert.equal(clash.status, 422);
  assert.deepEqual(clash.body.detail[0].loc, ['body', 'application', 'throttleRate']);
});

test('the svix SDK manages event types, endpoints, secrets, headers, messages', async () => {
  await svix.eventType.create({ name: 'invoice.paid', description: 'An invoice was paid' });
  assert.equal((await svix.eventType.get('invoice.paid')).description, 'An invoice was paid');
  assert.ok((await svix.eventType.list()).data.some((t) => t.name === 'invoice.paid'));

  const app = await svix.application.create({ name: 'Shop' });
  const ep = await svix.endpoint.create(app.id, {
    url: 'https://receiver.example/hook',
    filterTypes: ['invoice.paid'],
    channels: ['eu'],
    uid: 'main',
  });
  assert.deepEqual(ep.filterTypes, ['invoice.paid']);
  assert.equal((await svix.endpoint.get(app.id, 'main')).id, ep.id);
  const { key } = await svix.endpoint.getSecret(app.id, ep.id);
  assert.match(key, /^whsec_/);
  await svix.endpoint.rotateSecret(app.id, ep.id, {});
  assert.notEqual((await svix.endpoint.getSecret(app.id, ep.id)).key, key);
  await svix.endpoint.updateHeaders(app.id, ep.id, { headers: { 'X-Tenant': 'shop' } });
  assert.deepEqual((await svix.endpoint.getHeaders(app.id, ep.id)).headers, { 'X-Tenant': 'shop' });
  const upd = await svix.endpoint.update(app.id, ep.id, {
    url: 'https://receiver.example/v2',
    filterTypes: ['invoice.paid'],
  });
  assert.equal(upd.url, 'https://receiver.example/v2');
  assert.equal(upd.channels, null);

  const before = h.enqueued();
  const msg = await svix.message.create(app.id, {
    eventType: 'invoice.paid',
    payload: { amount: 42 },
    eventId: 'evt-42',
  });
  assert.match(msg.id, /^msg_/);
  assert.deepEqual(msg.payload, { amount: 42 });
  assert.equal(h.enqueued(), before + 1);
  const dup = await svix.message.create(app.id, {
    eventType: 'invoice.paid',
    payload: { amount: 43 },
    eventId: 'evt-42',
  });
  assert.equal(dup.id, msg.id);
  assert.equal(h.enqueued(), before + 1, 'a repeated eventId enqueues nothing');
  const same = await svix.message.create(
    app.id,
    { eventType: 'invoice.paid', payload: { n: 1 } },
    { idempotencyKey: 'k-1' },
  );
  const replay = await svix.message.create(
    app.id,
    { eventType: 'invoice.paid', payload: { n: 2 } },
    { idempotencyKey: 'k-1' },
  );
  assert.equal(replay.id, same.id);
  assert.equal((await svix.message.get(app.id, msg.id)).eventId, 'evt-42');
  const list = await svix.message.list(app.id, { eventTypes: ['invoice.paid'] });
  assert.equal(list.data.length, 2);
  const attempts = await svix.messageAttempt.listByMsg(app.id, msg.id);
  assert.deepEqual(attempts.data, []);
  await svix.messageAttempt.resend(app.id, msg.id, ep.id);
  await svix.endpoint.recover(app.id, ep.id, { since: new Date(Date.now() - 60_000) });
  const ex = await svix.endpoint.sendExample(app.id, ep.id, { eventType: 'invoice.paid' });
  assert.equal(ex.eventType, 'invoice.paid');
  await svix.endpoint.delete(app.id, ep.id);
  await assert.rejects(svix.endpoint.get(app.id, ep.id), (e: { code: number }) => e.code === 404);
});

test('app-portal tokens see only their application; health answers', async () => {
  const mine = await svix.application.create({ name: 'Mine' });
  const other = await svix.application.create({ name: 'Other' });
  await svix.endpoint.create(other.id, { url: 'https://other.example/hook' });
  const { token } = await svix.authentication.appPortalAccess(mine.id, {});
  const scoped = new Svix(token, { serverUrl: h.url });
  const ep = await scoped.endpoint.create(mine.id, { url: 'https://mine.example/hook' });
  assert.equal((await scoped.endpoint.list(mine.id)).data[0]?.id, ep.id);
  await assert.rejects(scoped.endpoint.list(other.id), (e: { code: number }) => e.code === 403);
  await assert.rejects(scoped.application.get(other.id), (e: { code: number }) => e.code === 403);
  await assert.rejects(scoped.application.list(), (e: { code: number }) => e.code === 403);
  await assert.rejects(
    scoped.message.create(other.id, { eventType: 'x', payload: {} }),
    (e: { code: number }) => e.code === 403,
  );
  await svix.health.get();
  await svix.application.delete(other.id);
  await assert.rejects(svix.application.get(other.id), (e: { code: number }) => e.code === 404);
});

test('a message can create its application inline (MessageIn.application), by the uid in the path', async () => {
  const msg = await svix.message.create('inline-shop', {
    eventType: 'order.placed',
    payload: { order: 1 },
    application: { name: 'Inline Shop', metadata: { plan: 'free' } },
  });
  const app = await svix.application.get('inline-shop');
  assert.equal(app.name, 'Inline Shop');
  assert.equal(app.uid, 'inline-shop');
  assert.deepEqual(app.metadata, { plan: 'free' });
  assert.equal((await svix.message.get(app.id, msg.id)).eventType, 'order.placed');
  // Once it exists, `application` is ignored: no second application, no rename.
  await svix.message.create('inline-shop', { eventType: 'order.placed', payload: {}, application: { name: 'Other' } });
  assert.equal((await svix.application.get('inline-shop')).name, 'Inline Shop');
  const named = (await svix.application.list({ limit: 250 })).data.filter((a) => a.uid === 'inline-shop');
  assert.equal(named.length, 1);

  // A uid in the body other than the path's, or an unknown application id, is refused, naming why.
  await assert.rejects(
    svix.message.create('inline-two', { eventType: 'e', payload: {}, application: { name: 'n', uid: 'else' } }),
    (e: { code: number; body?: { detail?: unknown } }) => e.code === 422 && JSON.stringify(e.body).includes('uid'),
  );
  await assert.rejects(
    svix.message.create('app_01M8HC8ATMF08Q60EAKM2P5ETE', { eventType: 'e', payload: {}, application: { name: 'n' } }),
    (e: { code: number }) => e.code === 422,
  );
  await assert.rejects(svix.application.get('inline-two'), (e: { code: number }) => e.code === 404);

  // An application's own token cannot create another application this way.
  const { token } = await svix.authentication.appPortalAccess(app.id, {});
  const scoped = new Svix(token, { serverUrl: h.url });
  await assert.rejects(
    scoped.message.create('inline-three', { eventType: 'e', payload: {}, application: { name: 'n' } }),
    (e: { code: number }) => e.code === 403,
  );
  await assert.rejects(svix.application.get('inline-three'), (e: { code: number }) => e.code === 404);
});

test("the svix SDK lists a message's destinations and an endpoint's stats", async () => {
  const app = await svix.application.create({ name: 'Stats' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://stats.example/hook', uid: 'stats-ep' });
  await svix.endpoint.create(app.id, { url: 'https://other.example/hook', filterTypes: ['never.sent'] });
  const msg = await svix.message.create(app.id, { eventType: 'order.placed', payload: { n: 1 } });
  const dest = await svix.messageAttempt.listAttemptedDestinations(app.id, msg.id);
  assert.equal(dest.data.length, 1);
  const [d] = dest.data;
  assert.equal(d?.id, ep.id);
  assert.equal(d?.uid, 'stats-ep');
  assert.equal(d?.status, 1); // pending: no dispatcher runs in this harness
  assert.equal(d?.statusText, 'pending');
  assert.ok(d?.nextAttempt instanceof Date);
  const stats = await svix.endpoint.getStats(app.id, 'stats-ep');
  assert.deepEqual({ ...stats }, { success: 0, pending: 1, sending: 0, fail: 0, canceled: 0 });
  const later = await svix.endpoint.getStats(app.id, ep.id, { since: new Date(Date.now() + 60_000) });
  assert.equal(later.pending, 0);
  await assert.rejects(
    svix.messageAttempt.listAttemptedDestinations(app.id, 'msg_missing'),
    (e: { code: number }) => e.code === 404,
  );
});

test('the svix SDK replays the messages an endpoint missed, once', async () => {
  const app = await svix.application.create({ name: 'Replay' });
  const msg = await svix.message.create(app.id, { eventType: 'order.placed', payload: { n: 1 } });
  const ep = await svix.endpoint.create(app.id, { url: 'https://late.example/hook' });
  assert.equal((await svix.messageAttempt.listAttemptedDestinations(app.id, msg.id)).data.length, 0);
  const out = await svix.endpoint.replayMissing(app.id, ep.id, { since: new Date(Date.now() - 60_000) });
  assert.equal(out.task, 'endpoint.replay');
  assert.equal(out.status, 'finished');
  const dest = await svix.messageAttempt.listAttemptedDestinations(app.id, msg.id);
  assert.deepEqual(
    dest.data.map((d) => d.id),
    [ep.id],
  );
  await svix.endpoint.replayMissing(app.id, ep.id, { since: new Date(Date.now() - 60_000) });
  assert.equal((await svix.endpoint.getStats(app.id, ep.id)).pending, 1);
});

test("the svix SDK lists an endpoint's messages with their status", async () => {
  const app = await svix.application.create({ name: 'Sent' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://sent.example/hook' });
  const m1 = await svix.message.create(app.id, { eventType: 'order.placed', payload: { n: 1 }, tags: ['vip'] });
  const m2 = await svix.message.create(app.id, { eventType: 'order.shipped', payload: { n: 2 } });
  const all = await svix.messageAttempt.listAttemptedMessages(app.id, ep.id);
  assert.deepEqual(
    all.data.map((m) => [m.id, m.statusText]),
    [
      [m2.id, 'pending'],
      [m1.id, 'pending'],
    ],
  );
  assert.deepEqual(all.data[1]?.payload, { n: 1 });
  assert.ok(all.data[0]?.timestamp instanceof Date);
  const vip = await svix.messageAttempt.listAttemptedMessages(app.id, ep.id, { tag: 'vip', withContent: false });
  assert.deepEqual(
    vip.data.map((m) => m.id),
    [m1.id],
  );
  assert.deepEqual(vip.data[0]?.payload, {});
  const tagged = await svix.message.list(app.id, { tag: 'vip' });
  assert.deepEqual(
    tagged.data.map((m) => m.id),
    [m1.id],
  );
});

test('the svix SDK bulk-replays what an endpoint was sent, by filter', async () => {
  const app = await svix.application.create({ name: 'Bulk' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://bulk.example/hook' });
  const since = new Date(Date.now() - 60_000);
  await svix.message.create(app.id, { eventType: 'a.b', payload: {} });
  await svix.message.create(app.id, { eventType: 'c.d', payload: {}, tags: ['vip'] });
  const byTag = await svix.endpoint.bulkReplay(app.id, ep.id, { since, tag: 'vip' });
  assert.equal(byTag.task, 'endpoint.bulk-replay');
  assert.equal(byTag.status, 'finished');
  // One original delivery each, and the tagged message replayed once.
  const sent = await svix.messageAttempt.listAttemptedMessages(app.id, ep.id);
  assert.equal(sent.data.length, 2);
  const claimed = await h.store.claimDeliveries({ workerId: 'w', now: Date.now(), leaseMs: 60_000, limit: 100 });
  const mine = claimed
    .filter((c) => c.endpoint.id === ep.id)
    .map((c) => c.message.eventType)
    .sort();
  assert.deepEqual(mine, ['a.b', 'c.d', 'c.d']);
  const bad = await h.request('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/bulk-replay`, {
    since: since.toISOString(),
    statusCodeClass: 250,
  });
  assert.equal(bad.status, 422);
});
