import type {
  ApplicationRow,
  AttemptRow,
  EndpointRow,
  EventTypeRow,
  IntegrationRow,
  MessageRow,
  Outcome,
  StatusCode,
  TaskRow,
  TaskStatus,
  TaskType,
} from '../types.ts';
import type { Row } from './db.ts';

// Column ⇄ field mapping. The driver already parses jsonb, text[] and booleans; bigint is a number
// (db.ts). `p` is a column prefix, for statements that return several tables' rows side by side.

const orNull = <T>(v: unknown): T | null => (v === undefined || v === null ? null : (v as T));

export const appFromRow = (r: Row): ApplicationRow => ({
  id: r.id as string,
  uid: orNull(r.uid),
  name: r.name as string,
  metadata: (r.metadata as Record<string, string> | null) ?? {},
  rateLimit: orNull(r.rate_limit),
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

export const eventTypeFromRow = (r: Row): EventTypeRow => ({
  name: r.name as string,
  description: r.description as string,
  archived: r.archived === true,
  deprecated: r.deprecated === true,
  groupName: orNull(r.group_name),
  schemas: orNull(r.schemas),
  featureFlags: orNull(r.feature_flags),
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

export const integrationFromRow = (r: Row): IntegrationRow => ({
  id: r.id as string,
  appId: r.app_id as string,
  name: r.name as string,
  featureFlags: orNull(r.feature_flags),
  key: r.key as string,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

/** A list column: NULL for none (or an empty list), as the SQLite store keeps it. */
export const listParam = (v: readonly string[] | null | undefined): string[] | null =>
  v && v.length > 0 ? [...v] : null;

/** The endpoints columns, in the order of `endpointParams`. */
export const ENDPOINT_COLUMNS = [
  'id',
  'app_id',
  'uid',
  'url',
  'description',
  'disabled',
  'filter_types',
  'channels',
  'metadata',
  'headers',
  'rate_limit',
  'version',
  'secrets',
  'signing',
  'server_ca_pem',
  'client_cert_pem',
  'client_key_pem',
  'allow_http',
  'tls_policy',
  'failing_since',
  'created_at',
  'updated_at',
] as const;

export const MESSAGE_COLUMNS = [
  'id',
  'app_id',
  'event_type',
  'event_id',
  'channels',
  'tags',
  'payload',
  'created_at',
  'deliver_at',
  'expunged_at',
] as const;

/** `alias.column AS prefix_column, …`: a table's columns under a prefix, beside another table's. */
export const prefixed = (alias: string, columns: readonly string[], prefix: string): string =>
  columns.map((c) => `${alias}.${c} AS ${prefix}${c}`).join(', ');

export const endpointFromRow = (r: Row, p = ''): EndpointRow => ({
  id: r[`${p}id`] as string,
  appId: r[`${p}app_id`] as string,
  uid: orNull(r[`${p}uid`]),
  url: r[`${p}url`] as string,
  description: r[`${p}description`] as string,
  disabled: r[`${p}disabled`] === true,
  filterTypes: orNull(r[`${p}filter_types`]),
  channels: orNull(r[`${p}channels`]),
  metadata: (r[`${p}metadata`] as Record<string, string> | null) ?? {},
  headers: (r[`${p}headers`] as Record<string, string> | null) ?? {},
  rateLimit: orNull(r[`${p}rate_limit`]),
  version: r[`${p}version`] as number,
  secrets: (r[`${p}secrets`] as EndpointRow['secrets'] | null) ?? [],
  signing: r[`${p}signing`] === 'ed25519' ? 'ed25519' : 'hmac',
  serverCaPem: orNull(r[`${p}server_ca_pem`]),
  clientCertPem: orNull(r[`${p}client_cert_pem`]),
  clientKeyPem: orNull(r[`${p}client_key_pem`]),
  allowHttp: r[`${p}allow_http`] === true,
  tlsPolicy: orNull(r[`${p}tls_policy`]),
  failingSince: orNull(r[`${p}failing_since`]),
  createdAt: r[`${p}created_at`] as number,
  updatedAt: r[`${p}updated_at`] as number,
});

const jsonOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : JSON.stringify(v));

/** An endpoint's values in ENDPOINT_COLUMNS order ($1 … $22). jsonb goes as JSON text. */
export const endpointParams = (e: EndpointRow): unknown[] => [
  e.id,
  e.appId,
  e.uid,
  e.url,
  e.description,
  e.disabled,
  e.filterTypes,
  e.channels,
  JSON.stringify(e.metadata),
  JSON.stringify(e.headers),
  e.rateLimit,
  e.version,
  JSON.stringify(e.secrets),
  e.signing,
  e.serverCaPem,
  e.clientCertPem,
  e.clientKeyPem,
  e.allowHttp,
  jsonOrNull(e.tlsPolicy),
  e.failingSince,
  e.createdAt,
  e.updatedAt,
];

export const messageFromRow = (r: Row, p = ''): MessageRow => {
  const expungedAt = r[`${p}expunged_at`];
  const deliverAt = r[`${p}deliver_at`];
  return {
    id: r[`${p}id`] as string,
    appId: r[`${p}app_id`] as string,
    eventType: r[`${p}event_type`] as string,
    eventId: orNull(r[`${p}event_id`]),
    channels: orNull(r[`${p}channels`]),
    tags: orNull(r[`${p}tags`]),
    payload: r[`${p}payload`] as string,
    createdAt: r[`${p}created_at`] as number,
    ...(expungedAt == null ? {} : { expungedAt: expungedAt as number }),
    ...(deliverAt == null ? {} : { deliverAt: deliverAt as number }),
  };
};

export const attemptFromRow = (r: Row): AttemptRow => ({
  id: r.id as string,
  deliveryId: r.delivery_id as number,
  msgId: r.msg_id as string,
  endpointId: r.endpoint_id as string,
  appId: r.app_id as string,
  url: r.url as string,
  status: r.status as StatusCode,
  statusCode: r.status_code as number,
  response: r.response as string,
  durationMs: r.duration_ms as number,
  failureKind: orNull(r.failure_kind),
  failureMessage: orNull(r.failure_message),
  tls: orNull(r.tls),
  triggerType: r.trigger_type as number,
  createdAt: r.created_at as number,
});

export const taskFromRow = (r: Row): TaskRow => ({
  id: r.id as string,
  appId: orNull(r.app_id),
  task: r.task as TaskType,
  status: r.status as TaskStatus,
  data: (r.data as Record<string, unknown> | null) ?? {},
  updatedAt: r.updated_at as number,
});

/**
 * Text from outside (what a receiver answered, an error's message) may hold NUL characters, which
 * PostgreSQL text cannot: they are replaced rather than fail the batch they are recorded in.
 */
export const storable = (text: string): string => (text.includes('\0') ? text.replaceAll('\0', '\uFFFD') : text);

/** Outcomes as one array per column, for the single statement that records a batch (sql/record-outcomes.ts). */
export function outcomeColumns(outcomes: Outcome[]): unknown[] {
  const col = <T>(f: (o: Outcome) => T): T[] => outcomes.map(f);
  return [
    col((o) => o.deliveryId),
    col((o) => (o.attempt.status === 0 ? 0 : o.nextAttemptAt === undefined ? 2 : 1)),
    col((o) => o.nextAttemptAt ?? null),
    col((o) => o.disableEndpoint === true),
    col((o) => o.attempt.id),
    col((o) => o.attempt.msgId),
    col((o) => o.attempt.endpointId),
    col((o) => o.attempt.appId),
    col((o) => o.attempt.url),
    col((o) => o.attempt.status),
    col((o) => o.attempt.statusCode),
    col((o) => storable(o.attempt.response)),
    col((o) => Math.round(o.attempt.durationMs)),
    col((o) => o.attempt.failureKind),
    col((o) => (o.attempt.failureMessage === null ? null : storable(o.attempt.failureMessage))),
    col((o) => jsonOrNull(o.attempt.tls)),
    col((o) => o.attempt.triggerType),
    col((o) => o.attempt.createdAt),
  ];
}
