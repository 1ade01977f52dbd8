/**
 * The portal's deliveries page with 10,000 messages in the application (three endpoints, an attempt
 * each: 30,000 deliveries and attempts): the server's time per page, median, against a bare API
 * list call (`GET /api/v1/app/{app}/msg`, 20 messages) measured in the same run on the same store.
 * The goal is a median of at most 50 ms. Both are served by `inject` (no sockets): what is timed is
 * routing, the store's answers (SQLite on its thread, as `serve` runs it) and rendering.
 *
 *   npm run bench -- portal
 */
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { buildApi, hashToken, newEndpoint, openSqliteStoreInWorker, type Store } from '@hookwarden/server';
import { tempDir } from '@hookwarden/testkit';
// Ids that carry their time, as the server makes them (messages are listed by them).
import { newId } from '../packages/server/src/ids.ts';

const MESSAGES = 10_000;
const ENDPOINTS = 3;
const ROUNDS = 200;
const ADMIN = 'bench-admin-token-0123456789';

const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;
const percentile = (xs: number[], p: number): number =>
  [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(xs.length * p))] as number;

/** An application with its endpoints, `MESSAGES` messages and one recorded attempt per delivery. */
async function fill(store: Store, now: number): Promise<string> {
  const app = await store.createApplication(
    { id: `app_${'0'.repeat(25)}1`, uid: null, name: 'Bench', metadata: {}, rateLimit: null },
    now,
  );
  for (let i = 0; i < ENDPOINTS; i++) {
    const secret = 'whsec_c2VjcmV0c2VjcmV0c2VjcmV0c2VjcmV0cw==';
    await store.createEndpoint(
      newEndpoint({
        id: `ep_${String(i).padStart(26, '0')}`,
        appId: app.id,
        url: `https://r${i}.example/hook`,
        secret,
      }),
      now,
    );
  }
  const start = now - MESSAGES * 1000;
  for (let i = 0; i < MESSAGES; i += 500) {
    await Promise.all(
      Array.from({ length: Math.min(500, MESSAGES - i) }, (_, k) => {
        const at = start + (i + k) * 1000;
        return store.createMessage(
          {
            id: newId('msg', at),
            appId: app.id,
            eventType: 'invoice.paid',
            eventId: null,
            channels: null,
            tags: null,
            payload: `{"n":${i + k}}`,
            createdAt: at,
          },
          {},
        );
      }),
    );
    for (;;) {
      const claimed = await store.claimDeliveries({ workerId: 'bench', now, leaseMs: 60_000, limit: 1000 });
      if (claimed.length === 0) break;
      await store.recordOutcomes(
        claimed.map((c) => ({
          deliveryId: c.id,
          attempt: {
            id: newId('atmpt', c.message.createdAt + 10),
            msgId: c.message.id,
            endpointId: c.endpoint.id,
            appId: app.id,
            url: c.endpoint.url,
            status: 0 as const,
            statusCode: 200,
            response: 'ok',
            durationMs: 12,
            failureKind: null,
            failureMessage: null,
            tls: { protocol: 'TLSv1.3', cipher: 'TLS_AES_128_GCM_SHA256', clientCertificateSent: true },
            triggerType: 0,
            createdAt: c.message.createdAt + 10,
          },
        })),
        now,
      );
    }
  }
  return app.id;
}

export async function run(): Promise<void> {
  const dir = tempDir('hw-bench-portal-');
  const store = openSqliteStoreInWorker(join(dir.path, 'hookwarden.db'));
  const now = Date.now();
  const api = buildApi(
    {
      store,
      adminTokenHash: hashToken(ADMIN),
      now: () => now,
      publicUrl: 'http://127.0.0.1',
      checkEndpointUrl: async () => {},
      onEnqueued: () => {},
      trust: async () => undefined,
    },
    { portal: {} },
  );
  try {
    const appId = await fill(store, now);
    // A customer's session, signed in as a browser would.
    const { payload } = await api.inject({
      method: 'POST',
      url: `/api/v1/auth/app-portal-access/${appId}`,
      headers: { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' },
      payload: '{}',
    });
    const key = (JSON.parse(payload) as { url: string }).url.split('#key=')[1] as string;
    const login = await api.inject({ method: 'GET', url: '/portal/login' });
    const loginCookie = String(login.headers['set-cookie']).split(';')[0] as string;
    const csrf = /name="_csrf" value="([^"]+)"/.exec(login.payload)?.[1] as string;
    const signedIn = await api.inject({
      method: 'POST',
      url: '/portal/login',
      headers: { cookie: loginCookie, 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ _csrf: csrf, key }).toString(),
    });
    const cookies = signedIn.headers['set-cookie'];
    const session = (Array.isArray(cookies) ? cookies : [String(cookies)])
      .find((c) => c.startsWith('hw_session='))
      ?.split(';')[0] as string;

    const page = { method: 'GET' as const, url: `/portal/app/${appId}/deliveries`, headers: { cookie: session } };
    const filtered = { ...page, url: `${page.url}?endpoint=ep_${'0'.repeat(26)}` };
    const list = {
      method: 'GET' as const,
      url: `/api/v1/app/${appId}/msg?limit=20`,
      headers: { authorization: `Bearer ${ADMIN}` },
    };
    const check = await api.inject(page);
    if (check.statusCode !== 200 || (check.payload.match(/<tr>/g)?.length ?? 0) < 20)
      throw new Error(`the page did not render: ${check.statusCode}`);

    const times = { page: [] as number[], filtered: [] as number[], list: [] as number[] };
    for (let i = 0; i < 20; i++) for (const r of [page, filtered, list]) await api.inject(r);
    for (let i = 0; i < ROUNDS; i++) {
      for (const [name, r] of [
        ['page', page],
        ['filtered', filtered],
        ['list', list],
      ] as const) {
        const t = performance.now();
        const res = await api.inject(r);
        times[name].push(performance.now() - t);
        if (res.statusCode !== 200) throw new Error(`${name}: ${res.statusCode}`);
      }
    }
    const ratio = (name: 'page' | 'filtered') => (median(times[name]) / median(times.list)).toFixed(1);
    console.log(
      `portal: ${MESSAGES} messages, ${ENDPOINTS} endpoints, ${ROUNDS} rounds; 20 messages a page, each with its deliveries and attempts`,
    );
    console.log(
      `  deliveries page          median ${median(times.page).toFixed(1)} ms, p95 ${percentile(times.page, 0.95).toFixed(1)} ms  (goal: median <= 50 ms)`,
    );
    console.log(
      `  filtered by endpoint     median ${median(times.filtered).toFixed(1)} ms, p95 ${percentile(times.filtered, 0.95).toFixed(1)} ms`,
    );
    console.log(`  API list, 20 messages    median ${median(times.list).toFixed(2)} ms`);
    console.log(`  ratio page / API list: ${ratio('page')}x, filtered / API list: ${ratio('filtered')}x`);
  } finally {
    await api.close();
    await store.close();
    dir.cleanup();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href) await run();
