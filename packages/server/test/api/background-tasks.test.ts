import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { BackgroundTaskStatus, BackgroundTaskType, Svix } from 'svix';
import { type Harness, startWithSdk } from './harness.ts';

let h: Harness;
let svix: Svix;
before(async () => {
  ({ h, svix } = await startWithSdk());
});
after(() => h.close());

const since = () => new Date(Date.now() - 60_000);

test('the tasks that recover, replay and purge answer with can be fetched and listed through the svix SDK', async () => {
  const a = await svix.application.create({ name: 'A' });
  const epA = await svix.endpoint.create(a.id, { url: 'https://a.example/hook' });
  await svix.message.create(a.id, { eventType: 'order.placed', payload: { n: 1 } });
  const b = await svix.application.create({ name: 'B' });
  // B's message comes before its endpoint: replaying what the endpoint missed sends it.
  await svix.message.create(b.id, { eventType: 'order.placed', payload: { n: 2 } });
  const epB = await svix.endpoint.create(b.id, { url: 'https://b.example/hook' });

  const recovered = await svix.endpoint.recover(a.id, epA.id, { since: since() });
  const replayed = await svix.endpoint.replayMissing(b.id, epB.id, { since: since() });
  const purged = await svix.message.expungeAllContents(a.id);

  const got = await svix.backgroundTask.get(recovered.id);
  assert.equal(got.task, BackgroundTaskType.EndpointRecover);
  assert.equal(got.status, BackgroundTaskStatus.Finished);
  // The message was still waiting for its first attempt: nothing failed, nothing to recover.
  assert.deepEqual(got.data, { endpointId: epA.id, messages: 0 });
  assert.deepEqual(got.updatedAt, recovered.updatedAt);
  assert.deepEqual((await svix.backgroundTask.get(replayed.id)).data, { endpointId: epB.id, messages: 1 });
  assert.equal((await svix.backgroundTask.get(purged.id)).task, BackgroundTaskType.ApplicationPurgeContent);

  // Newest first; filtered by kind and status; paged.
  const all = await svix.backgroundTask.list();
  assert.deepEqual(
    all.data.map((t) => t.id),
    [purged.id, replayed.id, recovered.id],
  );
  const recovers = await svix.backgroundTask.list({ task: BackgroundTaskType.EndpointRecover });
  assert.deepEqual(
    recovers.data.map((t) => t.id),
    [recovered.id],
  );
  assert.deepEqual((await svix.backgroundTask.list({ status: BackgroundTaskStatus.Running })).data, []);
  const first = await svix.backgroundTask.list({ limit: 2 });
  assert.equal(first.done, false);
  const rest = await svix.backgroundTask.list({ limit: 2, iterator: first.iterator });
  assert.deepEqual(
    rest.data.map((t) => t.id),
    [recovered.id],
  );
  assert.equal(rest.done, true);
  await assert.rejects(svix.backgroundTask.get('qtask_missing'), (e: { code: number }) => e.code === 404);

  // An application's token sees its own application's tasks only.
  const { token } = await svix.authentication.appPortalAccess(b.id, {});
  const portal = new Svix(token, { serverUrl: h.url });
  assert.deepEqual(
    (await portal.backgroundTask.list()).data.map((t) => t.id),
    [replayed.id],
  );
  assert.equal((await portal.backgroundTask.get(replayed.id)).id, replayed.id);
  await assert.rejects(portal.backgroundTask.get(recovered.id), (e: { code: number }) => e.code === 404);
});

test("the svix SDK's aggregateAppStats counts each application's message destinations in a window, as a task", async () => {
  const since = new Date(Date.now() - 1000);
  const one = await svix.application.create({ name: 'One', uid: 'stats-one' });
  await svix.endpoint.create(one.id, { url: 'https://one-a.example/hook' });
  await svix.endpoint.create(one.id, { url: 'https://one-b.example/hook' });
  const two = await svix.application.create({ name: 'Two' });
  await svix.endpoint.create(two.id, { url: 'https://two.example/hook' });
  for (let i = 0; i < 3; i++) await svix.message.create(one.id, { eventType: 'order.placed', payload: { i } });
  await svix.message.create(two.id, { eventType: 'order.placed', payload: {} });
  const until = new Date(Date.now() + 1000);

  const out = await svix.statistics.aggregateAppStats({ appIds: ['stats-one', two.id, 'app_missing'], since, until });
  assert.equal(out.task, BackgroundTaskType.ApplicationStats);
  assert.deepEqual(out.unresolvedAppIds, ['app_missing']);
  const task = await svix.backgroundTask.get(out.id);
  assert.deepEqual(task.data.appStats, [
    { appId: one.id, appUid: 'stats-one', messageDestinations: 6 },
    { appId: two.id, appUid: null, messageDestinations: 1 },
  ]);
  // A window before any of them counts nothing for them (other tests' messages may fall in it);
  // without appIds, every application is counted.
  const earlier = await svix.statistics.aggregateAppStats({ since: new Date(0), until: since });
  const counts = (await svix.backgroundTask.get(earlier.id)).data.appStats as {
    appId: string;
    messageDestinations: number;
  }[];
  const theirs = counts.filter((c) => c.appId === one.id || c.appId === two.id);
  assert.deepEqual(
    theirs.map((c) => c.messageDestinations),
    [0, 0],
  );

  // The environment's tasks are the admin's: an application token does not see them.
  const { token } = await svix.authentication.appPortalAccess(one.id, {});
  const portal = new Svix(token, { serverUrl: h.url });
  await assert.rejects(portal.backgroundTask.get(out.id), (e: { code: number }) => e.code === 404);
  await assert.rejects(portal.statistics.aggregateAppStats({ since, until }), (e: { code: number }) => e.code === 403);
});
