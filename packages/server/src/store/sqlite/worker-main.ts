/**
 * The SQLite store's thread (see worker.ts): opens the database and answers calls in arrival order.
 * Calls arriving in one burst run back to back, so ingestion's group commit still forms batches.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { HookwardenError } from '@hookwarden/verify/errors';
import { openSqliteStore } from './index.ts';

const port = parentPort;
if (!port) throw new Error('worker-main.ts runs only as a worker thread');
const store = openSqliteStore((workerData as { path: string }).path) as unknown as Record<
  string,
  (...args: unknown[]) => Promise<unknown>
>;

port.on('message', (m: { id: number; method: string; args: unknown[] }) => {
  const fn = store[m.method];
  const call = typeof fn === 'function' ? fn(...m.args) : Promise.reject(new Error(`no store method ${m.method}`));
  call.then(
    (value) => port.postMessage({ id: m.id, value }),
    (err: unknown) => {
      // Errors do not survive the thread boundary as classes: send what rebuilds them.
      const e = err as { code?: unknown; message?: unknown; status?: unknown };
      port.postMessage({
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
});
