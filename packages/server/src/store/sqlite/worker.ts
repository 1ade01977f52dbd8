import { ServerError } from '../../errors.ts';
import type { ApplicationRow, ClaimedDelivery, Outcome, Store } from '../types.ts';
import { startThread } from './thread.ts';
import { type PackedClaim, type PackedError, packError, packOutcomes, unpackClaim, unpackError } from './wire.ts';

const APP_CACHE_SIZE = 10_000;

/*
 * Why a thread: profiled in bench/dispatch.ts (2 cores, Node 20), SQLite took ~20 µs of the main
 * thread per delivery (claim ~8, recording ~12) and ~9 µs per ingested message, about a third of the
 * dispatcher's time, while the second core idled. Here the same store runs on its own thread, one
 * connection, one writer; the main thread only clones arguments and results. Durability is the
 * store's own: a call is answered only after its transaction committed.
 */

const METHODS = [
  'createApplication',
  'getApplication',
  'listApplications',
  'updateApplication',
  'deleteApplication',
  'createEventType',
  'getEventType',
  'listEventTypes',
  'updateEventType',
  'deleteEventType',
  'createIntegration',
  'getIntegration',
  'listIntegrations',
  'updateIntegration',
  'rotateIntegrationKey',
  'deleteIntegration',
  'createEndpoint',
  'getEndpoint',
  'listEndpoints',
  'updateEndpoint',
  'deleteEndpoint',
  'createMessage',
  'getMessage',
  'listMessages',
  'enqueueDelivery',
  'recoverEndpoint',
  'replayMissing',
  'claimDeliveries',
  'recordOutcomes',
  'releaseLeases',
  'releaseAllLeases',
  'nextDueAt',
  'queueStats',
  'listMessageDestinations',
  'listEndpointMessages',
  'endpointStats',
  'listAttemptsByMessage',
  'listAttemptsByEndpoint',
  'getAttempt',
  'expungeMessage',
  'expungeExpiredPayloads',
  'deleteExpiredRecords',
  'expungeApplicationPayloads',
  'hasActiveEndpoint',
  'bulkReplay',
  'expungeAttemptResponse',
  'createToken',
  'findToken',
  'deleteToken',
  'expireTokens',
  'countMessageDestinations',
  'putTask',
  'getTask',
  'listTasks',
  'getIdempotent',
  'putIdempotent',
  'deliveryTimeline',
  'troubledEndpoints',
] as const satisfies readonly Exclude<keyof Store, 'kind' | 'close'>[];

type Reply = { id: number; value?: unknown; error?: PackedError };

/** The store on its thread, with the calls it answers on the store's own connection. */
export interface SqliteThreadStore extends Store {
  probeWrite(now: number): Promise<void>;
  /** Runs one PRAGMA on the store's connection (some hold for one connection only: max_page_count). */
  pragma(source: string): Promise<unknown>;
}

/** The SQLite store (openSqliteStore) on a worker thread, behind the same asynchronous interface. */
export function openSqliteStoreInWorker(path: string): SqliteThreadStore {
  const worker = startThread('worker-main', { path });
  const calls = new Map<number, { resolve: (v: unknown) => void; reject: (e: unknown) => void }>();
  let nextId = 0;
  let failure: Error | undefined;
  // The thread holds no timers of its own: idle, it must not keep the process alive.
  worker.unref();

  const failAll = (err: Error) => {
    failure ??= err;
    for (const c of calls.values()) c.reject(err);
    calls.clear();
  };
  worker.on('message', (replies: Reply[]) => {
    for (const m of replies) answer(m);
  });
  const answer = (m: Reply) => {
    const c = calls.get(m.id);
    if (!c) return;
    calls.delete(m.id);
    if (calls.size === 0) worker.unref();
    if (m.error) c.reject(unpackError(m.error));
    else c.resolve(m.value);
  };
  worker.on('error', (err) => failAll(new ServerError('HW_STORE_FAILED', `the store thread failed: ${err.message}`)));
  worker.on('exit', () => failAll(new ServerError('HW_STORE_CLOSED', 'the store is closed')));

  const call = (method: string, args: unknown[]): Promise<never> =>
    new Promise((resolve, reject) => {
      if (failure) return reject(failure);
      const id = nextId++;
      calls.set(id, { resolve: resolve as (v: unknown) => void, reject });
      // A pending call keeps the process alive, as a pending database call should.
      if (calls.size === 1) worker.ref();
      // Calls made in one task cross in one message: profiled, a postMessage per call cost
      // more main-thread time than the SQLite work it handed off.
      outbox.push({ id, method, args });
      if (outbox.length === 1) queueMicrotask(send);
    });
  let outbox: { id: number; method: string; args: unknown[] }[] = [];
  const send = () => {
    const batch = outbox;
    outbox = [];
    if (failure) for (const m of batch) answer({ id: m.id, error: packError(failure) });
    else worker.postMessage(batch);
  };

  const store = { kind: 'sqlite' } as Record<string, unknown>;
  for (const method of [...METHODS, 'probeWrite', 'pragma']) store[method] = (...args: unknown[]) => call(method, args);

  // The two calls made for every delivery cross in compact form (wire.ts).
  store.claimDeliveries = async (...args: unknown[]): Promise<ClaimedDelivery[]> =>
    unpackClaim((await call('claimDeliveries', args)) as PackedClaim);
  store.recordOutcomes = (outcomes: Outcome[], now: number) => call('recordOutcomes', [packOutcomes(outcomes), now]);

  // Every API request resolves its application: kept on this side too, so that lookup costs no
  // round trip. Exact for the same reason as the store's own cache: this process is the only writer
  // (one serve per data directory), and every application change clears it.
  const apps = new Map<string, ApplicationRow>();
  let appsGeneration = 0;
  store.getApplication = async (idOrUid: string) => {
    const cached = apps.get(idOrUid);
    if (cached) return cached;
    const generation = appsGeneration;
    const app = (await call('getApplication', [idOrUid])) as ApplicationRow | undefined;
    // A change sent while this lookup was in flight may postdate its answer: not cached then.
    if (app && generation === appsGeneration) {
      if (apps.size >= APP_CACHE_SIZE) apps.clear();
      apps.set(idOrUid, app);
    }
    return app;
  };
  for (const method of ['updateApplication', 'deleteApplication'] as const) {
    store[method] = (...args: unknown[]) => {
      apps.clear();
      appsGeneration++;
      return call(method, args);
    };
  }
  store.close = async () => {
    if (failure) return;
    // Queued calls run first (messages are handled in order), then the database closes.
    await call('close', []);
    await worker.terminate();
  };
  return store as unknown as SqliteThreadStore;
}
