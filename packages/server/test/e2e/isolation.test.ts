import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { HOSTILE_KINDS, type HostileEndpoint, startHostileEndpoint, tempDir } from '@hookwarden/testkit';
import { pino } from 'pino';
import { startServer } from '../../src/server.ts';
import { callApi, startReceiver, testPki, waitFor } from './receiver.ts';

const TOKEN = 'isolation-admin-token-0123456789';
const HOSTILE_PER_KIND = 10;
const HOSTILE_MESSAGES = 50;
const GOOD = 10;
const GOOD_MESSAGES = 100;
/**
 * What this process (the server, its store thread, and every receiver, hostile ones included) may
 * grow by while the run lasts. Measured at 90-115 MiB on the 2-core machine: about 250 connections
 * held by hostile endpoints at a time, on both ends. Buffering what they send (a megabyte of
 * headers, endless bodies) or holding a connection per claimed row would pass it.
 */
const RSS_GROWTH_BOUND = 192 * 1024 * 1024;

const dir = tempDir();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers.reverse()) await c();
  dir.cleanup();
});

/** Runs `fn` over `items`, `n` at a time. */
async function pooled<T>(items: T[], n: number, fn: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: n }, async () => {
      while (next < items.length) await fn(items[next++] as T);
    }),
  );
}

test('50 hostile endpoints beside 10 good ones: every good message arrives; the process stays healthy and within its memory bound', {
  timeout: 150_000,
}, async () => {
  const pki = await testPki();
  const hostile: HostileEndpoint[] = [];
  for (const kind of HOSTILE_KINDS) {
    for (let i = 0; i < HOSTILE_PER_KIND; i++) hostile.push(await startHostileEndpoint(kind, pki.server));
  }
  closers.push(async () => {
    for (const h of hostile) await h.close();
  });
  let arrived = 0;
  const good = await Promise.all(
    Array.from({ length: GOOD }, () =>
      startReceiver({
        server: pki.server,
        clientCaPem: pki.platform.caBundlePem,
        respond: () => {
          arrived++;
          return 200;
        },
      }),
    ),
  );
  closers.push(async () => {
    for (const g of good) await g.close();
  });
  const server = await startServer({
    port: 0,
    dataDir: dir.path,
    adminToken: TOKEN,
    identity: () => pki.platform,
    allowPrivateTargets: true,
    logger: pino({ level: 'silent' }),
    // The defaults but for shorter phases, so that hostile attempts end within the test.
    delivery: { tlsTimeoutMs: 1_500, headersTimeoutMs: 1_000, totalTimeoutMs: 3_000 },
    dispatcher: { slowAfterMs: 500 },
  });
  closers.push(() => server.close({ deadlineMs: 200 }));
  const call = (method: string, path: string, body?: unknown) => callApi(server.url, TOKEN, method, path, body);

  /** One application (a tenant) per endpoint. */
  const endpoint = async (url: string) => {
    const app = (await call('POST', '/api/v1/app', { name: url })).body as { id: string };
    const ep = await call('POST', `/api/v1/app/${app.id}/endpoint`, { url, serverCa: pki.receiverCaPem });
    assert.equal(ep.status, 201, JSON.stringify(ep.body));
    return { appId: app.id, endpointId: (ep.body as { id: string }).id };
  };
  const hostileApps = [];
  for (const h of hostile) hostileApps.push(await endpoint(h.url));
  const goodApps = [];
  for (const g of good) goodApps.push(await endpoint(g.url));

  const baseline = process.memoryUsage().rss;
  let peak = baseline;
  const sampler = setInterval(() => {
    peak = Math.max(peak, process.memoryUsage().rss);
  }, 50);
  closers.push(async () => clearInterval(sampler));

  const send = async (appId: string) => {
    const r = await call('POST', `/api/v1/app/${appId}/msg`, { eventType: 'e', payload: { at: Date.now() } });
    assert.equal(r.status, 202, JSON.stringify(r.body));
  };
  // The hostile endpoints' backlog first, then the good ones' messages behind it.
  await pooled(
    hostileApps.flatMap((a) => Array(HOSTILE_MESSAGES).fill(a.appId) as string[]),
    64,
    send,
  );
  await pooled(
    goodApps.flatMap((a) => Array(GOOD_MESSAGES).fill(a.appId) as string[]),
    64,
    send,
  );
  const allGood = GOOD * GOOD_MESSAGES;
  await waitFor(
    () => arrived >= allGood,
    (fn) => {
      for (const g of good) g.onRequest(fn);
    },
    120_000,
    `all ${allGood} good messages (have ${arrived})`,
  );
  assert.equal(arrived, allGood, 'each good message arrived once');
  assert.ok(
    hostile.every((h) => h.connections > 0),
    'every hostile endpoint was tried beside the good ones',
  );

  // Healthy: it answers its API and its metrics while hostile endpoints still hold connections.
  assert.equal((await fetch(`${server.url}/api/v1/health`)).status, 204);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /^hookwarden_deliveries_in_flight \d+$/m);
  assert.match(metrics, /^hookwarden_endpoint_circuits\{state="open"\} \d+$/m);
  clearInterval(sampler);
  const growth = peak - baseline;
  assert.ok(
    growth < RSS_GROWTH_BOUND,
    `RSS grew by ${(growth / 2 ** 20).toFixed(0)} MiB (bound ${RSS_GROWTH_BOUND / 2 ** 20} MiB)`,
  );

  // Nothing of the hostile endpoints' was lost: every message is still waiting, in flight, or failed.
  let hostileRows = 0;
  for (const { appId, endpointId } of hostileApps) {
    const stats = (await call('GET', `/api/v1/app/${appId}/endpoint/${endpointId}/stats`)).body as {
      [status in 'success' | 'pending' | 'sending' | 'fail']: number;
    } & { circuit: { state: string } };
    hostileRows += stats.success + stats.pending + stats.sending + stats.fail;
    assert.ok(['closed', 'open', 'half_open'].includes(stats.circuit.state), JSON.stringify(stats.circuit));
  }
  assert.equal(hostileRows, hostile.length * HOSTILE_MESSAGES);
});
