import assert from 'node:assert/strict';
import { type FSWatcher, statSync, watch } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir, waitFor } from '@hookwarden/testkit';
import { generateSecret, verifySignature } from '@hookwarden/verify/signature';
import { openSqliteStoreInWorker } from '../../src/store/sqlite/worker.ts';
import { storeConformance } from './conformance.ts';
import { consoleConformance } from './console-conformance.ts';
import { newEndpoint } from './fixtures.ts';

// The same contract, with the store on its own thread: arguments, results and errors cross it intact.
const open = async () => {
  const dir = tempDir();
  return { store: openSqliteStoreInWorker(join(dir.path, 'hookwarden.db')), cleanup: async () => dir.cleanup() };
};
storeConformance('sqlite on a worker thread', open);
consoleConformance('sqlite on a worker thread', open);

test('WAL checkpoints run beside the store thread: committed pages reach the database file', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'hookwarden.db');
  const store = openSqliteStoreInWorker(path);
  try {
    await store.createApplication({ id: 'app_1', uid: null, name: 'a', metadata: {}, rateLimit: null }, 1);
    const before = statSync(path).size;
    // ~2 MB of messages: far below the store's own automatic limit (16,384 pages), so only the
    // checkpointer thread moves these pages from the WAL into the database file.
    const payload = JSON.stringify({ note: 'x'.repeat(2000) });
    await Promise.all(
      Array.from({ length: 1000 }, (_, i) =>
        store.createMessage(
          {
            id: `msg_${String(i).padStart(6, '0')}`,
            appId: 'app_1',
            eventType: 'e',
            eventId: null,
            channels: null,
            tags: null,
            payload,
            createdAt: 2,
          },
          {},
        ),
      ),
    );
    // Re-checked whenever the database file changes (inotify), not on a timer.
    let watcher: FSWatcher | undefined;
    try {
      await waitFor(
        () => statSync(path).size > before + 1_000_000,
        (fn) => {
          watcher = watch(path, fn);
        },
        10_000,
        'the checkpointer to copy the WAL into the database file',
      );
    } finally {
      watcher?.close();
    }
  } finally {
    await store.close();
    dir.cleanup();
  }
});

test("claims from the store's thread arrive signed for the claim's second, verifiable with the endpoint's secrets", async () => {
  const dir = tempDir();
  const store = openSqliteStoreInWorker(join(dir.path, 'hookwarden.db'));
  try {
    const secrets = [generateSecret(), generateSecret()];
    await store.createApplication({ id: 'app_1', uid: null, name: 'a', metadata: {}, rateLimit: null }, 1);
    await store.createEndpoint(
      newEndpoint('app_1', 'ep_1', { secrets: secrets.map((key) => ({ key, expiresAt: null })) }),
      1,
    );
    await store.createEndpoint(newEndpoint('app_1', 'ep_ed', { signing: 'ed25519' }), 1);
    const payload = '{"type":"invoice.paid"}';
    await store.createMessage(
      { id: 'msg_1', appId: 'app_1', eventType: 'e', eventId: null, channels: null, tags: null, payload, createdAt: 1 },
      {},
    );
    const now = 1_764_320_000_250;
    const claimed = await store.claimDeliveries({ workerId: 'w', now, leaseMs: 60_000, limit: 10 });
    const byEndpoint = new Map(claimed.map((d) => [d.endpoint.id, d]));
    const hmac = byEndpoint.get('ep_1')?.presigned;
    assert.ok(hmac, 'the HMAC endpoint row is presigned');
    assert.deepEqual([hmac.timestamp, hmac.until], [Math.floor(now / 1000), 1_764_320_001_000]);
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(hmac.timestamp),
      'webhook-signature': hmac.value,
    };
    for (const secret of secrets) verifySignature({ headers, body: payload, secrets: [secret], now: () => now });
    // The platform's Ed25519 keys are not the store's: that row is signed by the dispatcher.
    assert.equal(byEndpoint.get('ep_ed')?.presigned, undefined);
  } finally {
    await store.close();
    dir.cleanup();
  }
});
