import { closeSync, existsSync, openSync } from 'node:fs';
import Database from 'better-sqlite3';
import { conflict } from '../../errors.ts';
import { idFloor } from '../../ids.ts';
import { storageFault } from '../faults.ts';
import type {
  ApplicationRow,
  AttemptFilter,
  AttemptRow,
  ClaimedDelivery,
  EndpointRow,
  EventTypeRow,
  MessageFilter,
  MessageRow,
  NewApplication,
  NewEndpoint,
  NewEventType,
  Outcome,
  Page,
  PageQuery,
  StatusCode,
  Store,
  TaskFilter,
} from '../types.ts';
import { Status, Trigger } from '../types.ts';
import { deliveryTimeline, troubledEndpoints } from './console.ts';
import { nameCursorOf, nameIteratorOf, pageSql, toPage } from './page.ts';
import { probeWrite } from './probe.ts';
import { CLAIM_FOR_ENDPOINT, DUE_ENDPOINTS } from './queue/claim.ts';
import { COMPLETE_DELIVERY, FAIL_RETRY_OF_DISABLED } from './queue/complete.ts';
import { ANY_MATCHING_ENDPOINT, ENQUEUE_MESSAGE } from './queue/enqueue-message.ts';
import { ENQUEUE_ONE } from './queue/enqueue-one.ts';
import { FAIL_PENDING_OF_ENDPOINT } from './queue/fail-disabled.ts';
import { NEXT_DUE } from './queue/next-due.ts';
import { RECOVER_ENDPOINT, REPLAY_MISSING } from './queue/recover.ts';
import { RELEASE_ALL_LEASES, RELEASE_LEASES } from './queue/release.ts';
import { ENDPOINT_STATS, ENDPOINT_STATS_ALL_TIME, QUEUE_STATS } from './queue/stats.ts';
import {
  appFromRow,
  attemptFromRow,
  endpointFromRow,
  endpointParams,
  eventTypeFromRow,
  integrationFromRow,
  json,
  listParam,
  messageFromRow,
  taskFromRow,
} from './rows.ts';
import { MIGRATIONS } from './schema.ts';

type Raw = Record<string, unknown>;

const APP_CACHE_SIZE = 10_000;

function isUniqueViolation(err: unknown): boolean {
  return (err as { code?: string })?.code === 'SQLITE_CONSTRAINT_UNIQUE';
}

/**
 * The SQLite store: one file, WAL mode, one connection. better-sqlite3 is synchronous, which suits
 * SQLite's single writer: each method is one short transaction and never yields mid-way.
 */
/** Delivery `d` is the latest of its message to its endpoint (a resend adds one). */
const LATEST_DELIVERY =
  'd.id = (SELECT MAX(id) FROM deliveries WHERE msg_id = d.msg_id AND endpoint_id = d.endpoint_id)';
/** Delivery `d`'s status at the instant bound to `?`: a pending row under a live lease is sending. */
const STATUS_AT = `CASE WHEN d.status = ${Status.pending} AND d.locked_until > ? THEN ${Status.sending} ELSE d.status END`;

/**
 * The store's better-sqlite3 connection, as `connection` hands it. Named here rather than
 * imported, so that the published types need no @types/better-sqlite3; a caller that wants more
 * of it casts to better-sqlite3's Database, which it is.
 */
export interface SqliteConnection {
  pragma(source: string, options?: { simple?: boolean }): unknown;
}

export function openSqliteStore(
  path: string,
  options: {
    autoCheckpointPages?: number;
    /** Handed the store's connection once it is open (the store thread: its pragmas). */
    connection?: (db: SqliteConnection) => void;
  } = {},
): Store {
  // The database holds endpoint secrets and tenant client keys: owner-only, like every key file.
  // SQLite gives its -wal and -shm files the database file's mode.
  if (path !== ':memory:' && !existsSync(path)) closeSync(openSync(path, 'a', 0o600));
  const db = new Database(path);
  db.pragma('journal_mode = WAL');
  // NORMAL in WAL mode: a power cut may lose the last commits but never corrupts; a process crash
  // (kill -9) loses nothing committed.
  db.pragma('synchronous = NORMAL');
  db.pragma('foreign_keys = ON');
  db.pragma('busy_timeout = 5000');
  // SQLite's default is 1000 pages; the store thread raises it while a checkpointer runs beside it.
  if (options.autoCheckpointPages !== undefined) {
    db.pragma(`wal_autocheckpoint = ${Math.max(0, Math.floor(options.autoCheckpointPages))}`);
  }
  migrate(db);
  options.connection?.(db);

  const stmt = (() => {
    const cache = new Map<string, Database.Statement>();
    return (sql: string): Database.Statement => {
      let s = cache.get(sql);
      if (!s) {
        s = db.prepare(sql);
        cache.set(sql, s);
      }
      return s;
    };
  })();

  function paged<R extends { id: string }, T>(
    table: string,
    where: string,
    params: unknown[],
    page: PageQuery,
    defaultOrder: 'ascending' | 'descending',
    map: (r: R) => T,
  ): Page<T> {
    const p = pageSql(page, defaultOrder);
    const rows = stmt(`SELECT * FROM ${table} WHERE ${where} AND ${p.where} ORDER BY ${p.orderBy} LIMIT ?`).all(
      ...params,
      ...p.params,
      p.limit,
    ) as R[];
    return toPage(rows, page, p.backwards, map);
  }

  const getEndpointRow = (appId: string, idOrUid: string): EndpointRow | undefined => {
    const r =
      stmt('SELECT * FROM endpoints WHERE id = ? AND app_id = ?').get(idOrUid, appId) ??
      stmt('SELECT * FROM endpoints WHERE app_id = ? AND uid = ?').get(appId, idOrUid);
    return r ? endpointFromRow(r as Raw) : undefined;
  };

  // Runs inside the ingestion batch's transaction. No savepoint per message (measured: they cost
  // more than the inserts): the only statement that can fail is the first INSERT, and SQLite undoes
  // a failed statement by itself, so a refused message leaves nothing behind.
  const createMessage = (
    given: MessageRow,
    deliverAt: number | undefined,
    fanOut: boolean,
    payloadExpiresAt: number | null,
  ): { message: MessageRow; created: boolean; deliveries: number } => {
    const msg = deliverAt === undefined ? given : { ...given, deliverAt };
    if (msg.eventId !== null) {
      const existing = stmt('SELECT * FROM messages WHERE app_id = ? AND event_id = ?').get(msg.appId, msg.eventId);
      if (existing) return { message: messageFromRow(existing as Raw), created: false, deliveries: 0 };
    }
    stmt(
      `INSERT INTO messages (id, app_id, event_type, event_id, channels, tags, payload, created_at, payload_expires_at,
         deliver_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    ).run(
      msg.id,
      msg.appId,
      msg.eventType,
      msg.eventId,
      msg.channels ? JSON.stringify(msg.channels) : null,
      msg.tags ? JSON.stringify(msg.tags) : null,
      msg.payload,
      msg.createdAt,
      payloadExpiresAt,
      deliverAt ?? null,
    );
    if (!fanOut) return { message: msg, created: true, deliveries: 0 };
    const info = stmt(ENQUEUE_MESSAGE).run(
      msg.id,
      deliverAt ?? msg.createdAt,
      msg.createdAt,
      msg.createdAt,
      msg.appId,
      msg.eventType,
      msg.channels ? JSON.stringify(msg.channels) : '[]',
    );
    return { message: msg, created: true, deliveries: info.changes };
  };

  let rotation = 0;
  type Ingest = {
    msg: MessageRow;
    deliverAt: number | undefined;
    fanOut: boolean;
    payloadExpiresAt: number | null;
    resolve: (r: { message: MessageRow; created: boolean; deliveries: number }) => void;
    reject: (err: unknown) => void;
  };
  let ingest: Ingest[] = [];
  const ingestBatch = db.transaction((batch: Ingest[]) =>
    batch.map((i) => {
      // One bad row fails alone, not its whole batch. A storage fault fails the batch: SQLite may
      // have rolled the whole transaction back (SQLITE_FULL does), and the rows after it would
      // commit one by one, a message without its deliveries among them.
      try {
        return { ok: true as const, value: createMessage(i.msg, i.deliverAt, i.fanOut, i.payloadExpiresAt) };
      } catch (err) {
        if (storageFault(err)) throw err;
        return { ok: false as const, err };
      }
    }),
  );
  function flushIngest(): void {
    const batch = ingest;
    ingest = [];
    try {
      const results = ingestBatch(batch);
      results.forEach((r, n) => {
        const i = batch[n] as Ingest;
        if (r.ok) i.resolve(r.value);
        else i.reject(r.err);
      });
    } catch (err) {
      for (const i of batch) i.reject(err);
    }
  }

  /** Empties these messages' payloads and ends their waiting deliveries (ids as a JSON array). */
  const expungeAll = (ids: string, now: number): void => {
    stmt(
      `UPDATE messages SET payload = '{}', expunged_at = COALESCE(expunged_at, ?)
         WHERE id IN (SELECT value FROM json_each(?))`,
    ).run(now, ids);
    // A leased delivery finishes its attempt; if it would be retried, its next claim ends it.
    stmt(
      `UPDATE deliveries SET status = ${Status.fail}, next_attempt_at = NULL, updated_at = ?
         WHERE msg_id IN (SELECT value FROM json_each(?)) AND status = ${Status.pending} AND locked_by IS NULL`,
    ).run(now, ids);
  };
  const expunge = db.transaction((appId: string, msgId: string, now: number): boolean => {
    if (!stmt('SELECT 1 FROM messages WHERE app_id = ? AND id = ?').get(appId, msgId)) return false;
    expungeAll(JSON.stringify([msgId]), now);
    // An Idempotency-Key reply to the message's creation holds its payload (for up to 24 hours): it
    // keeps answering a retried POST, with the payload as the message now reads, `{}`.
    stmt(
      `UPDATE idempotency SET body = json_set(body, '$.payload', json('{}'))
         WHERE instr(body, ?) > 0 AND json_valid(body) AND json_type(body, '$.payload') IS NOT NULL`,
    ).run(`"id":${JSON.stringify(msgId)}`);
    return true;
  });
  const expungeOfApplication = db.transaction(
    (appId: string, afterId: string | null, limit: number, now: number): string | null => {
      const ids = stmt('SELECT id FROM messages WHERE app_id = ? AND id > ? ORDER BY id LIMIT ?')
        .all(appId, afterId ?? '', limit)
        .map((r) => (r as { id: string }).id);
      if (ids.length === 0) return null;
      expungeAll(JSON.stringify(ids), now);
      return ids[ids.length - 1] as string;
    },
  );
  const expungeExpired = db.transaction((now: number, limit: number): number => {
    const ids = stmt(
      `SELECT id FROM messages WHERE payload_expires_at IS NOT NULL AND expunged_at IS NULL
         AND payload_expires_at <= ? ORDER BY payload_expires_at LIMIT ?`,
    )
      .all(now, limit)
      .map((r) => (r as { id: string }).id);
    if (ids.length > 0) expungeAll(JSON.stringify(ids), now);
    return ids.length;
  });

  const claim = db.transaction(
    (
      workerId: string,
      now: number,
      leaseMs: number,
      limit: number,
      perEndpoint: number,
      inFlight: ReadonlyMap<string, number>,
      endpointLimits: ReadonlyMap<string, number> | undefined,
    ): ClaimedDelivery[] => {
      const due = (stmt(DUE_ENDPOINTS).all({ now }) as { id: string }[]).map((r) => r.id);
      const rows: Raw[] = [];
      // Start at a different endpoint each time: no endpoint is always served last.
      rotation = (rotation + 1) % Math.max(1, due.length);
      for (let i = 0; i < due.length && rows.length < limit; i++) {
        const endpointId = due[(i + rotation) % due.length] as string;
        const cap = endpointLimits?.get(endpointId) ?? perEndpoint;
        const quota = Math.min(cap - (inFlight.get(endpointId) ?? 0), limit - rows.length);
        if (quota <= 0) continue;
        rows.push(
          ...(stmt(CLAIM_FOR_ENDPOINT).all({ workerId, now, until: now + leaseMs, limit: quota, endpointId }) as Raw[]),
        );
      }
      if (rows.length === 0) return [];
      const msgIds = JSON.stringify([...new Set(rows.map((r) => r.msg_id))]);
      const endpointIds = JSON.stringify([...new Set(rows.map((r) => r.endpoint_id))]);
      const messages = new Map(
        (stmt('SELECT * FROM messages WHERE id IN (SELECT value FROM json_each(?))').all(msgIds) as Raw[]).map((r) => [
          r.id as string,
          messageFromRow(r),
        ]),
      );
      const endpointRows = stmt(
        `SELECT e.*, a.rate_limit AS app_rate_limit FROM endpoints e JOIN applications a ON a.id = e.app_id
           WHERE e.id IN (SELECT value FROM json_each(?))`,
      ).all(endpointIds) as Raw[];
      const endpoints = new Map(endpointRows.map((r) => [r.id as string, endpointFromRow(r)]));
      const rates = new Map(
        endpointRows.map((r) => [r.id as string, (r.rate_limit ?? r.app_rate_limit ?? null) as number | null]),
      );
      const out: ClaimedDelivery[] = [];
      for (const r of rows) {
        const message = messages.get(r.msg_id as string);
        const endpoint = endpoints.get(r.endpoint_id as string);
        if (message?.expungedAt !== undefined) {
          // Its payload was deleted (a retry scheduled by an attempt in flight at the time): ended,
          // never sent.
          stmt(
            `UPDATE deliveries SET status = ${Status.fail}, next_attempt_at = NULL, locked_by = NULL,
               locked_until = NULL, updated_at = ? WHERE id = ?`,
          ).run(now, r.id);
          continue;
        }
        if (message && endpoint) {
          out.push({
            id: r.id as number,
            attempts: r.attempts as number,
            triggerType: r.trigger_type as number,
            message,
            endpoint,
            rateLimit: rates.get(endpoint.id) ?? null,
          });
        }
      }
      return out;
    },
  );

  // The TLS facts are shared by every attempt on one connection: serialised once each.
  const tlsJson = new WeakMap<object, string>();
  const tlsText = (tls: Outcome['attempt']['tls']): string | null => {
    if (!tls) return null;
    let text = tlsJson.get(tls);
    if (text === undefined) {
      text = JSON.stringify(tls);
      tlsJson.set(tls, text);
    }
    return text;
  };
  const record = db.transaction((outcomes: Outcome[], now: number) => {
    const lastByEndpoint = new Map<string, Outcome['attempt']>();
    // Positional parameters: binding from an object by name cost more than the insert's own work.
    const insertAttempt = stmt(
      `INSERT INTO attempts (id, delivery_id, msg_id, endpoint_id, app_id, url, status, status_code, response,
         duration_ms, failure_kind, failure_message, tls, trigger_type, created_at)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
    );
    const completeDelivery = stmt(COMPLETE_DELIVERY);
    for (const o of outcomes) {
      const a = o.attempt;
      const final = o.nextAttemptAt === undefined;
      const completed = completeDelivery.run(
        a.status === 0 ? 0 : final ? 2 : 1,
        o.nextAttemptAt ?? null,
        now,
        o.deliveryId,
      ).changes;
      // Its endpoint, message or application was deleted while it was in flight, and the delivery
      // row with it: nothing is left to record. (Its attempt's references would fail the whole
      // batch's transaction, and every other outcome in it would be delivered again.)
      if (completed === 0) continue;
      if (o.nextAttemptAt !== undefined) stmt(FAIL_RETRY_OF_DISABLED).run(o.deliveryId);
      insertAttempt.run(
        a.id,
        o.deliveryId,
        a.msgId,
        a.endpointId,
        a.appId,
        a.url,
        a.status,
        a.statusCode,
        a.response,
        a.durationMs,
        a.failureKind,
        a.failureMessage,
        tlsText(a.tls),
        a.triggerType,
        a.createdAt,
      );
      // One endpoint update per endpoint and batch, not per row: the last outcome decides.
      lastByEndpoint.set(a.endpointId, a);
      if (o.disableEndpoint) {
        stmt('UPDATE endpoints SET disabled = 1, updated_at = ? WHERE id = ?').run(now, a.endpointId);
        stmt(FAIL_PENDING_OF_ENDPOINT).run({ endpointId: a.endpointId, now });
      }
    }
    for (const [endpointId, a] of lastByEndpoint) {
      if (a.status === 0) {
        stmt('UPDATE endpoints SET failing_since = NULL WHERE id = ? AND failing_since IS NOT NULL').run(endpointId);
      } else {
        stmt('UPDATE endpoints SET failing_since = ? WHERE id = ? AND failing_since IS NULL').run(
          a.createdAt,
          endpointId,
        );
      }
    }
  });

  /**
   * `e` is an earlier read with the caller's changes. Two columns are also the dispatcher's, which
   * may have written them since (recordOutcomes): `failing_since` is kept, unless this update
   * enables the endpoint again (a fresh failure window); `disabled` becomes the caller's only if
   * the row is unchanged since its read (`updatedAt`) or the caller disables it. Written back as
   * read, an edit had enabled an endpoint the dispatcher had just disabled, or restored an old
   * failure window that disabled a healthy endpoint at its next failure.
   */
  const updateEndpoint = db.transaction((e: EndpointRow, now: number): EndpointRow => {
    const params = { ...endpointParams({ ...e, updatedAt: now }), readAt: e.updatedAt };
    stmt(
      `UPDATE endpoints SET uid = @uid, url = @url, description = @description,
         disabled = CASE WHEN @disabled = 1 OR updated_at = @readAt THEN @disabled ELSE disabled END,
         filter_types = @filterTypes, channels = @channels, metadata = @metadata, headers = @headers,
         rate_limit = @rateLimit, version = @version, secrets = @secrets, signing = @signing,
         server_ca_pem = @serverCaPem, client_cert_pem = @clientCertPem, client_key_pem = @clientKeyPem,
         allow_http = @allowHttp, tls_policy = @tlsPolicy,
         failing_since = CASE WHEN @disabled = 0 AND disabled = 1 AND updated_at = @readAt THEN NULL ELSE failing_since END,
         updated_at = @updatedAt
       WHERE id = @id AND app_id = @appId`,
    ).run(params);
    if (e.disabled) stmt(FAIL_PENDING_OF_ENDPOINT).run({ endpointId: e.id, now });
    const stored = stmt('SELECT * FROM endpoints WHERE id = ? AND app_id = ?').get(e.id, e.appId);
    return stored ? endpointFromRow(stored as Raw) : { ...e, updatedAt: now };
  });

  /** `created_at` bounds of a list filter, on the table being listed. */
  const timeWindow = (f: { before?: number; after?: number }): [string, unknown[]] => {
    let sql = '';
    const p: unknown[] = [];
    if (f.before !== undefined) {
      sql += ' AND created_at < ?';
      p.push(f.before);
    }
    if (f.after !== undefined) {
      sql += ' AND created_at > ?';
      p.push(f.after);
    }
    return [sql, p];
  };

  /** Event-type and channel conditions on the messages row called `m`. */
  const messageMatch = (
    f: { eventTypes?: string[]; channel?: string; tag?: string },
    m: string,
  ): [string, unknown[]] => {
    let sql = '';
    const p: unknown[] = [];
    if (f.eventTypes?.length) {
      sql += ` AND ${m}.event_type IN (SELECT value FROM json_each(?))`;
      p.push(JSON.stringify(f.eventTypes));
    }
    if (f.channel) {
      sql += ` AND EXISTS (SELECT 1 FROM json_each(${m}.channels) c WHERE c.value = ?)`;
      p.push(f.channel);
    }
    if (f.tag) {
      sql += ` AND EXISTS (SELECT 1 FROM json_each(${m}.tags) t WHERE t.value = ?)`;
      p.push(f.tag);
    }
    return [sql, p];
  };

  const attemptFilter = (base: string, params: unknown[], f: AttemptFilter): [string, unknown[]] => {
    let where = base;
    const p = [...params];
    if (f.status !== undefined) {
      where += ' AND status = ?';
      p.push(f.status);
    }
    if (f.statusCodeClass !== undefined) {
      where += ' AND status_code / 100 = ?';
      p.push(Math.floor(f.statusCodeClass / 100));
    }
    if (f.endpointId !== undefined) {
      where += ' AND endpoint_id = ?';
      p.push(f.endpointId);
    }
    const [time, timeParams] = timeWindow(f);
    where += time;
    p.push(...timeParams);
    const [match, matchParams] = messageMatch(f, 'm');
    if (match) {
      where += ` AND msg_id IN (SELECT id FROM messages m WHERE 1 = 1${match})`;
      p.push(...matchParams);
    }
    return [where, p];
  };

  // Every API request resolves its application: a small cache, exact because this process is the
  // only writer (one serve per data directory) and clears it on every application change.
  const apps = new Map<string, ApplicationRow>();

  const store: Store = {
    kind: 'sqlite',
    async close() {
      if (db.open) db.close();
    },

    async createApplication(app: NewApplication, now: number): Promise<ApplicationRow> {
      try {
        stmt(
          'INSERT INTO applications (id, uid, name, metadata, rate_limit, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)',
        ).run(app.id, app.uid, app.name, JSON.stringify(app.metadata), app.rateLimit, now, now);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('an application with this uid already exists');
        throw err;
      }
      return { ...app, createdAt: now, updatedAt: now };
    },
    async getApplication(idOrUid) {
      const cached = apps.get(idOrUid);
      if (cached) return cached;
      // Two point lookups: measured ~3x cheaper than one `id = ? OR uid = ?` on every API request.
      const r =
        stmt('SELECT * FROM applications WHERE id = ?').get(idOrUid) ??
        stmt('SELECT * FROM applications WHERE uid = ?').get(idOrUid);
      if (!r) return undefined;
      const app = appFromRow(r as Raw);
      if (apps.size >= APP_CACHE_SIZE) apps.clear();
      apps.set(idOrUid, app);
      return app;
    },
    async listApplications(page) {
      let where = 'id <> ?';
      if (page.withEndpoints) where += ' AND EXISTS (SELECT 1 FROM endpoints e WHERE e.app_id = applications.id)';
      if (page.withoutOnlyDisabled) {
        where += ` AND (NOT EXISTS (SELECT 1 FROM endpoints e WHERE e.app_id = applications.id)
          OR EXISTS (SELECT 1 FROM endpoints e WHERE e.app_id = applications.id AND e.disabled = 0))`;
      }
      return paged('applications', where, [page.exceptId ?? ''], page, 'ascending', appFromRow);
    },
    async updateApplication(app, now) {
      apps.clear();
      try {
        stmt(
          'UPDATE applications SET uid = ?, name = ?, metadata = ?, rate_limit = ?, updated_at = ? WHERE id = ?',
        ).run(app.uid, app.name, JSON.stringify(app.metadata), app.rateLimit, now, app.id);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('an application with this uid already exists');
        throw err;
      }
      return { ...app, updatedAt: now };
    },
    async deleteApplication(id) {
      apps.clear();
      return stmt('DELETE FROM applications WHERE id = ?').run(id).changes > 0;
    },

    async createEventType(t: NewEventType, now: number): Promise<EventTypeRow> {
      try {
        stmt(
          `INSERT INTO event_types (name, description, archived, deprecated, group_name, schemas, feature_flags,
             created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
        ).run(
          t.name,
          t.description,
          t.archived ? 1 : 0,
          t.deprecated ? 1 : 0,
          t.groupName,
          t.schemas === null || t.schemas === undefined ? null : JSON.stringify(t.schemas),
          listParam(t.featureFlags),
          now,
          now,
        );
      } catch (err) {
        if (isUniqueViolation(err) || (err as { code?: string }).code === 'SQLITE_CONSTRAINT_PRIMARYKEY')
          throw conflict('an event type with this name already exists');
        throw err;
      }
      return { ...t, createdAt: now, updatedAt: now };
    },
    async getEventType(name) {
      const r = stmt('SELECT * FROM event_types WHERE name = ?').get(name);
      return r ? eventTypeFromRow(r as Raw) : undefined;
    },
    async listEventTypes(page) {
      // Event types are keyed by name: their iterators are names (page.ts).
      const p = pageSql(page, 'ascending', nameCursorOf(page.iterator));
      // A token's flags filter in the query: filtered afterwards, pages came back short.
      const flags = page.featureFlags === undefined ? null : JSON.stringify(page.featureFlags);
      const rows = stmt(
        `SELECT *, name AS id FROM event_types WHERE (? = 1 OR archived = 0)
           AND (? IS NULL OR feature_flags IS NULL
             OR EXISTS (SELECT 1 FROM json_each(feature_flags) f JOIN json_each(?) t ON t.value = f.value))
           AND ${p.where.replace('id', 'name')}
         ORDER BY ${p.orderBy.replace('id', 'name')} LIMIT ?`,
      ).all(page.includeArchived ? 1 : 0, flags, flags, ...p.params, p.limit) as (Raw & { id: string })[];
      return toPage(rows, page, p.backwards, eventTypeFromRow, nameIteratorOf);
    },
    async updateEventType(t, now) {
      stmt(
        `UPDATE event_types SET description = ?, archived = ?, deprecated = ?, group_name = ?, schemas = ?,
           feature_flags = ?, updated_at = ? WHERE name = ?`,
      ).run(
        t.description,
        t.archived ? 1 : 0,
        t.deprecated ? 1 : 0,
        t.groupName,
        t.schemas === null || t.schemas === undefined ? null : JSON.stringify(t.schemas),
        listParam(t.featureFlags),
        now,
        t.name,
      );
      return { ...t, updatedAt: now };
    },
    async deleteEventType(name) {
      return stmt('DELETE FROM event_types WHERE name = ?').run(name).changes > 0;
    },

    async createIntegration(i, keyHash, now) {
      stmt(
        `INSERT INTO integrations (id, app_id, name, feature_flags, key, key_hash, created_at, updated_at)
         VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
      ).run(i.id, i.appId, i.name, listParam(i.featureFlags), i.key, keyHash, now, now);
      return { ...i, createdAt: now, updatedAt: now };
    },
    async getIntegration(appId, id) {
      const r = stmt('SELECT * FROM integrations WHERE app_id = ? AND id = ?').get(appId, id);
      return r ? integrationFromRow(r as Raw) : undefined;
    },
    async listIntegrations(appId, page) {
      return paged('integrations', 'app_id = ?', [appId], page, 'ascending', integrationFromRow);
    },
    async updateIntegration(appId, id, change, now) {
      const r = stmt(
        'UPDATE integrations SET name = ?, feature_flags = ?, updated_at = ? WHERE app_id = ? AND id = ? RETURNING *',
      ).get(change.name, listParam(change.featureFlags), now, appId, id);
      return r ? integrationFromRow(r as Raw) : undefined;
    },
    async rotateIntegrationKey(appId, id, key, keyHash, now) {
      const r = stmt(
        'UPDATE integrations SET key = ?, key_hash = ?, updated_at = ? WHERE app_id = ? AND id = ? RETURNING *',
      ).get(key, keyHash, now, appId, id);
      return r ? integrationFromRow(r as Raw) : undefined;
    },
    async deleteIntegration(appId, id) {
      return stmt('DELETE FROM integrations WHERE app_id = ? AND id = ?').run(appId, id).changes > 0;
    },

    async createEndpoint(e: NewEndpoint, now: number): Promise<EndpointRow> {
      const row: EndpointRow = { ...e, failingSince: null, createdAt: now, updatedAt: now };
      try {
        stmt(
          `INSERT INTO endpoints (id, app_id, uid, url, description, disabled, filter_types, channels, metadata, headers,
             rate_limit, version, secrets, signing, server_ca_pem, client_cert_pem, client_key_pem, allow_http,
             tls_policy, failing_since, created_at, updated_at)
           VALUES (@id, @appId, @uid, @url, @description, @disabled, @filterTypes, @channels, @metadata, @headers,
             @rateLimit, @version, @secrets, @signing, @serverCaPem, @clientCertPem, @clientKeyPem, @allowHttp,
             @tlsPolicy, @failingSince, @createdAt, @updatedAt)`,
        ).run(endpointParams(row));
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('an endpoint with this uid already exists in the application');
        throw err;
      }
      return row;
    },
    async getEndpoint(appId, idOrUid) {
      return getEndpointRow(appId, idOrUid);
    },
    async listEndpoints(appId, page) {
      return paged('endpoints', 'app_id = ?', [appId], page, 'ascending', endpointFromRow);
    },
    async updateEndpoint(e, now) {
      try {
        return updateEndpoint(e, now);
      } catch (err) {
        if (isUniqueViolation(err)) throw conflict('an endpoint with this uid already exists in the application');
        throw err;
      }
    },
    async deleteEndpoint(appId, id) {
      return stmt('DELETE FROM endpoints WHERE app_id = ? AND id = ?').run(appId, id).changes > 0;
    },

    createMessage(msg, opts) {
      // Group commit for ingestion: messages posted in the same event-loop turn share one
      // transaction (one WAL commit instead of one each); every caller is answered after it commits.
      return new Promise((resolve, reject) => {
        ingest.push({
          msg,
          deliverAt: opts.deliverAt,
          fanOut: opts.fanOut ?? true,
          payloadExpiresAt: opts.payloadExpiresAt ?? null,
          resolve,
          reject,
        });
        if (ingest.length === 1) setImmediate(flushIngest);
      });
    },
    async getMessage(appId, idOrEventId) {
      const r =
        stmt('SELECT * FROM messages WHERE id = ? AND app_id = ?').get(idOrEventId, appId) ??
        stmt('SELECT * FROM messages WHERE app_id = ? AND event_id = ?').get(appId, idOrEventId);
      return r ? messageFromRow(r as Raw) : undefined;
    },
    async listMessages(appId, f: MessageFilter) {
      const [match, matchParams] = messageMatch(f, 'messages');
      const [time, timeParams] = timeWindow(f);
      return paged(
        'messages',
        `app_id = ?${match}${time}`,
        [appId, ...matchParams, ...timeParams],
        f,
        'descending',
        messageFromRow,
      );
    },
    async enqueueDelivery(msgId, endpointId, now, triggerType) {
      stmt(ENQUEUE_ONE).run({ msgId, endpointId, now, triggerType });
    },
    async recoverEndpoint(endpointId, since, until, now) {
      return stmt(RECOVER_ENDPOINT).run({ endpointId, since, until, now }).changes;
    },
    async replayMissing(endpointId, since, until, now) {
      return stmt(REPLAY_MISSING).run({ endpointId, since, until, now }).changes;
    },

    async claimDeliveries(o) {
      return claim(
        o.workerId,
        o.now,
        o.leaseMs,
        o.limit,
        o.perEndpointLimit ?? o.limit,
        o.inFlight ?? new Map(),
        o.endpointLimits,
      );
    },
    async recordOutcomes(outcomes, now) {
      if (outcomes.length > 0) record(outcomes, now);
    },
    async releaseLeases(workerId, now) {
      if (!db.open) return 0;
      return stmt(RELEASE_LEASES).run({ workerId, now }).changes;
    },
    async releaseAllLeases(now) {
      return stmt(RELEASE_ALL_LEASES).run({ now }).changes;
    },
    async nextDueAt() {
      const r = stmt(NEXT_DUE).get() as { at: number | null };
      return r.at ?? undefined;
    },
    async queueStats(now) {
      const r = stmt(QUEUE_STATS).get({ now }) as { depth: number; oldest: number | null };
      return { depth: r.depth, oldestDueAgeMs: r.oldest === null ? 0 : Math.max(0, now - r.oldest) };
    },

    async listMessageDestinations(appId, msgId, page, now) {
      // The latest delivery of the message to each endpoint (a resend adds one), joined to the endpoint.
      const table = `(SELECT e.*, d.status AS d_status, d.next_attempt_at AS d_next, d.locked_until AS d_locked_until
        FROM deliveries d JOIN endpoints e ON e.id = d.endpoint_id
        WHERE d.msg_id = ? AND ${LATEST_DELIVERY})`;
      return paged(table, 'app_id = ?', [msgId, appId], page, 'ascending', (r: Raw & { id: string }) => {
        const status = r.d_status as number;
        const held = status === 1 && r.d_locked_until !== null && (r.d_locked_until as number) > now;
        return {
          endpoint: endpointFromRow(r),
          status: (held ? Status.sending : status) as StatusCode,
          nextAttemptAt: status === 1 && !held ? (r.d_next as number | null) : null,
        };
      });
    },
    async listEndpointMessages(appId, endpointId, f, now) {
      // The latest delivery of each message to the endpoint, its status as of now (held = sending).
      const table = `(SELECT m.*, ${STATUS_AT} AS d_status, d.next_attempt_at AS d_next
        FROM deliveries d JOIN messages m ON m.id = d.msg_id
        WHERE d.endpoint_id = ? AND ${LATEST_DELIVERY}) AS em`;
      const [match, matchParams] = messageMatch(f, 'em');
      const [time, timeParams] = timeWindow(f);
      let where = `app_id = ?${match}${time}`;
      const params: unknown[] = [now, endpointId, appId, ...matchParams, ...timeParams];
      if (f.status !== undefined) {
        where += ' AND d_status = ?';
        params.push(f.status);
      }
      return paged(table, where, params, f, 'descending', (r: Raw & { id: string }) => {
        const status = r.d_status as StatusCode;
        return {
          message: messageFromRow(r),
          status,
          nextAttemptAt: status === Status.pending ? (r.d_next as number | null) : null,
        };
      });
    },
    async endpointStats(endpointId, window, now) {
      const allTime = window.since === undefined && window.until === undefined;
      const r = (
        allTime
          ? stmt(ENDPOINT_STATS_ALL_TIME).get({ endpointId, now })
          : stmt(ENDPOINT_STATS).get({
              endpointId,
              since: window.since ?? 0,
              until: window.until ?? Number.MAX_SAFE_INTEGER,
              now,
            })
      ) as { success: number | null; pending: number | null; sending: number | null; fail: number | null };
      return {
        success: r.success ?? 0,
        pending: r.pending ?? 0,
        sending: r.sending ?? 0,
        fail: r.fail ?? 0,
        canceled: 0,
      };
    },
    async listAttemptsByMessage(appId, msgId, f) {
      const [where, params] = attemptFilter('app_id = ? AND msg_id = ?', [appId, msgId], f);
      return paged('attempts', where, params, f, 'descending', attemptFromRow);
    },
    async listAttemptsByEndpoint(appId, endpointId, f) {
      const [where, params] = attemptFilter('app_id = ? AND endpoint_id = ?', [appId, endpointId], f);
      return paged('attempts', where, params, f, 'descending', attemptFromRow);
    },
    async bulkReplay(endpointId, f, now) {
      // The latest delivery of each message to the endpoint, as listEndpointMessages reads it.
      let where = `d.endpoint_id = ? AND m.expunged_at IS NULL AND m.created_at >= ? AND m.created_at < ?
        AND ${LATEST_DELIVERY}`;
      const params: unknown[] = [now, now, now, endpointId, f.since, f.until];
      if (f.status !== undefined) {
        where += ` AND ${STATUS_AT} = ?`;
        params.push(now, f.status);
      }
      if (f.statusCodeClass !== undefined) {
        where += ` AND COALESCE((SELECT a.status_code FROM attempts a WHERE a.msg_id = m.id AND a.endpoint_id = d.endpoint_id
          ORDER BY a.id DESC LIMIT 1), 0) / 100 = ?`;
        params.push(f.statusCodeClass / 100);
      }
      const [match, matchParams] = messageMatch(f, 'm');
      return stmt(
        `INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, attempts, next_attempt_at, trigger_type, created_at, updated_at)
         SELECT m.id, d.endpoint_id, d.app_id, ${Status.pending}, 0, ?, ${Trigger.manual}, ?, ?
         FROM deliveries d JOIN messages m ON m.id = d.msg_id
         WHERE ${where}${match}`,
      ).run(...params, ...matchParams).changes;
    },
    async hasActiveEndpoint(appId, eventType, channels) {
      const r = stmt(ANY_MATCHING_ENDPOINT).get(appId, eventType, JSON.stringify(channels ?? [])) as { active: number };
      return r.active === 1;
    },
    async expungeMessage(appId, msgId, now) {
      return expunge(appId, msgId, now);
    },
    async expungeApplicationPayloads(appId, afterId, limit, now) {
      return expungeOfApplication(appId, afterId, limit, now);
    },
    async deleteExpiredRecords(now, limit) {
      const replies = stmt(
        'DELETE FROM idempotency WHERE rowid IN (SELECT rowid FROM idempotency WHERE expires_at <= ? LIMIT ?)',
      ).run(now, limit).changes;
      const tokens = stmt(
        'DELETE FROM tokens WHERE rowid IN (SELECT rowid FROM tokens WHERE expires_at IS NOT NULL AND expires_at <= ? LIMIT ?)',
      ).run(now, limit).changes;
      const tasks = stmt(
        'DELETE FROM background_tasks WHERE rowid IN (SELECT rowid FROM background_tasks WHERE expires_at <= ? LIMIT ?)',
      ).run(now, limit).changes;
      return replies + tokens + tasks;
    },
    async expungeExpiredPayloads(now, limit) {
      return expungeExpired(now, limit);
    },
    async expungeAttemptResponse(appId, msgId, attemptId) {
      return (
        stmt("UPDATE attempts SET response = '' WHERE app_id = ? AND msg_id = ? AND id = ?").run(
          appId,
          msgId,
          attemptId,
        ).changes > 0
      );
    },
    async getAttempt(appId, msgId, attemptId): Promise<AttemptRow | undefined> {
      const r = stmt('SELECT * FROM attempts WHERE app_id = ? AND msg_id = ? AND id = ?').get(appId, msgId, attemptId);
      return r ? attemptFromRow(r as Raw) : undefined;
    },

    async createToken(hash, appId, expiresAt, opts = {}) {
      stmt(
        'INSERT INTO tokens (hash, app_id, expires_at, capabilities, session_id, feature_flags) VALUES (?, ?, ?, ?, ?, ?)',
      ).run(
        hash,
        appId,
        expiresAt,
        opts.capabilities ? JSON.stringify(opts.capabilities) : null,
        opts.sessionId ?? null,
        listParam(opts.featureFlags),
      );
    },
    async findToken(hash, now) {
      type Found = {
        app_id: string | null;
        expires_at: number | null;
        capabilities: string | null;
        feature_flags: string | null;
        session_id: string | null;
      };
      const token = stmt(
        'SELECT app_id, expires_at, capabilities, feature_flags, session_id FROM tokens WHERE hash = ?',
      ).get(hash) as Found | undefined;
      if (token) {
        if (token.expires_at !== null && token.expires_at <= now) return undefined;
        return {
          appId: token.app_id,
          capabilities: json(token.capabilities),
          featureFlags: json(token.feature_flags),
          integration: false,
          expiresAt: token.expires_at,
          sessionId: token.session_id,
        };
      }
      const key = stmt('SELECT app_id, feature_flags FROM integrations WHERE key_hash = ?').get(hash) as
        | { app_id: string; feature_flags: string | null }
        | undefined;
      return (
        key && {
          appId: key.app_id,
          capabilities: null,
          featureFlags: json(key.feature_flags),
          integration: true,
          expiresAt: null,
          sessionId: null,
        }
      );
    },
    async deleteToken(hash) {
      return stmt('DELETE FROM tokens WHERE hash = ?').run(hash).changes > 0;
    },
    async expireTokens(appId, at, sessionIds) {
      const sql = `UPDATE tokens SET expires_at = ? WHERE app_id = ? AND (expires_at IS NULL OR expires_at > ?)${
        sessionIds ? ' AND session_id IN (SELECT value FROM json_each(?))' : ''
      }`;
      const args: unknown[] = [at, appId, at];
      if (sessionIds) args.push(JSON.stringify(sessionIds));
      return stmt(sql).run(...args).changes;
    },

    async countMessageDestinations(appId, since, until) {
      // Messages by the time in their ids (index messages_app), their deliveries by deliveries_msg:
      // no scan of either table.
      const r = stmt(
        `SELECT count(*) AS n FROM messages m JOIN deliveries d ON d.msg_id = m.id
         WHERE m.app_id = ? AND m.id >= ? AND m.id < ?`,
      ).get(appId, idFloor('msg', since), idFloor('msg', until)) as { n: number };
      return r.n;
    },
    async putTask(t, expiresAt) {
      stmt(
        `INSERT INTO background_tasks (id, app_id, task, status, data, updated_at, expires_at) VALUES (?, ?, ?, ?, ?, ?, ?)
         ON CONFLICT (id) DO UPDATE SET status = excluded.status, data = excluded.data,
           updated_at = excluded.updated_at, expires_at = excluded.expires_at`,
      ).run(t.id, t.appId, t.task, t.status, JSON.stringify(t.data), t.updatedAt, expiresAt);
    },
    async getTask(id) {
      const r = stmt('SELECT * FROM background_tasks WHERE id = ?').get(id);
      return r ? taskFromRow(r as Raw) : undefined;
    },
    async listTasks(f: TaskFilter) {
      const where: string[] = ['1 = 1'];
      const params: unknown[] = [];
      if (f.appId !== undefined) {
        where.push('app_id = ?');
        params.push(f.appId);
      }
      if (f.status !== undefined) {
        where.push('status = ?');
        params.push(f.status);
      }
      if (f.task !== undefined) {
        where.push('task = ?');
        params.push(f.task);
      }
      return paged('background_tasks', where.join(' AND '), params, f, 'descending', taskFromRow);
    },

    async deliveryTimeline(w) {
      return deliveryTimeline(stmt, w);
    },
    async troubledEndpoints(limit) {
      return troubledEndpoints(stmt, limit);
    },

    async getIdempotent(scope, key, now) {
      const r = stmt('SELECT status, body, expires_at FROM idempotency WHERE scope = ? AND key = ?').get(scope, key) as
        | { status: number; body: string; expires_at: number }
        | undefined;
      if (!r || r.expires_at <= now) return undefined;
      return { status: r.status, body: r.body };
    },
    async putIdempotent(scope, key, status, body, expiresAt) {
      stmt(
        `INSERT INTO idempotency (scope, key, status, body, expires_at) VALUES (?, ?, ?, ?, ?)
         ON CONFLICT (scope, key) DO UPDATE SET status = excluded.status, body = excluded.body, expires_at = excluded.expires_at`,
      ).run(scope, key, status, body, expiresAt);
    },

    async probeWrite(now) {
      probeWrite(db, now);
    },
  };
  return store;
}

function migrate(db: Database.Database): void {
  const current = db.pragma('user_version', { simple: true }) as number;
  for (let v = current; v < MIGRATIONS.length; v++) {
    db.transaction(() => {
      db.exec(MIGRATIONS[v] as string);
      db.pragma(`user_version = ${v + 1}`);
    })();
  }
}
