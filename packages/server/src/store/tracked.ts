import type { StorageHealth } from '../storage-health.ts';
import type { Store } from './types.ts';

type Method = Exclude<keyof Store, 'kind' | 'close' | 'probeWrite'>;

/**
 * Whether each call writes: a write that succeeds is told to storage health (which heals on it
 * when the store has no probe), one refused counts as a refused write. Every method is listed (the type requires it), so a new
 * one must be placed.
 */
const ACCESS: Record<Method, 'read' | 'write'> = {
  createApplication: 'write',
  getApplication: 'read',
  listApplications: 'read',
  updateApplication: 'write',
  deleteApplication: 'write',
  createEventType: 'write',
  getEventType: 'read',
  listEventTypes: 'read',
  updateEventType: 'write',
  deleteEventType: 'write',
  createIntegration: 'write',
  getIntegration: 'read',
  listIntegrations: 'read',
  updateIntegration: 'write',
  rotateIntegrationKey: 'write',
  deleteIntegration: 'write',
  createEndpoint: 'write',
  getEndpoint: 'read',
  listEndpoints: 'read',
  updateEndpoint: 'write',
  deleteEndpoint: 'write',
  createMessage: 'write',
  getMessage: 'read',
  listMessages: 'read',
  enqueueDelivery: 'write',
  recoverEndpoint: 'write',
  replayMissing: 'write',
  claimDeliveries: 'write',
  recordOutcomes: 'write',
  releaseLeases: 'write',
  releaseAllLeases: 'write',
  nextDueAt: 'read',
  queueStats: 'read',
  listMessageDestinations: 'read',
  listEndpointMessages: 'read',
  endpointStats: 'read',
  listAttemptsByMessage: 'read',
  listAttemptsByEndpoint: 'read',
  getAttempt: 'read',
  hasActiveEndpoint: 'read',
  bulkReplay: 'write',
  countMessageDestinations: 'read',
  expungeMessage: 'write',
  expungeExpiredPayloads: 'write',
  expungeApplicationPayloads: 'write',
  deleteExpiredRecords: 'write',
  expungeAttemptResponse: 'write',
  createToken: 'write',
  findToken: 'read',
  deleteToken: 'write',
  expireTokens: 'write',
  putTask: 'write',
  getTask: 'read',
  listTasks: 'read',
  deliveryTimeline: 'read',
  troubledEndpoints: 'read',
  getIdempotent: 'read',
  putIdempotent: 'write',
};

/**
 * The store with every call's outcome told to storage health, and storage faults classified on
 * the way out (faults.ts), whichever backend raised them. The probe is not passed on: it is
 * storage health's own, run on the store itself.
 */
export function trackedStore(store: Store, health: StorageHealth): Store {
  const tracked: Record<string, unknown> = { kind: store.kind, close: () => store.close() };
  const wrote = <T>(value: T): T => {
    health.wrote();
    return value;
  };
  for (const [name, access] of Object.entries(ACCESS)) {
    const write = access === 'write';
    const fn = store[name as Method] as (...args: unknown[]) => Promise<unknown>;
    const failed = (err: unknown) => {
      throw health.failed(err, write);
    };
    tracked[name] = write
      ? (...args: unknown[]) => fn.apply(store, args).then(wrote, failed)
      : (...args: unknown[]) => fn.apply(store, args).catch(failed);
  }
  return tracked as unknown as Store;
}
