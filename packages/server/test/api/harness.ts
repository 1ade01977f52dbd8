import { Writable } from 'node:stream';
import { pino } from 'pino';
import { Svix } from 'svix';
import { buildApi } from '../../src/api/app.ts';
import { hashToken } from '../../src/api/auth.ts';
import type { ApiDeps } from '../../src/api/context.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';

export const ADMIN_TOKEN = 'test-admin-token-0123456789';

/** The API on an in-memory store, listening on loopback port 0; `log` captures its JSON log lines. */
export async function startApi(
  over: Partial<ApiDeps> = {},
  opts: { log?: boolean; portal?: { frameAncestors?: string[]; livePollMs?: number } } = {},
) {
  let logged = '';
  const sink = new Writable({
    write(chunk, _enc, cb) {
      logged += chunk.toString();
      cb();
    },
  });
  const store = openSqliteStore(':memory:');
  let enqueued = 0;
  const deps: ApiDeps = {
    store,
    adminTokenHash: hashToken(ADMIN_TOKEN),
    now: Date.now,
    publicUrl: 'http://127.0.0.1',
    checkEndpointUrl: async () => {},
    onEnqueued: () => {
      enqueued++;
    },
    trust: async () => undefined,
    ...over,
  };
  const api = buildApi(deps, {
    ...(opts.log ? { logger: pino({ level: 'info' }, sink) } : {}),
    ...(opts.portal ? { portal: opts.portal } : {}),
  });
  await api.listen({ port: 0, host: '127.0.0.1' });
  const address = api.server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const url = `http://127.0.0.1:${address.port}`;
  return {
    url,
    store,
    api,
    enqueued: () => enqueued,
    /** What the API logged (with `log`). */
    logged: () => logged,
    async request(
      method: string,
      path: string,
      body?: unknown,
      token = ADMIN_TOKEN,
      headers: Record<string, string> = {},
    ) {
      const res = await fetch(url + path, {
        method,
        headers: {
          ...(token ? { authorization: `Bearer ${token}` } : {}),
          ...(body === undefined ? {} : { 'content-type': 'application/json' }),
          ...headers,
        },
        body: body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body),
      });
      const text = await res.text();
      return { status: res.status, headers: res.headers, body: text ? JSON.parse(text) : undefined };
    },
    async close() {
      await api.close();
      await store.close();
    },
  };
}

export type Harness = Awaited<ReturnType<typeof startApi>>;

/** The API and an admin `svix` client on it: what the SDK test files start before their tests. */
export async function startWithSdk(over: Partial<ApiDeps> = {}): Promise<{ h: Harness; svix: Svix }> {
  const h = await startApi(over);
  return { h, svix: new Svix(ADMIN_TOKEN, { serverUrl: h.url }) };
}
