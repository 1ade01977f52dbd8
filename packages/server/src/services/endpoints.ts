import { DeliveryError } from '../delivery/errors.ts';
import { isConnectionHeader } from '../delivery/headers.ts';
import type { CircuitView } from '../dispatcher/endpoint-gate.ts';
import { notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import type { OperationalEvent } from '../operational.ts';
import { newEndpoint } from '../store/new-endpoint.ts';
import type {
  ApplicationRow,
  EndpointRow,
  EndpointStats,
  MessageRow,
  Page,
  PageQuery,
  StatusCode,
  TaskRow,
} from '../store/types.ts';
import { Trigger } from '../store/types.ts';
import { type Action, authorize, type Caller, within } from './actor.ts';
import { invalidField, retentionMs, type ServiceDeps, windowOf } from './context.ts';
import { applyEndpointBody, checkUrl, type EndpointBody, endpointSecret } from './endpoint-input.ts';
import type { Tasks } from './tasks.ts';

/** Header names that carry a credential: their values are never read back. */
export const SENSITIVE_HEADER =
  /^(cookie|x-api-key)$|auth|token|secret|passw|api[-_]?key|session|credential|signature/i;
/** An endpoint id of ours (`ep_` and 26 base-32 digits). */
const ENDPOINT_ID = /^ep_[0-9A-Z]{26}$/;
/** How long a rotated-out secret keeps signing, so receivers can switch without dropping events. */
const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;
/**
 * Header names the signature scheme (Standard Webhooks, Svix) and the JSON body own (a
 * Content-Encoding would tell the receiver to decode a body that is plain JSON); refused on endpoints.
 */
const SIGNED_HEADERS = /^(webhook-|svix-|content-)/i;

/** Filters of a bulk replay, beside its window. */
export interface BulkReplayFilter {
  since: number;
  until?: number;
  eventTypes?: string[];
  channel?: string;
  tag?: string;
  status?: StatusCode;
  statusCodeClass?: number;
}

export type Endpoints = ReturnType<typeof endpointService>;

export function endpointService(deps: ServiceDeps, tasks: Tasks) {
  const { store } = deps;

  /** The endpoint of `app` named by id or uid, once `action` is allowed there; 404 if there is none. */
  async function find(c: Caller, app: ApplicationRow, idOrUid: string, action: Action): Promise<EndpointRow> {
    authorize(c.actor, action);
    within(c.actor, app.id);
    const ep = await store.getEndpoint(app.id, idOrUid);
    if (!ep) throw notFound('endpoint');
    return ep;
  }

  /** Stores a change, and tells the dispatcher, whose claimed rows must go out as it now is. */
  async function save(e: EndpointRow, now: number): Promise<EndpointRow> {
    const stored = await store.updateEndpoint(e, now);
    deps.onEndpointChanged?.(stored);
    return stored;
  }

  /**
   * Queues an operational event (none for the operator's own endpoints). The change it tells of is
   * stored already: a failure is logged, not answered.
   */
  async function tell(c: Caller, e: OperationalEvent): Promise<void> {
    try {
      await deps.operational.emit(e);
    } catch (err) {
      c.log.error({ err, event: e.type }, 'operational event not queued');
    }
  }

  async function checkTarget(c: Caller, e: EndpointRow): Promise<void> {
    if (e.signing === 'ed25519' && !deps.ed25519Available) {
      throw invalidField(['body', 'signatureScheme'], 'v1a needs an Ed25519 signing key, and this server has none');
    }
    checkUrl(e.url);
    try {
      await deps.checkEndpointUrl(e.url, { allowHttp: e.allowHttp });
    } catch (err) {
      // The answer leaves out what the caller may not learn (where an internal name points); the
      // operator's log keeps it.
      if (!(err instanceof DeliveryError)) throw err;
      if (err.logDetail) c.log.info({ code: err.code, logDetail: err.logDetail }, 'endpoint URL refused');
      throw err.status === 422 ? invalidField(['body', 'url'], err.message, err.code) : err;
    }
  }

  function checkHeaders(headers: Record<string, string | null>): void {
    for (const [name, value] of Object.entries(headers)) {
      // Removing is always allowed: an endpoint stored before a name was refused can drop it.
      if (value === null) continue;
      // The delivery client's own list: it would refuse every attempt that carried this header.
      if (isConnectionHeader(name)) {
        throw invalidField(
          ['body', 'headers', name],
          'is reserved: a connection header the delivery client sets itself',
        );
      }
      if (SIGNED_HEADERS.test(name)) throw invalidField(['body', 'headers', name], 'is reserved');
    }
  }

  async function list(c: Caller, app: ApplicationRow, page: PageQuery): Promise<Page<EndpointRow>> {
    authorize(c.actor, 'endpoint.read');
    within(c.actor, app.id);
    return store.listEndpoints(app.id, page);
  }

  const get = (c: Caller, app: ApplicationRow, idOrUid: string) => find(c, app, idOrUid, 'endpoint.read');

  /** A new endpoint of `app`, told to the operator's endpoints. */
  async function create(c: Caller, app: ApplicationRow, body: EndpointBody): Promise<EndpointRow> {
    authorize(c.actor, 'endpoint.manage');
    within(c.actor, app.id);
    const now = deps.now();
    if (body.headers) checkHeaders(body.headers);
    const blank: EndpointRow = {
      ...newEndpoint({
        id: newId('ep', now),
        appId: app.id,
        url: body.url as string,
        secret: endpointSecret(body.secret, ['body', 'secret']),
      }),
      headers: body.headers ?? {},
      failingSince: null,
      createdAt: now,
      updatedAt: now,
    };
    const e = applyEndpointBody(blank, body, false);
    await checkTarget(c, e);
    const created = await store.createEndpoint(e, now);
    await tell(c, { type: 'endpoint.created', app, endpoint: created });
    return created;
  }

  /** Applies a body to a stored endpoint (`replace`: PUT, which resets what the body omits). */
  async function change(
    c: Caller,
    app: ApplicationRow,
    ep: EndpointRow,
    body: EndpointBody,
    replace: boolean,
    keptUid?: string,
  ): Promise<EndpointRow> {
    const next = applyEndpointBody(ep, body, replace, keptUid);
    if (next.url !== ep.url || next.allowHttp !== ep.allowHttp || next.signing !== ep.signing) {
      await checkTarget(c, next);
    }
    // Re-enabling starts a fresh failure window.
    if (ep.disabled && !next.disabled) next.failingSince = null;
    const updated = await save(next, deps.now());
    await tell(c, { type: 'endpoint.updated', app, endpoint: updated });
    if (!ep.disabled && updated.disabled) {
      await tell(c, { type: 'endpoint.disabled', app, endpoint: updated, trigger: 'manual' });
    }
    return updated;
  }

  /**
   * Svix's upsert (1.x SDKs' update): the body replaces the endpoint, or creates it with the path
   * as its uid. A path shaped like an endpoint id names one that is missing, not a uid to create.
   */
  async function put(
    c: Caller,
    app: ApplicationRow,
    idOrUid: string,
    body: EndpointBody,
  ): Promise<{ endpoint: EndpointRow; created: boolean }> {
    authorize(c.actor, 'endpoint.manage');
    within(c.actor, app.id);
    const ep = await store.getEndpoint(app.id, idOrUid);
    if (ep) {
      // A uid the path named stays: upserting by it again must find the same endpoint.
      const endpoint = await change(c, app, ep, body, true, ep.uid === idOrUid ? ep.uid : undefined);
      return { endpoint, created: false };
    }
    if (ENDPOINT_ID.test(idOrUid)) throw notFound('endpoint');
    if (body.uid != null && body.uid !== idOrUid) throw invalidField(['body', 'uid'], 'must be the uid the path names');
    return { endpoint: await create(c, app, { ...body, uid: idOrUid }), created: true };
  }

  async function patch(c: Caller, app: ApplicationRow, idOrUid: string, body: EndpointBody): Promise<EndpointRow> {
    const ep = await find(c, app, idOrUid, 'endpoint.manage');
    return change(c, app, ep, body, false, ep.uid === idOrUid ? ep.uid : undefined);
  }

  async function remove(c: Caller, app: ApplicationRow, idOrUid: string): Promise<void> {
    const ep = await find(c, app, idOrUid, 'endpoint.manage');
    await store.deleteEndpoint(ep.appId, ep.id);
    deps.onWithdrawn?.({ endpointId: ep.id });
    await tell(c, { type: 'endpoint.deleted', app, endpoint: ep });
  }

  /** The secret that signs now (the newest, when several are in their grace period). */
  async function secret(c: Caller, app: ApplicationRow, idOrUid: string): Promise<string> {
    const ep = await find(c, app, idOrUid, 'endpoint.secret.read');
    const current = ep.secrets.find((s) => s.expiresAt === null) ?? ep.secrets[ep.secrets.length - 1];
    return current?.key ?? '';
  }

  async function rotateSecret(
    c: Caller,
    app: ApplicationRow,
    idOrUid: string,
    b: { key?: string | null; gracePeriodSeconds?: number | null } = {},
  ): Promise<void> {
    const ep = await find(c, app, idOrUid, 'endpoint.secret.rotate');
    const now = deps.now();
    const grace = (b.gracePeriodSeconds ?? DEFAULT_ROTATION_GRACE_SECONDS) * 1000;
    const key = endpointSecret(b.key, ['body', 'key']);
    // Old secrets keep signing during the grace period: receivers verify against either.
    const kept = ep.secrets
      .filter((s) => s.expiresAt === null || s.expiresAt > now)
      .map((s) => ({ key: s.key, expiresAt: s.expiresAt ?? now + grace }))
      .filter((s) => s.expiresAt > now);
    await save({ ...ep, secrets: [{ key, expiresAt: null }, ...kept].slice(0, 8) }, now);
  }

  /**
   * Svix's EndpointHeadersOut: credential-like headers are left out of `headers` and named in
   * `sensitive` (a PATCH that does not name them keeps them).
   */
  async function headers(
    c: Caller,
    app: ApplicationRow,
    idOrUid: string,
  ): Promise<{ headers: Record<string, string>; sensitive: string[] }> {
    const ep = await find(c, app, idOrUid, 'endpoint.headers.read');
    const sensitive = Object.keys(ep.headers).filter((name) => SENSITIVE_HEADER.test(name));
    const shown = Object.fromEntries(Object.entries(ep.headers).filter(([name]) => !sensitive.includes(name)));
    return { headers: shown, sensitive };
  }

  /** `replace`: the headers become `set`; else `set` is merged in (null removes) and `remove` removed. */
  async function changeHeaders(
    c: Caller,
    app: ApplicationRow,
    idOrUid: string,
    set: Record<string, string | null>,
    o: { replace: boolean; remove?: string[] },
  ): Promise<void> {
    const ep = await find(c, app, idOrUid, 'endpoint.headers.write');
    checkHeaders(set);
    const next: Record<string, string> = o.replace ? {} : { ...ep.headers };
    for (const [k, v] of Object.entries(set)) {
      if (v === null) delete next[k];
      else next[k] = v;
    }
    for (const k of o.remove ?? []) delete next[k];
    await save({ ...ep, headers: next }, deps.now());
  }

  type Requeue = (endpointId: string, since: number, until: number, now: number) => Promise<number>;

  /** A window's deliveries sent again, `requeue` choosing which, recorded as a finished task. */
  function requeuing(action: Action, task: 'endpoint.recover' | 'endpoint.replay', requeue: Requeue) {
    return async (c: Caller, app: ApplicationRow, idOrUid: string, w: { since: number; until?: number }) => {
      const ep = await find(c, app, idOrUid, action);
      const now = deps.now();
      const { since, until } = windowOf(w, now);
      const messages = await requeue.call(store, ep.id, since, until, now);
      if (messages > 0) deps.onEnqueued();
      return tasks.finished(ep.appId, task, { endpointId: ep.id, messages });
    };
  }

  /** Requeues the endpoint's failed deliveries of messages created in the window. */
  const recover = requeuing('endpoint.recover', 'endpoint.recover', store.recoverEndpoint);
  /** Sends the endpoint the messages of the window it never got. */
  const replayMissing = requeuing('endpoint.replay', 'endpoint.replay', store.replayMissing);

  async function bulkReplay(c: Caller, app: ApplicationRow, idOrUid: string, f: BulkReplayFilter): Promise<TaskRow> {
    const ep = await find(c, app, idOrUid, 'endpoint.replay');
    const now = deps.now();
    const replayed = await store.bulkReplay(ep.id, { ...f, ...windowOf(f, now) }, now);
    if (replayed > 0) deps.onEnqueued();
    return tasks.finished(ep.appId, 'endpoint.bulk-replay', { endpointId: ep.id, messages: replayed });
  }

  /** A message of the event type's example (or a stand-in), sent to this endpoint only. */
  async function sendExample(
    c: Caller,
    app: ApplicationRow,
    idOrUid: string,
    b: { eventType: string; exampleIndex?: number },
  ): Promise<MessageRow> {
    const ep = await find(c, app, idOrUid, 'endpoint.send-example');
    const now = deps.now();
    const type = await store.getEventType(b.eventType);
    if (!type) throw notFound('event type');
    const examples = (type.schemas as { '1'?: { examples?: unknown[] } } | null)?.['1']?.examples;
    const example = examples?.[b.exampleIndex ?? 0] ?? { type: type.name, data: { example: true } };
    const { message } = await store.createMessage(
      {
        id: newId('msg', now),
        appId: ep.appId,
        eventType: type.name,
        eventId: null,
        channels: null,
        tags: null,
        payload: JSON.stringify(example),
        createdAt: now,
      },
      { fanOut: false, payloadExpiresAt: now + retentionMs({}) },
    );
    await store.enqueueDelivery(message.id, ep.id, now, Trigger.manual);
    deps.onEnqueued();
    return message;
  }

  async function stats(
    c: Caller,
    app: ApplicationRow,
    idOrUid: string,
    w: { since?: number; until?: number },
  ): Promise<EndpointStats & { circuit?: CircuitOut }> {
    const ep = await find(c, app, idOrUid, 'endpoint.read');
    const stats = await store.endpointStats(ep.id, w, deps.now());
    const circuit = deps.circuitOf?.(ep.id);
    return circuit ? { ...stats, circuit: circuitOut(circuit) } : stats;
  }

  return {
    find,
    list,
    get,
    create,
    put,
    patch,
    remove,
    secret,
    rotateSecret,
    headers,
    changeHeaders,
    recover,
    replayMissing,
    bulkReplay,
    sendExample,
    stats,
  };
}

/** The `circuit` of an endpoint's stats (a Hookwarden extension): how the dispatcher treats it now. */
export function circuitOut(c: CircuitView & { inFlight: number }) {
  return {
    state: c.state,
    concurrencyLimit: c.concurrencyLimit,
    inFlight: c.inFlight,
    consecutiveFailures: c.consecutiveFailures,
    slow: c.slow,
    openUntil: c.openUntil === undefined ? null : new Date(c.openUntil).toISOString(),
    openedBy: c.openedBy ?? null,
  };
}

export type CircuitOut = ReturnType<typeof circuitOut>;
