/**
 * The SQLite store's thread (see worker.ts): opens the database and answers calls in arrival order.
 * Calls arriving in one burst run back to back, so ingestion's group commit still forms batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { presign } from '../../delivery/signing.ts';
import { storageFault } from '../faults.ts';
import type { ClaimedDelivery } from '../types.ts';
import { openSqliteStore, type SqliteConnection } from './index.ts';
import { startThread } from './thread.ts';
import { type PackedError, type PackedOutcomes, packClaim, packError, unpackOutcomes } from './wire.ts';

if (!parentPort) throw new Error('worker-main.ts runs only as a worker thread');
const port = parentPort;
const path = (workerData as { path: string }).path;
// WAL checkpoints run on their own thread (checkpointer.ts); the store checkpoints by itself only
// if that one falls far behind.
let connection!: SqliteConnection;
const store = openSqliteStore(path, {
  autoCheckpointPages: 16_384,
  connection: (db) => {
    connection = db;
  },
}) as unknown as Record<string, (...args: unknown[]) => Promise<unknown>>;
/** Calls of the thread's own, on the store's connection (worker.ts). */
const own: Record<string, (...args: unknown[]) => Promise<unknown>> = {
  // Some pragmas (max_page_count) hold for one connection only: this one.
  pragma: async (source) => connection.pragma(source as string, { simple: true }),
};
const checkpointer = path === ':memory:' ? undefined : startThread('checkpointer', { path, intervalMs: 100 });
// It holds no work that must finish: it never keeps the process alive.
checkpointer?.unref();

type Reply = { id: number; value?: unknown; error?: PackedError };

// Answers settled in one task go back in one message, as calls come in one (see worker.ts).
let outbox: Reply[] = [];
function reply(r: Reply): void {
  outbox.push(r);
  if (outbox.length === 1) {
    queueMicrotask(() => {
      const batch = outbox;
      outbox = [];
      port.postMessage(batch);
    });
  }
}

/** Stops the checkpointer before the store closes its own connection. */
async function stopCheckpointer(): Promise<void> {
  if (!checkpointer) return;
  const exited = new Promise((resolve) => checkpointer.once('exit', resolve));
  checkpointer.postMessage('stop');
  await exited;
}

port.on('message', async (calls: { id: number; method: string; args: unknown[] }[]) => {
  if (calls.some((m) => m.method === 'close')) await stopCheckpointer();
  for (const m of calls) {
    const fn = own[m.method] ?? store[m.method];
    // The compact forms of the per-delivery calls (wire.ts).
    if (m.method === 'recordOutcomes') m.args[0] = unpackOutcomes(m.args[0] as PackedOutcomes);
    let call = typeof fn === 'function' ? fn(...m.args) : Promise.reject(new Error(`no store method ${m.method}`));
    if (m.method === 'claimDeliveries') {
      // Signed here, for the claim's own clock: the delivering thread then skips the HMAC.
      const now = (m.args[0] as { now: number }).now;
      call = call.then((rows) => {
        presign(rows as ClaimedDelivery[], now);
        return packClaim(rows as ClaimedDelivery[]);
      });
    }
    call.then(
      (value) => reply({ id: m.id, value }),
      // Storage faults are classified here, where the driver's error is (faults.ts).
      (err: unknown) => reply({ id: m.id, error: packError(storageFault(err) ?? err) }),
    );
  }
});
