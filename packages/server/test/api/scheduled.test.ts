import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Svix } from 'svix';
import { type Harness, startWithSdk } from './harness.ts';

let h: Harness;
let svix: Svix;
const NOW = Date.parse('2026-06-01T12:00:00.000Z');

before(async () => {
  ({ h, svix } = await startWithSdk({ now: () => NOW }));
});
after(() => h.close());

test('a scheduled message says when it goes out, through the svix SDK, and is not due before', async () => {
  const app = await svix.application.create({ name: 'Scheduled' });
  const ep = await svix.endpoint.create(app.id, { url: 'https://receiver.example/hook' });
  const at = new Date(NOW + 3_600_000);
  const msg = await svix.message.create(app.id, { eventType: 'report.ready', payload: { n: 1 }, deliverAt: at });
  assert.deepEqual(msg.deliverAt, at);
  assert.deepEqual((await svix.message.get(app.id, msg.id)).deliverAt, at);
  assert.deepEqual((await svix.message.list(app.id)).data[0]?.deliverAt, at);
  const sent = await svix.messageAttempt.listAttemptedMessages(app.id, ep.id);
  assert.deepEqual(sent.data[0]?.deliverAt, at);
  assert.deepEqual(sent.data[0]?.nextAttempt, at);
  // Not claimable until then.
  assert.deepEqual(await h.store.claimDeliveries({ workerId: 'w', now: NOW, leaseMs: 60_000, limit: 10 }), []);
  const due = await h.store.claimDeliveries({ workerId: 'w', now: at.getTime(), leaseMs: 60_000, limit: 10 });
  assert.equal(due[0]?.message.id, msg.id);

  // One sent at once has none.
  const now = await svix.message.create(app.id, { eventType: 'report.ready', payload: { n: 2 } });
  assert.equal(now.deliverAt ?? null, null);
  assert.equal((await svix.message.get(app.id, now.id)).deliverAt ?? null, null);
});
