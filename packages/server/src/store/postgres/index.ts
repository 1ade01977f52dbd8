import { invalidOption } from '../../errors.ts';
import type { Store } from '../types.ts';
import * as access from './access.ts';
import * as apps from './applications.ts';
import * as consoleReads from './console.ts';
import { Db } from './db.ts';
import * as endpoints from './endpoints.ts';
import * as eventTypes from './event-types.ts';
import * as integrations from './integrations.ts';
import * as messages from './messages.ts';
import { migrate } from './migrate.ts';
import { probeWrite } from './probe.ts';
import * as queue from './queue.ts';
import * as retention from './retention.ts';
import * as views from './views.ts';

export interface PostgresStoreOptions {
  /** `postgres://user:password@host:port/database` (libpq's URL form, `?sslmode=…` included). */
  url: string;
  /** Connections in the pool (default 10). */
  maxConnections?: number;
  /** How long to wait for a connection, new or from the pool, before HW_STORE_UNAVAILABLE or HW_STORE_BUSY (default 5000 ms). */
  connectTimeoutMs?: number;
  /** Shown in pg_stat_activity (default 'hookwarden'). */
  applicationName?: string;
}

function checked(o: PostgresStoreOptions) {
  let url: URL;
  try {
    url = new URL(o.url);
  } catch {
    throw invalidOption('url', 'is not a URL');
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw invalidOption('url', 'must be a postgres:// or postgresql:// URL');
  }
  const whole = (field: string, v: number | undefined, fallback: number, min: number) => {
    if (v === undefined) return fallback;
    if (!Number.isInteger(v) || v < min) throw invalidOption(field, `must be an integer of at least ${min}`);
    return v;
  };
  return {
    url: o.url,
    max: whole('maxConnections', o.maxConnections, 10, 1),
    connectTimeoutMs: whole('connectTimeoutMs', o.connectTimeoutMs, 5000, 1),
    applicationName: o.applicationName ?? 'hookwarden',
  };
}

/**
 * The PostgreSQL store: a `pg` pool, migrated at start (migrate.ts). Any number of processes may
 * open it on one database. Every operation is one statement (the queue's are in sql/), so none
 * holds a connection between statements. Storage faults (the database unreachable, full, read-only,
 * busy) are StorageFaults (faults.ts, 503); a database migrated by a newer Hookwarden is refused
 * with HW_SCHEMA_TOO_NEW.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<Store> {
  const db = new Db(checked(options));
  try {
    await migrate(db);
  } catch (err) {
    await db.close();
    throw err;
  }
  return new PostgresStore(db);
}

/** Each method is its concern's function (applications.ts, queue.ts, …) on this store's pool. */
class PostgresStore implements Store {
  readonly kind = 'postgres';
  private readonly claimer: queue.Claimer;

  constructor(private readonly db: Db) {
    this.claimer = new queue.Claimer(db);
  }

  close(): Promise<void> {
    return this.db.close();
  }

  createApplication: Store['createApplication'] = (app, now) => apps.createApplication(this.db, app, now);
  getApplication: Store['getApplication'] = (idOrUid) => apps.getApplication(this.db, idOrUid);
  listApplications: Store['listApplications'] = (page) => apps.listApplications(this.db, page);
  updateApplication: Store['updateApplication'] = (app, now) => apps.updateApplication(this.db, app, now);
  deleteApplication: Store['deleteApplication'] = (id) => apps.deleteApplication(this.db, id);

  createEventType: Store['createEventType'] = (t, now) => eventTypes.createEventType(this.db, t, now);
  getEventType: Store['getEventType'] = (name) => eventTypes.getEventType(this.db, name);
  listEventTypes: Store['listEventTypes'] = (page) => eventTypes.listEventTypes(this.db, page);
  updateEventType: Store['updateEventType'] = (t, now) => eventTypes.updateEventType(this.db, t, now);
  deleteEventType: Store['deleteEventType'] = (name) => eventTypes.deleteEventType(this.db, name);

  createIntegration: Store['createIntegration'] = (i, keyHash, now) =>
    integrations.createIntegration(this.db, i, keyHash, now);
  getIntegration: Store['getIntegration'] = (appId, id) => integrations.getIntegration(this.db, appId, id);
  listIntegrations: Store['listIntegrations'] = (appId, page) => integrations.listIntegrations(this.db, appId, page);
  updateIntegration: Store['updateIntegration'] = (appId, id, change, now) =>
    integrations.updateIntegration(this.db, appId, id, change, now);
  rotateIntegrationKey: Store['rotateIntegrationKey'] = (appId, id, key, keyHash, now) =>
    integrations.rotateIntegrationKey(this.db, appId, id, key, keyHash, now);
  deleteIntegration: Store['deleteIntegration'] = (appId, id) => integrations.deleteIntegration(this.db, appId, id);

  createEndpoint: Store['createEndpoint'] = (e, now) => endpoints.createEndpoint(this.db, e, now);
  getEndpoint: Store['getEndpoint'] = (appId, idOrUid) => endpoints.getEndpoint(this.db, appId, idOrUid);
  listEndpoints: Store['listEndpoints'] = (appId, page) => endpoints.listEndpoints(this.db, appId, page);
  updateEndpoint: Store['updateEndpoint'] = (e, now) => endpoints.updateEndpoint(this.db, e, now);
  deleteEndpoint: Store['deleteEndpoint'] = (appId, id) => endpoints.deleteEndpoint(this.db, appId, id);

  createMessage: Store['createMessage'] = (msg, opts) => messages.createMessage(this.db, msg, opts);
  getMessage: Store['getMessage'] = (appId, id) => messages.getMessage(this.db, appId, id);
  listMessages: Store['listMessages'] = (appId, f) => messages.listMessages(this.db, appId, f);
  enqueueDelivery: Store['enqueueDelivery'] = (msgId, endpointId, now, trigger) =>
    messages.enqueueDelivery(this.db, msgId, endpointId, now, trigger);
  recoverEndpoint: Store['recoverEndpoint'] = (endpointId, since, until, now) =>
    messages.recoverEndpoint(this.db, endpointId, since, until, now);
  replayMissing: Store['replayMissing'] = (endpointId, since, until, now) =>
    messages.replayMissing(this.db, endpointId, since, until, now);

  claimDeliveries: Store['claimDeliveries'] = (o) => this.claimer.claim(o);
  recordOutcomes: Store['recordOutcomes'] = (outcomes, now) => queue.recordOutcomes(this.db, outcomes, now);
  releaseLeases: Store['releaseLeases'] = (workerId, now) => queue.releaseLeases(this.db, workerId, now);
  releaseAllLeases: Store['releaseAllLeases'] = (now) => queue.releaseAllLeases(this.db, now);
  nextDueAt: Store['nextDueAt'] = () => queue.nextDueAt(this.db);
  queueStats: Store['queueStats'] = (now) => queue.queueStats(this.db, now);

  listMessageDestinations: Store['listMessageDestinations'] = (appId, msgId, page, now) =>
    views.listMessageDestinations(this.db, appId, msgId, page, now);
  listEndpointMessages: Store['listEndpointMessages'] = (appId, endpointId, f, now) =>
    views.listEndpointMessages(this.db, appId, endpointId, f, now);
  endpointStats: Store['endpointStats'] = (endpointId, window, now) =>
    views.endpointStats(this.db, endpointId, window, now);
  listAttemptsByMessage: Store['listAttemptsByMessage'] = (appId, msgId, f) =>
    views.listAttemptsByMessage(this.db, appId, msgId, f);
  listAttemptsByEndpoint: Store['listAttemptsByEndpoint'] = (appId, endpointId, f) =>
    views.listAttemptsByEndpoint(this.db, appId, endpointId, f);
  getAttempt: Store['getAttempt'] = (appId, msgId, attemptId) => views.getAttempt(this.db, appId, msgId, attemptId);
  hasActiveEndpoint: Store['hasActiveEndpoint'] = (appId, type, channels) =>
    views.hasActiveEndpoint(this.db, appId, type, channels);
  bulkReplay: Store['bulkReplay'] = (endpointId, f, now) => views.bulkReplay(this.db, endpointId, f, now);
  countMessageDestinations: Store['countMessageDestinations'] = (appId, since, until) =>
    views.countMessageDestinations(this.db, appId, since, until);

  expungeMessage: Store['expungeMessage'] = (appId, msgId, now) => retention.expungeMessage(this.db, appId, msgId, now);
  expungeExpiredPayloads: Store['expungeExpiredPayloads'] = (now, limit) =>
    retention.expungeExpiredPayloads(this.db, now, limit);
  expungeApplicationPayloads: Store['expungeApplicationPayloads'] = (appId, afterId, limit, now) =>
    retention.expungeApplicationPayloads(this.db, appId, afterId, limit, now);
  deleteExpiredRecords: Store['deleteExpiredRecords'] = (now, limit) =>
    retention.deleteExpiredRecords(this.db, now, limit);
  expungeAttemptResponse: Store['expungeAttemptResponse'] = (appId, msgId, attemptId) =>
    retention.expungeAttemptResponse(this.db, appId, msgId, attemptId);

  createToken: Store['createToken'] = (hash, appId, expiresAt, opts) =>
    access.createToken(this.db, hash, appId, expiresAt, opts);
  findToken: Store['findToken'] = (hash, now) => access.findToken(this.db, hash, now);
  deleteToken: Store['deleteToken'] = (hash) => access.deleteToken(this.db, hash);
  expireTokens: Store['expireTokens'] = (appId, at, sessionIds) => access.expireTokens(this.db, appId, at, sessionIds);
  putTask: Store['putTask'] = (t, expiresAt) => access.putTask(this.db, t, expiresAt);
  getTask: Store['getTask'] = (id) => access.getTask(this.db, id);
  listTasks: Store['listTasks'] = (f) => access.listTasks(this.db, f);
  deliveryTimeline: Store['deliveryTimeline'] = (w) => consoleReads.deliveryTimeline(this.db, w);
  troubledEndpoints: Store['troubledEndpoints'] = (limit) => consoleReads.troubledEndpoints(this.db, limit);
  getIdempotent: Store['getIdempotent'] = (scope, key, now) => access.getIdempotent(this.db, scope, key, now);
  putIdempotent: Store['putIdempotent'] = (scope, key, status, body, expiresAt) =>
    access.putIdempotent(this.db, scope, key, status, body, expiresAt);

  probeWrite = (now: number) => probeWrite(this.db, now);
}
