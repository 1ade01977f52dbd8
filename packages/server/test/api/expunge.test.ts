import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Svix } from 'svix';
import { newId } from '../../src/ids.ts';
import { Status } from '../../src/store/types.ts';
import { type Harness, startWithSdk } from './harness.ts';

let h: Harness;
let svix: Svix;

before(async () => {
  ({ h, svix } = await startWithSdk());
});
after(() => h.close());

test("the svix SDK deletes a message's payload and an attempt's response; an expunged message is not resent", async () => {
  const app = await svix.application.create({ name: 'Expunge' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://receiver.example/hook' });
  const msg = await svix.message.create(app.id, {
    eventType: 'card.saved',
    eventId: 'evt-1',
    payload: { pan: '4242' },
  });

  // One attempt, through the store as a dispatcher would record it, answered with something private.
  const [claimed] = await h.store.claimDeliveries({ workerId: 'w', now: Date.now(), leaseMs: 60_000, limit: 10 });
  assert.ok(claimed);
  const attemptId = newId('atmpt');
  await h.store.recordOutcomes(
    [
      {
        deliveryId: claimed.id,
        attempt: {
          id: attemptId,
          msgId: msg.id,
          endpointId: ep.id,
          appId: app.id,
          url: ep.url,
          status: Status.fail,
          statusCode: 500,
          response: 'stack trace with a password',
          durationMs: 1,
          failureKind: 'http_status',
          failureMessage: null,
          tls: null,
          triggerType: 0,
          createdAt: Date.now(),
        },
      },
    ],
    Date.now(),
  );
  await svix.messageAttempt.expungeContent(app.id, msg.id, attemptId);
  assert.equal((await svix.messageAttempt.get(app.id, msg.id, attemptId)).response, '');

  // By eventId as well as by id, as every {msg_id} in the path.
  await svix.message.expungeContent(app.id, 'evt-1');
  assert.deepEqual((await svix.message.get(app.id, msg.id)).payload, {});
  await assert.rejects(
    svix.messageAttempt.resend(app.id, msg.id, ep.id),
    (e: { code: number; body: { code: string } }) => e.code === 400 && e.body.code === 'missing_payload',
  );

  // Unknown messages and attempts are 404; another application's token cannot reach them.
  await assert.rejects(svix.message.expungeContent(app.id, 'msg_missing'), (e: { code: number }) => e.code === 404);
  await assert.rejects(
    svix.messageAttempt.expungeContent(app.id, msg.id, 'atmpt_missing'),
    (e: { code: number }) => e.code === 404,
  );
  const other = await svix.application.create({ name: 'Other' });
  const { token } = await svix.authentication.appPortalAccess(other.id, {});
  const res = await h.request('DELETE', `/api/v1/app/${app.id}/msg/${msg.id}/content`, undefined, token);
  assert.equal(res.status, 403);
});

test('the svix SDK prechecks whether a message would go anywhere', async () => {
  const app = await svix.application.create({ name: 'Precheck' });
  assert.deepEqual(await svix.message.precheck(app.id, { eventType: 'order.placed' }), { active: false });
  await svix.endpoint.create(app.id, { url: 'https://receiver.example/p', channels: ['eu'] });
  assert.equal((await svix.message.precheck(app.id, { eventType: 'order.placed', channels: ['eu'] })).active, true);
  assert.equal((await svix.message.precheck(app.id, { eventType: 'order.placed', channels: ['us'] })).active, false);
  const bad = await h.request('POST', `/api/v1/app/${app.id}/msg/precheck/active`, { channels: ['eu'] });
  assert.equal(bad.status, 422);
  assert.deepEqual(bad.body.detail[0].loc, ['body', 'eventType']);
});

test("a message's payload is kept 90 days, or the days or hours it asks for", async () => {
  const app = await svix.application.create({ name: 'Retention' });
  const now = Date.now();
  const byHours = await svix.message.create(app.id, { eventType: 'e', payload: { a: 1 }, payloadRetentionHours: 1 });
  const byDays = await svix.message.create(app.id, { eventType: 'e', payload: { a: 2 }, payloadRetentionPeriod: 2 });
  const byDefault = await svix.message.create(app.id, { eventType: 'e', payload: { a: 3 } });
  // A send-example message is kept as long as any other.
  await svix.eventType.create({ name: 'retained.example', description: 'd' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://receiver.example/r' });
  const example = await svix.endpoint.sendExample(app.id, ep.id, { eventType: 'retained.example' });
  const payloads = async () =>
    Promise.all(
      [byHours, byDays, byDefault, example].map(async (m) => {
        const p = (await svix.message.get(app.id, m.id)).payload;
        return Object.keys(p).length === 0 ? {} : m === example ? 'example' : p;
      }),
    );
  const HOUR = 3_600_000;
  // Each sweep stands for the clock having reached that instant (the API stamps with the real clock).
  await h.store.expungeExpiredPayloads(now + HOUR - 60_000, 100);
  assert.deepEqual(await payloads(), [{ a: 1 }, { a: 2 }, { a: 3 }, 'example']);
  await h.store.expungeExpiredPayloads(now + HOUR + 60_000, 100);
  assert.deepEqual(await payloads(), [{}, { a: 2 }, { a: 3 }, 'example']);
  await h.store.expungeExpiredPayloads(now + 48 * HOUR + 60_000, 100);
  assert.deepEqual(await payloads(), [{}, {}, { a: 3 }, 'example']);
  await h.store.expungeExpiredPayloads(now + 90 * 24 * HOUR - 60_000, 100);
  assert.deepEqual(await payloads(), [{}, {}, { a: 3 }, 'example']);
  await h.store.expungeExpiredPayloads(now + 90 * 24 * HOUR + 60_000, 100);
  assert.deepEqual(await payloads(), [{}, {}, {}, {}]);
  const both = await h.request('POST', `/api/v1/app/${app.id}/msg`, {
    eventType: 'e',
    payload: {},
    payloadRetentionHours: 1,
    payloadRetentionPeriod: 1,
  });
  assert.equal(both.status, 422);
  assert.deepEqual(both.body.detail[0].loc, ['body', 'payloadRetentionHours']);
});

test("the svix SDK expunges all of an application's payloads; only the admin token may", async () => {
  const app = await svix.application.create({ name: 'Leaving' });
  const other = await svix.application.create({ name: 'Staying' });
  const mine = [];
  for (let i = 0; i < 3; i++) mine.push(await svix.message.create(app.id, { eventType: 'e', payload: { i } }));
  const kept = await svix.message.create(other.id, { eventType: 'e', payload: { keep: true } });
  const { token } = await svix.authentication.appPortalAccess(app.id, {});
  const own = await h.request('POST', `/api/v1/app/${app.id}/msg/expunge-all-contents`, undefined, token);
  assert.equal(own.status, 403);
  const task = await svix.message.expungeAllContents(app.id);
  assert.equal(task.task, 'application.purge_content');
  assert.equal(task.status, 'finished');
  for (const m of mine) assert.deepEqual((await svix.message.get(app.id, m.id)).payload, {});
  assert.deepEqual((await svix.message.get(other.id, kept.id)).payload, { keep: true });
});

test('a POST retried with its Idempotency-Key after the payload was deleted gets the message without it', async () => {
  const app = await svix.application.create({ name: 'Idempotent' });
  const send = () =>
    h.request('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'e', payload: { pan: '4242' } }, undefined, {
      'idempotency-key': 'order-7',
    });
  const first = await send();
  assert.equal(first.status, 202);
  assert.deepEqual(first.body.payload, { pan: '4242' });
  await svix.message.expungeContent(app.id, first.body.id);
  const again = await send();
  assert.equal(again.headers.get('idempotent-replayed'), 'true');
  assert.equal(again.body.id, first.body.id);
  assert.deepEqual(again.body.payload, {});
});
