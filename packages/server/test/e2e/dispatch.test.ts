import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import { pino } from 'pino';
import { type RunningServer, startServer } from '../../src/server.ts';
import type { Outcome } from '../../src/store/types.ts';
import { callApi, startReceiver, testPki, waitFor } from './receiver.ts';

const TOKEN = 'dispatch-admin-token-0123456789';
const dirs: { cleanup(): void }[] = [];
const closers: (() => Promise<void>)[] = [];
let pki: Awaited<ReturnType<typeof testPki>>;
let server: RunningServer;
const outcomes: Outcome[] = [];
const outcomeListeners = new Set<() => void>();

async function platform(opts: { allowPrivateTargets: boolean }) {
  const dir = tempDir();
  dirs.push(dir);
  const s = await startServer({
    port: 0,
    dataDir: dir.path,
    adminToken: TOKEN,
    identity: () => pki.platform,
    allowPrivateTargets: opts.allowPrivateTargets,
    logger: pino({ level: 'silent' }),
    // Accelerated retry schedule: the same logic, in milliseconds instead of hours.
    dispatcher: {
      retryScheduleMs: [0, 20, 40, 80, 160, 320, 640],
      jitter: 0,
      concurrency: 8,
      perEndpointConcurrency: 4,
    },
  });
  closers.push(() => s.close({ deadlineMs: 500 }));
  return s;
}

const call = (method: string, path: string, body?: unknown, s = server) => callApi(s.url, TOKEN, method, path, body);

async function endpointTo(url: string): Promise<{ appId: string; endpointId: string }> {
  const app = await call('POST', '/api/v1/app', { name: 'a' });
  const ep = await call('POST', `/api/v1/app/${app.body.id}/endpoint`, { url, serverCa: pki.receiverCaPem });
  assert.equal(ep.status, 201, JSON.stringify(ep.body));
  return { appId: app.body.id, endpointId: ep.body.id };
}

const send = async (appId: string, payload: unknown) =>
  (await call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'e', payload })).body.id as string;

before(async () => {
  pki = await testPki();
  server = await platform({ allowPrivateTargets: true });
  server.events.on('recorded', (batch: Outcome[]) => {
    outcomes.push(...batch);
    for (const l of outcomeListeners) l();
  });
});
after(async () => {
  for (const c of closers.reverse()) await c();
  for (const d of dirs) d.cleanup();
});

test('receiver down, then up: delivered after retries', async () => {
  const receiver = await startReceiver({ server: pki.server, clientCaPem: pki.platform.caBundlePem });
  const port = receiver.port;
  await receiver.close();
  const { appId } = await endpointTo(`https://localhost:${port}/hook`);
  const msgId = await send(appId, { n: 1 });
  const failures = () => outcomes.filter((o) => o.attempt.msgId === msgId && o.attempt.status !== 0);
  await waitFor(
    () => failures().length >= 1,
    (fn) => outcomeListeners.add(fn),
    20_000,
    'a failed attempt',
  );
  assert.equal(failures()[0]?.attempt.failureKind, 'connect');
  assert.ok(failures()[0]?.nextAttemptAt !== undefined, 'rescheduled');
  // Bring the receiver back on the same port.
  await new Promise<void>((resolve) => receiver.server.listen(port, '127.0.0.1', resolve));
  closers.push(() => receiver.close());
  await waitFor(
    () => outcomes.some((o) => o.attempt.msgId === msgId && o.attempt.status === 0),
    (fn) => outcomeListeners.add(fn),
    20_000,
    'the successful retry',
  );
  assert.equal(receiver.received.filter((r) => r.headers['webhook-id'] === msgId).length, 1);
  const attempts = await call('GET', `/api/v1/app/${appId}/attempt/msg/${msgId}`);
  assert.ok(attempts.body.data.length >= 2);
  assert.equal(attempts.body.data[0].status, 0, 'newest attempt succeeded');
});

test('a slow endpoint does not delay a fast one', async () => {
  const releases: (() => void)[] = [];
  let holding = true;
  const slow = await startReceiver({
    server: pki.server,
    clientCaPem: pki.platform.caBundlePem,
    // Holds every answer until the test lets go.
    respond: () => (holding ? new Promise<number>((resolve) => releases.push(() => resolve(200))) : 200),
  });
  const fast = await startReceiver({ server: pki.server, clientCaPem: pki.platform.caBundlePem });
  closers.push(
    () => slow.close(),
    () => fast.close(),
  );
  const s = await endpointTo(slow.url);
  const f = await endpointTo(fast.url);
  for (let i = 0; i < 20; i++) await send(s.appId, { slow: i });
  const fastId = await send(f.appId, { fast: true });
  await waitFor(() => fast.received.length === 1, fast.onRequest, 20_000, 'the fast delivery');
  assert.equal(fast.received[0]?.headers['webhook-id'], fastId);
  assert.ok(slow.received.length === 0, 'the slow endpoint is still holding every request');
  assert.ok(releases.length <= 4, `per-endpoint concurrency bounds the slow endpoint (${releases.length} in flight)`);
  holding = false;
  for (const r of releases.splice(0)) r();
  await waitFor(() => slow.received.length === 20, slow.onRequest, 20_000, 'the slow deliveries');
});

test('a redirect is not followed; 410 disables the endpoint', async () => {
  const target = await startReceiver({ server: pki.server, clientCaPem: pki.platform.caBundlePem });
  const redirecting = await startReceiver({
    server: pki.server,
    clientCaPem: pki.platform.caBundlePem,
    respond: () => 302,
  });
  const gone = await startReceiver({ server: pki.server, clientCaPem: pki.platform.caBundlePem, respond: () => 410 });
  closers.push(
    () => target.close(),
    () => redirecting.close(),
    () => gone.close(),
  );
  const r = await endpointTo(redirecting.url);
  const msgId = await send(r.appId, { go: 'elsewhere' });
  await waitFor(
    () => outcomes.some((o) => o.attempt.msgId === msgId),
    (fn) => outcomeListeners.add(fn),
    20_000,
    'redirect',
  );
  const first = outcomes.find((o) => o.attempt.msgId === msgId)!;
  assert.equal(first.attempt.status, 2);
  assert.equal(first.attempt.statusCode, 302);
  assert.equal(target.received.length, 0);

  const g = await endpointTo(gone.url);
  const goneId = await send(g.appId, { bye: true });
  await waitFor(
    () => outcomes.some((o) => o.attempt.msgId === goneId),
    (fn) => outcomeListeners.add(fn),
    20_000,
    '410',
  );
  const ep = await call('GET', `/api/v1/app/${g.appId}/endpoint/${g.endpointId}`);
  assert.equal(ep.body.disabled, true);
});

test('a host name resolving to 127.0.0.1 is refused without allowPrivateTargets', async () => {
  const strict = await platform({ allowPrivateTargets: false });
  const app = await call('POST', '/api/v1/app', { name: 'a' }, strict);
  const res = await call('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: 'https://localhost:8443/hook' }, strict);
  assert.equal(res.status, 422);
  assert.match(res.body.code, /^HW_ENDPOINT_URL_/);
  const http = await call('POST', `/api/v1/app/${app.body.id}/endpoint`, { url: 'http://hooks.example.com/' }, strict);
  assert.equal(http.status, 422);
  assert.equal(http.body.code, 'HW_ENDPOINT_URL_HTTP_NOT_ALLOWED');
});
