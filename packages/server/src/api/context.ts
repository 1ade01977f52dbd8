import type { FastifyRequest } from 'fastify';
import type { Withdrawn } from '../dispatcher/dispatcher.ts';
import type { CircuitView } from '../dispatcher/endpoint-gate.ts';
import { FieldError, notFound, ServerError } from '../errors.ts';
import { OPERATIONAL_APP_ID, type OperationalEvents } from '../operational.ts';
import { DEFAULT_RETENTION_DAYS } from '../retention.ts';
import type { StorageFault } from '../store/faults.ts';
import type { ApplicationRow, EndpointRow, MessageRow, Page, PageQuery, Store } from '../store/types.ts';
import type { TrustDocument } from '../trust.ts';
import type { Capability } from './capabilities.ts';
import type { CheckTarget } from './routes/check.ts';

/** Everything the API needs from the rest of the server; injected so tests build it alone. */
export interface ApiDeps {
  store: Store;
  /** SHA-256 of the admin token. */
  adminTokenHash: Buffer;
  now: () => number;
  /** Base URL of this server, for links it hands out (app portal). */
  publicUrl: string;
  /** Refuses endpoint URLs the dispatcher would never dial (SSRF guard, plain http). */
  checkEndpointUrl: (url: string, opts: { allowHttp: boolean }) => Promise<void>;
  /** Wakes the dispatcher: deliveries were just enqueued. */
  onEnqueued: () => void;
  /**
   * Tells the dispatcher that rows it holds must not start: their endpoint was deleted or
   * disabled, their message expunged, their application deleted (Dispatcher.withdraw).
   */
  onWithdrawn?: (rows: Withdrawn) => void;
  /** Tells the dispatcher an endpoint changed, as stored now (Dispatcher.refresh). */
  onEndpointChanged?: (endpoint: EndpointRow) => void;
  trust: () => Promise<TrustDocument | undefined>;
  /** Prometheus text exposition, served at /metrics. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  bodyLimit?: number;
  /** Runs the endpoint checker with the platform's identity and policy; absent: the routes answer 503. */
  check?: (target: CheckTarget) => Promise<unknown>;
  /** Whether the platform has an Ed25519 key, without which `v1a` endpoints cannot be signed. */
  ed25519Available?: boolean;
  /**
   * The endpoint's circuit and adaptive concurrency as the dispatcher applies them, shown in its
   * stats; absent (an API without a dispatcher): the stats leave it out.
   */
  circuitOf?: (endpointId: string) => CircuitView & { inFlight: number };
  /**
   * The storage fault that refuses writes now, if any (storage-health.ts): the health route answers
   * 503 with it. Absent: health answers 204 whenever the API answers.
   */
  storageFault?: () => StorageFault | undefined;
  /** Operational webhooks; by default built on `store`. */
  operational?: OperationalEvents;
}

/** What the routes see: the defaults filled in once, by buildApi. */
export type RouteDeps = ApiDeps & { operational: OperationalEvents };

export type Scope =
  | { kind: 'admin' }
  | {
      kind: 'app';
      appId: string;
      /** What the token may do within its application (capabilities.ts); null: everything. */
      grant: ReadonlySet<Capability> | null;
      /** The token's digest (hex), so that it can log itself out. */
      tokenHash: string;
      /** The feature flags it holds: the flagged event types it may see. */
      featureFlags: readonly string[];
      /** An integration's key, which rotating or deleting the integration ends, not a logout. */
      integration: boolean;
    };

declare module 'fastify' {
  interface FastifyRequest {
    scope: Scope;
  }
}

export const forbidden = (): ServerError =>
  new ServerError('HW_FORBIDDEN', 'this token does not grant access to that resource', { status: 403 });

export function requireAdmin(req: FastifyRequest): void {
  if (req.scope.kind !== 'admin') throw forbidden();
}

/** An application id of ours: an unknown one is a mistake, not a uid to create. */
export const APP_ID = /^app_[0-9A-Z]{26}$/;

/**
 * Lookups take an id or a uid, ids first: a uid shaped like an application id could name another
 * customer's application instead of its own, and the operator's application id would name that
 * application (which operational webhooks would then find in a customer's place). Both are refused.
 */
export function uidRefusal(uid: string | null | undefined): string | undefined {
  if (uid === OPERATIONAL_APP_ID) return 'is reserved';
  if (uid != null && APP_ID.test(uid)) return 'is shaped like an application id, which lookups try first';
  return undefined;
}

export function checkUid(uid: string | null | undefined, loc: string[]): void {
  const why = uidRefusal(uid);
  if (why !== undefined) throw invalidField(loc, why);
}

/**
 * The application named by the path (id or uid), if the caller's token may see it. The operator's
 * own application (operational webhooks) is reached through its routes only.
 */
export async function appFor(deps: ApiDeps, req: FastifyRequest, idOrUid: string): Promise<ApplicationRow> {
  const found = await deps.store.getApplication(idOrUid);
  const app = found?.id === OPERATIONAL_APP_ID ? undefined : found;
  if (!app) {
    if (req.scope.kind === 'app') throw forbidden();
    throw notFound('application');
  }
  if (req.scope.kind === 'app' && req.scope.appId !== app.id) throw forbidden();
  return app;
}

/** An endpoint of an application the request may see, by id or uid; 404 if there is none. */
export async function endpointOf(deps: ApiDeps, app: ApplicationRow, idOrUid: string): Promise<EndpointRow> {
  const ep = await deps.store.getEndpoint(app.id, idOrUid);
  if (!ep) throw notFound('endpoint');
  return ep;
}

/** A message of an application the request may see, by id or eventId; 404 if there is none. */
export async function messageOf(deps: ApiDeps, app: ApplicationRow, idOrEventId: string): Promise<MessageRow> {
  const m = await deps.store.getMessage(app.id, idOrEventId);
  if (!m) throw notFound('message');
  return m;
}

/** A 422 naming the failing field, shaped like the ones schema validation produces. */
export function invalidField(loc: string[], msg: string, code?: string): FieldError {
  return new FieldError(loc, msg, code);
}

/**
 * One setting that Svix renamed, which its SDKs send under either name (older SDKs the older one):
 * the value under either; both given must agree (422 naming the newer, otherwise); `undefined` when
 * neither is. Lists agree when they hold the same items.
 */
export function aliased<T>(
  newer: T | undefined,
  older: T | undefined,
  loc: string[],
  olderName: string,
): T | undefined {
  if (newer === undefined) return older;
  if (older !== undefined && !sameValue(newer, older)) {
    throw invalidField(loc, `differs from ${olderName}, the same setting under its older name`);
  }
  return newer;
}

const sameValue = (a: unknown, b: unknown): boolean =>
  Array.isArray(a) && Array.isArray(b)
    ? a.length === b.length && new Set([...a, ...b]).size === new Set(a).size
    : a === b;

/** An application's or endpoint's deliveries per second: `throttleRate`, formerly `rateLimit`. */
export const throttleOf = (
  b: { rateLimit?: number | null; throttleRate?: number | null },
  at: string[] = ['body'],
): number | null | undefined => aliased(b.throttleRate, b.rateLimit, [...at, 'throttleRate'], 'rateLimit');

/** The event types an endpoint receives: `eventTypes` (svix 2), formerly `filterTypes`. */
export const eventTypesOf = (b: {
  eventTypes?: string[] | null;
  filterTypes?: string[] | null;
}): string[] | null | undefined => aliased(b.eventTypes, b.filterTypes, ['body', 'eventTypes'], 'filterTypes');

const HOUR = 3_600_000;

export function retentionMs(b: {
  payloadRetentionPeriod?: number | null;
  payloadRetentionHours?: number | null;
}): number {
  const hours = b.payloadRetentionHours ?? null;
  const days = b.payloadRetentionPeriod ?? null;
  if (hours !== null && days !== null) {
    throw invalidField(['body', 'payloadRetentionHours'], 'and payloadRetentionPeriod exclude each other');
  }
  return hours !== null ? hours * HOUR : (days ?? DEFAULT_RETENTION_DAYS) * 24 * HOUR;
}

/** Every row of a paged list, page by page (250 a call, so the store answers others between). */
export async function allPages<T>(list: (page: PageQuery) => Promise<Page<T>>): Promise<T[]> {
  const all: T[] = [];
  let iterator: string | null = null;
  do {
    const page = await list({ limit: 250, iterator });
    all.push(...page.data);
    iterator = page.done ? null : page.iterator;
  } while (iterator !== null);
  return all;
}

export function parseTime(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Date.parse(value);
}

export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').filter((s) => s.length > 0);
  return items.length > 0 ? items : undefined;
}
