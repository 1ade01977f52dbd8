import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { startReceiver, tempDir, waitFor } from '@hookwarden/testkit';
import { pino } from 'pino';
import { startServer } from '../../src/server.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { callApi, testPki } from './receiver.ts';

const dir = tempDir();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
  dir.cleanup();
});

/**
 * A receiver that holds every request until released (all are released when the file ends);
 * `onHeld` tells of each request it starts holding.
 */
async function holdingReceiver(pki: Awaited<ReturnType<typeof testPki>>) {
  const releases: (() => void)[] = [];
  const held = new Set<() => void>();
  const receiver = await startReceiver({
    server: pki.server,
    clientCaPem: pki.platform.caBundlePem,
    respond: () =>
      new Promise<number>((resolve) => {
        releases.push(() => resolve(200));
        for (const l of held) l();
      }),
  });
  closers.push(async () => {
    for (const r of releases) r();
    await receiver.close();
  });
  return { receiver, releases, onHeld: (fn: () => void) => held.add(fn) };
}

/** POSTs JSON to the server with the admin token; answers the created object's id. */
function poster(url: string, token: string) {
  return async (path: string, body: unknown) => (await callApi(url, token, 'POST', path, body)).body as { id: string };
}

test('graceful stop: no new claims, in-flight deliveries get a deadline, leases are released', async () => {
  const pki = await testPki();
  // Holds every request: deliveries are in flight when the stop begins.
  const { receiver, releases, onHeld } = await holdingReceiver(pki);
  const store = openSqliteStore(join(dir.path, 'shutdown.db'));
  closers.push(() => store.close());
  const token = 'shutdown-admin-token-0123456789';
  const server = await startServer({
    port: 0,
    store,
    adminToken: token,
    identity: () => pki.platform,
    allowPrivateTargets: true,
    logger: pino({ level: 'silent' }),
    dispatcher: { concurrency: 4, perEndpointConcurrency: 2 },
  });
  const call = poster(server.url, token);
  const app = await call('/api/v1/app', { name: 'a' });
  await call(`/api/v1/app/${app.id}/endpoint`, { url: receiver.url, serverCa: pki.receiverCaPem });
  for (let i = 0; i < 5; i++) await call(`/api/v1/app/${app.id}/msg`, { eventType: 'e', payload: { i } });
  await waitFor(() => releases.length === 2, onHeld, 20_000, 'two deliveries in flight');
  // Let one finish during the grace period; the other outlives the deadline.
  const stopped = server.close({ deadlineMs: 300 });
  releases[0]?.();
  await stopped;
  const due = await store.claimDeliveries({ workerId: 'next', now: Date.now(), leaseMs: 1000, limit: 10 });
  assert.equal(
    due.length,
    4,
    'the unfinished in-flight row and the unclaimed ones are due at once for the next process',
  );
  const attempts = await store.listAttemptsByEndpoint(app.id, due[0]!.endpoint.id, { limit: 10 });
  assert.equal(attempts.data.length, 1, 'the delivery that finished in the grace period was recorded');
  assert.equal(attempts.data[0]?.status, 0);
});

test('a delivery that never settles is cut at deliveryDeadlineMs and recorded as a timeout', async () => {
  const pki = await testPki();
  const { receiver } = await holdingReceiver(pki);
  const token = 'deadline-admin-token-0123456789';
  const server = await startServer({
    port: 0,
    dataDir: join(dir.path, 'deadline'),
    adminToken: token,
    identity: () => pki.platform,
    allowPrivateTargets: true,
    logger: pino({ level: 'silent' }),
    dispatcher: { deliveryDeadlineMs: 200, leaseMs: 5_000, retryScheduleMs: [0], jitter: 0 },
  });
  closers.push(() => server.close({ deadlineMs: 100 }));
  const outcomes: { attempt: { failureKind: string | null } }[] = [];
  const listeners = new Set<() => void>();
  server.events.on('recorded', (b: { attempt: { failureKind: string | null } }[]) => {
    outcomes.push(...b);
    for (const l of listeners) l();
  });
  const call = poster(server.url, token);
  const app = await call('/api/v1/app', { name: 'a' });
  await call(`/api/v1/app/${app.id}/endpoint`, { url: receiver.url, serverCa: pki.receiverCaPem });
  await call(`/api/v1/app/${app.id}/msg`, { eventType: 'e', payload: {} });
  await waitFor(
    () => outcomes.length === 1,
    (fn) => listeners.add(fn),
    20_000,
    'the cut attempt',
  );
  assert.equal(outcomes[0]?.attempt.failureKind, 'timeout');
});
