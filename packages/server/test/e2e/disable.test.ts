import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { startReceiver, tempDir, waitFor } from '@hookwarden/testkit';
import { pino } from 'pino';
import { startServer } from '../../src/server.ts';
import type { Outcome } from '../../src/store/types.ts';
import { callApi, testPki } from './receiver.ts';

const dir = tempDir();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
  dir.cleanup();
});

test('an endpoint failing for longer than disableAfterMs is disabled (clock injected)', async () => {
  const DAY = 86_400_000;
  let clock = Date.parse('2026-06-01T00:00:00Z');
  const pki = await testPki();
  const receiver = await startReceiver({
    server: pki.server,
    clientCaPem: pki.platform.caBundlePem,
    respond: () => 500,
  });
  closers.push(() => receiver.close());
  const token = 'disable-admin-token-0123456789';
  const server = await startServer({
    port: 0,
    dataDir: dir.path,
    adminToken: token,
    identity: () => pki.platform,
    allowPrivateTargets: true,
    logger: pino({ level: 'silent' }),
    now: () => clock,
    dispatcher: { retryScheduleMs: [0, 60_000, 60_000, 60_000], jitter: 0, disableAfterMs: 5 * DAY },
  });
  closers.push(() => server.close({ deadlineMs: 500 }));
  const outcomes: Outcome[] = [];
  const listeners = new Set<() => void>();
  server.events.on('recorded', (b: Outcome[]) => {
    outcomes.push(...b);
    for (const l of listeners) l();
  });
  const call = async (method: string, path: string, body?: unknown) =>
    (await callApi(server.url, token, method, path, body)).body as { id: string; disabled: boolean };
  const app = await call('POST', '/api/v1/app', { name: 'a' });
  const ep = await call('POST', `/api/v1/app/${app.id}/endpoint`, { url: receiver.url, serverCa: pki.receiverCaPem });
  await call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'e', payload: {} });
  await waitFor(
    () => outcomes.length === 1,
    (fn) => listeners.add(fn),
    20_000,
    'first attempt',
  );
  assert.equal(outcomes[0]?.attempt.statusCode, 500);
  assert.equal(outcomes[0]?.nextAttemptAt, clock + 60_000, 'rescheduled per the schedule, no jitter');
  assert.equal((await call('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}`)).disabled, false);

  clock += 5 * DAY + 1;
  server.dispatcher.notify();
  await waitFor(
    () => outcomes.length === 2,
    (fn) => listeners.add(fn),
    20_000,
    'second attempt',
  );
  assert.equal(outcomes[1]?.disableEndpoint, true);
  assert.equal(outcomes[1]?.nextAttemptAt, undefined);
  assert.equal((await call('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}`)).disabled, true);
});
