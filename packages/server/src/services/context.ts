import type { Withdrawn } from '../dispatcher/dispatcher.ts';
import type { CircuitView } from '../dispatcher/endpoint-gate.ts';
import { FieldError } from '../errors.ts';
import { OPERATIONAL_APP_ID, type OperationalEvents } from '../operational.ts';
import { DEFAULT_RETENTION_DAYS } from '../retention.ts';
import type { EndpointRow, Page, PageQuery, Store } from '../store/types.ts';
import type { TrustDocument } from '../trust.ts';

/** What the endpoint checker is asked to test; the server fills in the platform's identity and policy. */
export interface CheckTarget {
  url: string;
  serverCaPem?: string;
  /** The endpoint's own signing and TLS settings, so the check meets what a delivery would meet. */
  endpoint?: EndpointRow;
  timeoutMs?: number;
}

/** Everything the services need from the rest of the server; injected so tests build them alone. */
export interface ServiceDeps {
  store: Store;
  /** SHA-256 of the admin token. */
  adminTokenHash: Buffer;
  now: () => number;
  /** Base URL of this server, for the links it hands out (the portal's). */
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
  /** Runs the endpoint checker with the platform's identity and policy; absent: checks answer 503. */
  check?: (target: CheckTarget) => Promise<unknown>;
  /** Whether the platform has an Ed25519 key, without which `v1a` endpoints cannot be signed. */
  ed25519Available?: boolean;
  /**
   * The endpoint's circuit and adaptive concurrency as the dispatcher applies them, shown in its
   * stats; absent (an API without a dispatcher): the stats leave it out.
   */
  circuitOf?: (endpointId: string) => CircuitView & { inFlight: number };
  operational: OperationalEvents;
}

/** A 422 naming the failing field, shaped like the ones schema validation produces. */
export function invalidField(loc: string[], msg: string, code?: string): FieldError {
  return new FieldError(loc, msg, code);
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

/** A [since, until) window of a recover, a replay or a statistics request; `until` defaults to now. */
export function windowOf(
  w: { since: number; until?: number | undefined },
  now: number,
  at: string[] = ['body', 'until'],
): { since: number; until: number } {
  const until = w.until ?? now + 1;
  if (until <= w.since) throw invalidField(at, 'must be after since');
  return { since: w.since, until };
}
