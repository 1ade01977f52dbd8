import { newId } from './ids.ts';
import { DEFAULT_RETENTION_DAYS } from './retention.ts';
import type { ApplicationRow, EndpointRow, Outcome, Store } from './store/types.ts';
import { Status } from './store/types.ts';

/**
 * Operational webhooks (Svix's): the platform's operator hears when a customer's endpoint is
 * created, changed, deleted or disabled, and when a message keeps failing, exhausts its retries or
 * recovers. The operator's endpoints belong to one reserved application that no application route
 * reaches, and each event is a message in it: signed, sent over mTLS, retried and guarded like any
 * other.
 */
export const OPERATIONAL_APP_ID = 'app_hookwarden_operational';

export type OperationalEvent =
  | { type: 'endpoint.created' | 'endpoint.updated' | 'endpoint.deleted'; app: ApplicationRow; endpoint: EndpointRow }
  | {
      type: 'endpoint.disabled';
      app: ApplicationRow;
      endpoint: EndpointRow;
      trigger: 'automatic' | 'manual';
    };

export interface OperationalEvents {
  /** The reserved application, created on first use. */
  app(): Promise<ApplicationRow>;
  /** Queues the event for the operator's endpoints; nothing when there are none. */
  emit(event: OperationalEvent): Promise<void>;
  /** What the dispatcher just recorded: disabled endpoints, failing, exhausted and recovered messages. */
  recorded(outcomes: readonly Outcome[]): Promise<void>;
}

/** Svix tells of a message failing on its fourth failed attempt, and of its recovery after that. */
const FAILING_AT_ATTEMPT = 4;

/** Kept as long as any message's payload is by default. */
const RETENTION_MS = DEFAULT_RETENTION_DAYS * 24 * 3_600_000;

/** The message event an outcome raises, if any: Svix's names, at Svix's moments. */
function messageEventOf(out: Outcome): string | undefined {
  const n = out.attemptsMade ?? 0;
  if (out.attempt.status === Status.success) return n > FAILING_AT_ATTEMPT ? 'message.attempt.recovered' : undefined;
  if (out.nextAttemptAt === undefined) return 'message.attempt.exhausted';
  return n === FAILING_AT_ATTEMPT ? 'message.attempt.failing' : undefined;
}

const iso = (ms: number | null | undefined) => (ms === null || ms === undefined ? null : new Date(ms).toISOString());

export function createOperationalEvents(o: {
  store: Store;
  now: () => number;
  /** Wakes the dispatcher: an event was queued. */
  onEnqueued: () => void;
}): OperationalEvents {
  const { store } = o;
  /** Whether the reserved application exists: until it does, no event has anyone to go to. */
  let exists = false;

  /**
   * The reserved application, by its id alone: lookups take a uid too, and a customer's application
   * whose uid was the reserved id (refused now, but a database may hold one) must never stand in.
   */
  async function reserved(): Promise<ApplicationRow | undefined> {
    const found = await store.getApplication(OPERATIONAL_APP_ID);
    return found?.id === OPERATIONAL_APP_ID ? found : undefined;
  }

  async function app(): Promise<ApplicationRow> {
    const found = await reserved();
    if (found) {
      exists = true;
      return found;
    }
    const now = o.now();
    try {
      const created = await store.createApplication(
        { id: OPERATIONAL_APP_ID, uid: null, name: 'Operational webhooks', metadata: {}, rateLimit: null },
        now,
      );
      exists = true;
      return created;
    } catch (err) {
      // Created meanwhile by a concurrent call.
      const again = await reserved();
      if (!again) throw err;
      exists = true;
      return again;
    }
  }

  /** Whether anyone may be listening: the reserved application exists once an endpoint was made. */
  async function listening(): Promise<boolean> {
    if (!exists) exists = (await reserved()) !== undefined;
    return exists;
  }

  async function send(type: string, data: Record<string, unknown>): Promise<void> {
    if (!(await listening())) return;
    const now = o.now();
    const { deliveries } = await store.createMessage(
      {
        id: newId('msg', now),
        appId: OPERATIONAL_APP_ID,
        eventType: type,
        eventId: null,
        channels: null,
        tags: null,
        payload: JSON.stringify({ type, timestamp: iso(now), data }),
        createdAt: now,
      },
      { payloadExpiresAt: now + RETENTION_MS },
    );
    if (deliveries > 0) o.onEnqueued();
  }

  const about = (a: ApplicationRow, e: EndpointRow) => ({
    appId: a.id,
    appUid: a.uid,
    endpointId: e.id,
    endpointUid: e.uid,
  });

  async function emit(e: OperationalEvent): Promise<void> {
    // The operator's own endpoints raise no events: a failing one would feed itself.
    if (e.app.id === OPERATIONAL_APP_ID) return;
    if (e.type === 'endpoint.disabled') {
      await send(e.type, { ...about(e.app, e.endpoint), failSince: iso(e.endpoint.failingSince), trigger: e.trigger });
    } else await send(e.type, about(e.app, e.endpoint));
  }

  async function recorded(outcomes: readonly Outcome[]): Promise<void> {
    const telling = outcomes.filter(
      (out) => out.attempt.appId !== OPERATIONAL_APP_ID && (out.disableEndpoint || messageEventOf(out) !== undefined),
    );
    // Most batches tell nothing; with no operator endpoint, none does.
    if (telling.length === 0 || !(await listening())) return;
    // An outage fails many messages of few endpoints: each is looked up once per batch.
    const apps = new Map<string, Promise<ApplicationRow | undefined>>();
    const endpoints = new Map<string, Promise<EndpointRow | undefined>>();
    const once = <T>(m: Map<string, Promise<T>>, key: string, get: () => Promise<T>) => {
      let p = m.get(key);
      if (p === undefined) {
        p = get();
        m.set(key, p);
      }
      return p;
    };
    for (const out of telling) {
      const a = out.attempt;
      const type = messageEventOf(out);
      const app = await once(apps, a.appId, () => store.getApplication(a.appId));
      const endpoint = await once(endpoints, a.endpointId, () => store.getEndpoint(a.appId, a.endpointId));
      if (!app || !endpoint) continue;
      if (type !== undefined) {
        const message = await store.getMessage(a.appId, a.msgId);
        await send(type, {
          appId: app.id,
          appUid: app.uid,
          msgId: a.msgId,
          msgEventId: message?.eventId ?? null,
          endpointId: endpoint.id,
          lastAttempt: { id: a.id, timestamp: iso(a.createdAt), responseStatusCode: a.statusCode },
        });
      }
      if (out.disableEndpoint) await emit({ type: 'endpoint.disabled', app, endpoint, trigger: 'automatic' });
    }
  }

  return { app, emit, recorded };
}
