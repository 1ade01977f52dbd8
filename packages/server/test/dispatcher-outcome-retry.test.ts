import assert from 'node:assert/strict';
import { test } from 'node:test';
import { waitFor } from '@hookwarden/testkit';
import type Database from 'better-sqlite3';
import { createDispatcher } from '../src/dispatcher/dispatcher.ts';
import { storageFault } from '../src/store/faults.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';
import { Status } from '../src/store/types.ts';
import { newEndpoint } from './store/fixtures.ts';

const MESSAGES = 12;

/**
 * Its database at its page limit with every free byte taken (PRAGMA max_page_count, then filler
 * until SQLITE_FULL): writes that need room fail, updates in place still pass.
 */
function fill(db: Database.Database): void {
  db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
  const filler = db.prepare(
    "INSERT INTO idempotency (scope, key, status, body, expires_at) VALUES ('filler', ?, 200, zeroblob(?), 0)",
  );
  for (let i = 0, size = 4096; size > 0; i++) {
    try {
      filler.run(`f${i}`, size);
    } catch (err) {
      if (storageFault(err)?.code !== 'HW_STORE_FULL') throw err;
      size = Math.floor(size / 2);
    }
  }
}

test('an outcome write a storage fault refuses is tried again with a backoff, never dropped', async () => {
  let db!: Database.Database;
  const store = openSqliteStore(':memory:', {
    connection: (c) => {
      db = c as Database.Database;
    },
  });
  await store.createApplication({ id: 'app_1', uid: null, name: 'a', metadata: {}, rateLimit: null }, 1);
  await store.createEndpoint(newEndpoint('app_1', 'ep_1'), 1);
  const ids = Array.from({ length: MESSAGES }, (_, i) => `msg_${i}`);
  // Held in flight until the end: the dispatcher is never idle, so no idle flush writes for it.
  for (const id of [...ids, 'msg_late']) {
    await store.createMessage(
      { id, appId: 'app_1', eventType: 'e', eventId: null, channels: null, tags: null, payload: '{}', createdAt: 1 },
      {},
    );
  }

  // Deliveries are held in flight until the database is full.
  const events = new Set<() => void>();
  const tell = () => {
    for (const l of events) l();
  };
  let sent = 0;
  let release!: () => void;
  const held = new Promise<void>((r) => {
    release = r;
  });
  let releaseLate!: () => void;
  const late = new Promise<void>((r) => {
    releaseLate = r;
  });
  const errors: unknown[] = [];
  const recorded: string[] = [];
  const dispatcher = createDispatcher({
    store,
    concurrency: MESSAGES + 1,
    perEndpointConcurrency: MESSAGES + 1,
    client: {
      deliver: async (req) => {
        sent++;
        tell();
        await held;
        if (req.headers['webhook-id'] === 'msg_late') await late;
        // An excerpt of a few KiB each: the attempts need fresh pages.
        return { ok: true, statusCode: 200, durationMs: 0, responseExcerpt: 'x'.repeat(2048) };
      },
    },
    onRecorded: (batch) => {
      recorded.push(...batch.map((o) => o.attempt.msgId));
      tell();
    },
    onError: (err) => {
      errors.push(err);
      tell();
    },
  });
  dispatcher.start();
  try {
    await waitFor(
      () => sent > 0,
      (fn) => events.add(fn),
      10_000,
      'a delivery in flight',
    );
    fill(db);
    release();
    // Refused, and refused again: the batch was kept and tried anew.
    await waitFor(
      () => errors.length >= 3,
      (fn) => events.add(fn),
      10_000,
      'the outcome write tried again',
    );
    assert.ok(errors.every((e) => storageFault(e)?.code === 'HW_STORE_FULL'));
    assert.deepEqual(recorded, [], 'nothing was recorded while the database was full');
    // Space returns: the outcomes kept are written, each once.
    db.pragma('max_page_count = 1000000');
    await waitFor(
      () => recorded.length === MESSAGES,
      (fn) => events.add(fn),
      10_000,
      'every outcome recorded',
    );
    assert.deepEqual([...recorded].sort(), [...ids].sort());
    releaseLate();
    await waitFor(
      () => recorded.length === MESSAGES + 1,
      (fn) => events.add(fn),
      10_000,
      'the late outcome recorded',
    );
    assert.equal(sent, MESSAGES + 1, 'the outcomes kept were written, not their rows delivered anew');
    for (const id of [...ids, 'msg_late']) {
      const attempts = await store.listAttemptsByMessage('app_1', id, { limit: 10 });
      assert.equal(attempts.data.length, 1, id);
      assert.equal(attempts.data[0]?.status, Status.success, id);
    }
  } finally {
    release();
    releaseLate();
    await dispatcher.stop();
    await store.close();
  }
});
