/**
 * The SQLite store's thread (see worker.ts): opens the database and answers calls in arrival order.
 * Calls arriving in one burst run back to back, so ingestion's group commit still forms batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HookwardenError } from '@hookwarden/verify/errors';
import type { ClaimedDelivery } from '../types.ts';
import { openSqliteStore } from './index.ts';
import { type PackedOutcomes, packClaim, unpackOutcomes } from './wire.ts';

if (!parentPort) throw new Error('worker-main.ts runs only as a worker thread');
const port = parentPort;
const store = openSqliteStore((workerData as { path: string }).path) as unknown as Record<
  string,
  (...args: unknown[]) => Promise<unknown>
>;

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

port.on('message', (calls: { id: number; method: string; args: unknown[] }[]) => {
  for (const m of calls) {
    const fn = store[m.method];
    // The compact forms of the per-delivery calls (wire.ts).
    if (m.method === 'recordOutcomes') m.args[0] = unpackOutcomes(m.args[0] as PackedOutcomes);
    let call = typeof fn === 'function' ? fn(...m.args) : Promise.reject(new Error(`no store method ${m.method}`));
    if (m.method === 'claimDeliveries') call = call.then((rows) => packClaim(rows as ClaimedDelivery[]));
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
