import { notFound, serverError } from '../errors.ts';
import { newId } from '../ids.ts';
import type { ApplicationRow, MessageFilter, MessageRow, Page, TaskRow } from '../store/types.ts';
import { Trigger } from '../store/types.ts';
import { type Action, authorize, type Caller, within } from './actor.ts';
import type { AppBody, Applications } from './applications.ts';
import { retentionMs, type ServiceDeps } from './context.ts';
import type { Endpoints } from './endpoints.ts';
import type { Tasks } from './tasks.ts';

/** Svix's MessageIn, as the API's schema admits it. */
export interface MessageBody {
  application?: AppBody | null;
  eventType: string;
  eventId?: string | null;
  payloadRetentionPeriod?: number | null;
  payloadRetentionHours?: number | null;
  payload: unknown;
  channels?: string[] | null;
  tags?: string[] | null;
  deliverAt?: string | null;
}

/** Messages expunged per store call when a whole application's payloads go. */
const PURGE_BATCH = 500;

export type Messages = ReturnType<typeof messageService>;

export function messageService(deps: ServiceDeps, apps: Applications, endpoints: Endpoints, tasks: Tasks) {
  const { store } = deps;

  /** A message of `app` by id or eventId, once `action` is allowed there; 404 if there is none. */
  async function find(c: Caller, app: ApplicationRow, idOrEventId: string, action: Action): Promise<MessageRow> {
    authorize(c.actor, action);
    within(c.actor, app.id);
    const m = await store.getMessage(app.id, idOrEventId);
    if (!m) throw notFound('message');
    return m;
  }

  const get = (c: Caller, app: ApplicationRow, idOrEventId: string) => find(c, app, idOrEventId, 'message.read');

  async function list(c: Caller, app: ApplicationRow, f: MessageFilter): Promise<Page<MessageRow>> {
    authorize(c.actor, 'message.read');
    within(c.actor, app.id);
    return store.listMessages(app.id, f);
  }

  /**
   * Stores the message and its deliveries (one per matching endpoint); a repeated eventId answers
   * the stored message without enqueuing it again (`created: false`). Svix's MessageIn.application:
   * the application is created first if the path names none yet.
   */
  async function create(
    c: Caller,
    appIdOrUid: string,
    b: MessageBody,
  ): Promise<{ message: MessageRow; created: boolean }> {
    authorize(c.actor, 'message.create');
    const { app } = await apps.getOrCreate(c, appIdOrUid, b.application, ['body', 'application']);
    const now = deps.now();
    const { message, created, deliveries } = await store.createMessage(
      {
        id: newId('msg', now),
        appId: app.id,
        eventType: b.eventType,
        eventId: b.eventId ?? null,
        channels: b.channels ?? null,
        tags: b.tags ?? null,
        // Serialised once, here: these exact bytes are signed and delivered.
        payload: JSON.stringify(b.payload),
        createdAt: now,
      },
      {
        deliverAt: b.deliverAt ? Math.max(now, Date.parse(b.deliverAt)) : undefined,
        payloadExpiresAt: now + retentionMs(b),
      },
    );
    if (deliveries > 0) deps.onEnqueued();
    return { message, created };
  }

  /** Whether a message would go anywhere, so a sender can skip building one nobody receives. */
  async function precheck(
    c: Caller,
    app: ApplicationRow,
    eventType: string,
    channels: string[] | null,
  ): Promise<boolean> {
    authorize(c.actor, 'message.read');
    within(c.actor, app.id);
    return store.hasActiveEndpoint(app.id, eventType, channels);
  }

  /**
   * Every payload of the application (its customer leaves, say), in batches so that deliveries'
   * claims are answered between them. The operator's call: it cannot be undone.
   */
  async function expungeAll(c: Caller, app: ApplicationRow): Promise<TaskRow> {
    authorize(c.actor, 'application.purge');
    const now = deps.now();
    let after: string | null = null;
    do after = await store.expungeApplicationPayloads(app.id, after, PURGE_BATCH, now);
    while (after !== null);
    deps.onWithdrawn?.({ appId: app.id });
    return tasks.finished(app.id, 'application.purge_content', {});
  }

  /**
   * Deletes the payload (sent by mistake with something sensitive): it becomes `{}`, and the
   * message is delivered, retried and resent no more.
   */
  async function expunge(c: Caller, app: ApplicationRow, idOrEventId: string): Promise<void> {
    const m = await find(c, app, idOrEventId, 'message.expunge');
    await store.expungeMessage(app.id, m.id, deps.now());
    deps.onWithdrawn?.({ msgId: m.id });
  }

  /** Svix's bulkExpungeContent: each message named (id or eventId) as `expunge` does it, told by that name. */
  async function bulkExpunge(
    c: Caller,
    app: ApplicationRow,
    names: readonly string[],
  ): Promise<Record<string, 'expunged' | 'not-found'>> {
    authorize(c.actor, 'message.expunge');
    within(c.actor, app.id);
    const results: Record<string, 'expunged' | 'not-found'> = {};
    for (const name of names) {
      const m = await store.getMessage(app.id, name);
      if (m) {
        await store.expungeMessage(app.id, m.id, deps.now());
        deps.onWithdrawn?.({ msgId: m.id });
      }
      results[name] = m ? 'expunged' : 'not-found';
    }
    return results;
  }

  /** A new delivery of the message to one of its application's endpoints. */
  async function resend(c: Caller, app: ApplicationRow, msgIdOrEventId: string, endpointIdOrUid: string) {
    const msg = await find(c, app, msgIdOrEventId, 'message.resend');
    const ep = await endpoints.find(c, app, endpointIdOrUid, 'message.resend');
    if (msg.expungedAt !== undefined) throw serverError('HW_PAYLOAD_EXPUNGED');
    await store.enqueueDelivery(msg.id, ep.id, deps.now(), Trigger.manual);
    deps.onEnqueued();
  }

  return { find, get, list, create, precheck, expungeAll, expunge, bulkExpunge, resend };
}
