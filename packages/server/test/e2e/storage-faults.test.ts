import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { needPostgres, type Received, startPostgres, tempDir, waitFor } from '@hookwarden/testkit';
import { pino } from 'pino';
import { SERVER_CODES } from '../../src/errors.ts';
import type { StorageFault } from '../../src/store/faults.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { openSqliteStoreInWorker } from '../../src/store/sqlite/worker.ts';
import type { Outcome } from '../../src/store/types.ts';
import { callApi, startServerWithReceiver } from './receiver.ts';

const TOKEN = 'storage-faults-admin-token-0123456789';
/** A message's payload of a few KiB: the database fills within a few hundred sends. */
const PAYLOAD = { pad: 'x'.repeat(3000) };

/** Log lines as JSON objects, from a pino logger at info. */
function capturedLog() {
  const lines: { level: number; msg: string; [k: string]: unknown }[] = [];
  const logger = pino({ level: 'info' }, { write: (line: string) => lines.push(JSON.parse(line)) });
  return { logger, lines };
}

/**
 * What the test watches of a running server: its storage changes, its recorded outcomes and the
 * receiver's requests, each waking `on`'s listeners; `received(id)`: the receiver got that message.
 */
function watch(s: Awaited<ReturnType<typeof startServerWithReceiver>>) {
  const storage: (StorageFault | undefined)[] = [];
  const outcomes: Outcome[] = [];
  const events = new Set<() => void>();
  const tell = () => {
    for (const l of events) l();
  };
  s.server.events.on('storage', (f: StorageFault | undefined) => {
    storage.push(f);
    tell();
  });
  s.server.events.on('recorded', (batch: Outcome[]) => {
    outcomes.push(...batch);
    tell();
  });
  s.receiver.onRequest(tell);
  return {
    outcomes,
    on: (fn: () => void) => events.add(fn),
    received: (id: string) => s.receiver.received.some((r: Received) => r.headers['webhook-id'] === id),
    healed: () => storage.length > 0 && storage.at(-1) === undefined,
    call: (method: string, path: string, body?: unknown) => callApi(s.server.url, TOKEN, method, path, body),
  };
}

test('SQLite at its page limit: sends answer 503 with the code and Retry-After, health 503, reads work, nothing accepted is lost, and the same process heals', {
  timeout: 120_000,
}, async () => {
  const dir = tempDir();
  const store = openSqliteStoreInWorker(join(dir.path, 'hookwarden.db'));
  const log = capturedLog();
  // Deliveries are held until the database is full: they are in flight through the fault.
  let open!: () => void;
  const opened = new Promise<void>((r) => {
    open = r;
  });
  const s = await startServerWithReceiver({
    token: TOKEN,
    store,
    storageProbeMs: 20,
    logger: log.logger,
    respond: async () => {
      await opened;
      return 200;
    },
  });
  const { outcomes, on, received, healed, call } = watch(s);
  const deliveredOk = (id: string) => outcomes.some((o) => o.attempt.msgId === id && o.attempt.status === 0);
  try {
    const app = (await call('POST', '/api/v1/app', { name: 'full' })).body.id as string;
    await call('POST', `/api/v1/app/${app}/endpoint`, { url: s.receiver.url, serverCa: s.pki.receiverCaPem });
    const accepted: string[] = [];
    for (let i = 0; i < 5; i++) {
      const r = await call('POST', `/api/v1/app/${app}/msg`, { eventType: 'e', payload: PAYLOAD });
      assert.equal(r.status, 202);
      accepted.push(r.body.id);
    }

    // The store's connection may grow the file no further (no special filesystem needed).
    await store.pragma(`max_page_count = ${await store.pragma('page_count')}`);
    let refusal: Response | undefined;
    for (let i = 0; i < 2000 && !refusal; i++) {
      const res = await fetch(`${s.server.url}/api/v1/app/${app}/msg`, {
        method: 'POST',
        headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
        body: JSON.stringify({ eventType: 'e', payload: PAYLOAD }),
      });
      if (res.status === 202) accepted.push(((await res.json()) as { id: string }).id);
      else refusal = res;
    }
    assert.ok(refusal, 'the database filled up');
    assert.equal(refusal.status, 503);
    assert.equal(refusal.headers.get('retry-after'), '5');
    assert.deepEqual(await refusal.json(), { code: 'HW_STORE_FULL', detail: SERVER_CODES.HW_STORE_FULL.message });
    for (let i = 0; i < 20; i++) {
      const r = await call('POST', `/api/v1/app/${app}/msg`, { eventType: 'e', payload: PAYLOAD });
      if (r.status === 202) accepted.push(r.body.id);
      else
        assert.deepEqual(r, {
          status: 503,
          body: { code: 'HW_STORE_FULL', detail: SERVER_CODES.HW_STORE_FULL.message },
        });
    }

    // Degraded: health says why; reads still work; the metrics tell it.
    const health = await fetch(`${s.server.url}/api/v1/health`);
    assert.equal(health.status, 503);
    assert.equal(health.headers.get('retry-after'), '5');
    assert.deepEqual(await health.json(), { code: 'HW_STORE_FULL', detail: SERVER_CODES.HW_STORE_FULL.message });
    const listed = await call('GET', `/api/v1/app/${app}/msg?limit=250`);
    assert.equal(listed.status, 200);
    assert.ok(accepted.every((id) => listed.body.data.some((m: { id: string }) => m.id === id)));
    assert.equal((await call('GET', `/api/v1/app/${app}`)).status, 200);
    const metrics = await (await fetch(`${s.server.url}/metrics`)).text();
    assert.match(metrics, /^hookwarden_storage_state\{state="full"\} 1$/m);
    assert.match(metrics, /^hookwarden_storage_state\{state="ok"\} 0$/m);
    const refused = Number(metrics.match(/^hookwarden_storage_refused_writes_total\{state="full"\} (\d+)$/m)?.[1]);
    assert.ok(refused >= 1, 'refused writes are counted');

    // The dispatcher goes on delivering what it holds: every message accepted is delivered.
    open();
    await waitFor(() => accepted.every(received), on, 60_000, 'every accepted message delivered');

    // Space returns: the same process accepts and delivers again, with no restart.
    await store.pragma('max_page_count = 1073741823');
    await waitFor(healed, on, 20_000, 'storage healed');
    assert.equal((await fetch(`${s.server.url}/api/v1/health`)).status, 204);
    const after = await call('POST', `/api/v1/app/${app}/msg`, { eventType: 'e', payload: PAYLOAD });
    assert.equal(after.status, 202);
    await waitFor(() => received(after.body.id), on, 20_000, 'the message sent after healing delivered');
    // And every outcome is recorded in the end, those of the fault too.
    await waitFor(() => [...accepted, after.body.id].every(deliveredOk), on, 30_000, 'every outcome recorded');
    assert.match(await (await fetch(`${s.server.url}/metrics`)).text(), /^hookwarden_storage_state\{state="ok"\} 1$/m);

    // One line when the fault began, one when it ended; no stack trace per request.
    const began = log.lines.filter((l) => l.msg.startsWith('storage fault'));
    const ended = log.lines.filter((l) => l.msg.startsWith('storage recovered'));
    assert.equal(began.length, 1, JSON.stringify(began));
    assert.equal(ended.length, 1, JSON.stringify(ended));
    assert.equal(began[0]?.code, 'HW_STORE_FULL');
    assert.equal(ended[0]?.code, 'HW_STORE_FULL');
    assert.ok((ended[0]?.refused as number) >= refused);
    assert.deepEqual(
      log.lines.filter((l) => l.level >= 50 || JSON.stringify(l).includes('"stack"')),
      [],
      'no error lines, no stack traces',
    );
  } finally {
    open();
    await s.close();
    dir.cleanup();
  }
});

test('PostgreSQL stopped: sends and health answer 503 HW_STORE_UNAVAILABLE; started again, the node heals and delivers', {
  skip: needPostgres(),
  timeout: 120_000,
}, async () => {
  const pg = await startPostgres();
  const store = await openPostgresStore({ url: pg.url(), connectTimeoutMs: 1000, maxConnections: 4 });
  const log = capturedLog();
  const s = await startServerWithReceiver({ token: TOKEN, store, storageProbeMs: 20, logger: log.logger });
  const { on, received, healed, call } = watch(s);
  const unavailable = { code: 'HW_STORE_UNAVAILABLE', detail: SERVER_CODES.HW_STORE_UNAVAILABLE.message };
  try {
    const app = (await call('POST', '/api/v1/app', { name: 'pg' })).body.id as string;
    await call('POST', `/api/v1/app/${app}/endpoint`, { url: s.receiver.url, serverCa: s.pki.receiverCaPem });
    const before = (await call('POST', `/api/v1/app/${app}/msg`, { eventType: 'e', payload: {} })).body.id as string;
    await waitFor(() => received(before), on, 20_000, 'the first message delivered');

    // A crash: the pool's connections die under the store.
    await pg.stop('immediate');
    const res = await fetch(`${s.server.url}/api/v1/app/${app}/msg`, {
      method: 'POST',
      headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
      body: JSON.stringify({ eventType: 'e', payload: {} }),
    });
    assert.equal(res.status, 503);
    assert.equal(res.headers.get('retry-after'), '5');
    assert.deepEqual(await res.json(), unavailable, 'the fixed detail: no address of the database');
    const health = await fetch(`${s.server.url}/api/v1/health`);
    assert.equal(health.status, 503);
    assert.deepEqual(await health.json(), unavailable);
    assert.match(
      await (await fetch(`${s.server.url}/metrics`)).text(),
      /^hookwarden_storage_state\{state="unavailable"\} 1$/m,
    );

    // Back: the probe heals the node without a restart; it accepts and delivers again.
    await pg.start();
    await waitFor(healed, on, 30_000, 'storage healed');
    assert.equal((await fetch(`${s.server.url}/api/v1/health`)).status, 204);
    const after = await call('POST', `/api/v1/app/${app}/msg`, { eventType: 'e', payload: {} });
    assert.equal(after.status, 202);
    await waitFor(() => received(after.body.id), on, 30_000, 'the message sent after the outage delivered');

    const began = log.lines.filter((l) => l.msg.startsWith('storage fault'));
    const ended = log.lines.filter((l) => l.msg.startsWith('storage recovered'));
    assert.ok(began.length >= 1 && began.every((l) => l.code === 'HW_STORE_UNAVAILABLE'), JSON.stringify(began));
    assert.equal(ended.length, 1, JSON.stringify(ended));
    assert.deepEqual(
      log.lines.filter((l) => l.level >= 50 || JSON.stringify(l).includes('"stack"')),
      [],
      'no error lines, no stack traces',
    );
  } finally {
    await s.close();
    await pg.destroy();
  }
});
