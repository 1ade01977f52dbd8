/**
 * The SQLite store's thread (see worker.ts): opens the database and answers calls in arrival order.
 * Calls arriving in one burst run back to back, so ingestion's group commit still forms batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HookwardenError } from '@hookwarden/verify/errors';
import { presign } from '../../delivery/signing.ts';
import type { ClaimedDelivery } from '../types.ts';
import { openSqliteStore } from './index.ts';
import { startThread } from './thread.ts';
import { type PackedOutcomes, packClaim, unpackOutcomes } from './wire.ts';

if (!parentPort) throw new Error('worker-main.ts runs only as a worker thread');
const port = parentPort;
const path = (workerData as { path: string }).path;
// WAL checkpoints run on their own thread (checkpointer.ts); the store checkpoints by itself only
// if that one falls far behind.
const store = openSqliteStore(path, { autoCheckpointPages: 16_384 }) as unknown as Record<
  string,
  (...args: unknown[]) => Promise<unknown>
>;
const checkpointer = path === ':memory:' ? undefined : startThread('checkpointer', { path, intervalMs: 100 });
// It holds no work that must finish: it never keeps the process alive.
checkpointer?.unref();

type Reply = {
  id: number;
  value?: unknown;
  error?: { ours: boolean; code?: string; status?: number; message: string };
};

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
    const fn = store[m.method];
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
      (err: unknown) => {
        // Errors do not survive the thread boundary as classes: send what rebuilds them.
        const e = err as { code?: unknown; message?: unknown; status?: unknown };
        reply({
          id: m.id,
          error: {
            ours: err instanceof HookwardenError,
            code: typeof e?.code === 'string' ? e.code : undefined,
            status: typeof e?.status === 'number' ? e.status : undefined,
            message: String(e?.message ?? err),
          },
        });
      },
    );
  }
});
