import type {
  ApplicationRow,
  AttemptRow,
  EndpointRow,
  EventTypeRow,
  IntegrationRow,
  MessageRow,
  StatusCode,
  TaskRow,
  TaskStatus,
  TaskType,
} from '../types.ts';

// Column ⇄ field mapping, kept apart from the queries so each query file stays one statement.

type Raw = Record<string, unknown>;

export const json = <T>(v: unknown): T =>
  v === null || v === undefined ? (null as T) : (JSON.parse(v as string) as T);

export const appFromRow = (r: Raw): ApplicationRow => ({
  id: r.id as string,
  uid: (r.uid as string | null) ?? null,
  name: r.name as string,
  metadata: json(r.metadata) ?? {},
  rateLimit: (r.rate_limit as number | null) ?? null,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

export const taskFromRow = (r: Raw): TaskRow => ({
  id: r.id as string,
  appId: (r.app_id as string | null) ?? null,
  task: r.task as TaskType,
  status: r.status as TaskStatus,
  data: json(r.data) ?? {},
  updatedAt: r.updated_at as number,
});

export const eventTypeFromRow = (r: Raw): EventTypeRow => ({
  name: r.name as string,
  description: r.description as string,
  archived: r.archived === 1,
  deprecated: r.deprecated === 1,
  groupName: (r.group_name as string | null) ?? null,
  schemas: json(r.schemas),
  featureFlags: json(r.feature_flags),
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

export const integrationFromRow = (r: Raw): IntegrationRow => ({
  id: r.id as string,
  appId: r.app_id as string,
  name: r.name as string,
  featureFlags: json(r.feature_flags),
  key: r.key as string,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

/** A JSON list column: null for none (or an empty list). */
export const listParam = (v: readonly string[] | null | undefined): string | null =>
  v && v.length > 0 ? JSON.stringify(v) : null;

export const endpointFromRow = (r: Raw): EndpointRow => ({
  id: r.id as string,
  appId: r.app_id as string,
  uid: (r.uid as string | null) ?? null,
  url: r.url as string,
  description: r.description as string,
  disabled: r.disabled === 1,
  filterTypes: json(r.filter_types),
  channels: json(r.channels),
  metadata: json(r.metadata) ?? {},
  headers: json(r.headers) ?? {},
  rateLimit: (r.rate_limit as number | null) ?? null,
  version: r.version as number,
  secrets: json(r.secrets) ?? [],
  signing: r.signing === 'ed25519' ? 'ed25519' : 'hmac',
  serverCaPem: (r.server_ca_pem as string | null) ?? null,
  clientCertPem: (r.client_cert_pem as string | null) ?? null,
  clientKeyPem: (r.client_key_pem as string | null) ?? null,
  allowHttp: r.allow_http === 1,
  tlsPolicy: json(r.tls_policy),
  failingSince: (r.failing_since as number | null) ?? null,
  createdAt: r.created_at as number,
  updatedAt: r.updated_at as number,
});

export const endpointParams = (e: EndpointRow): Raw => ({
  id: e.id,
  appId: e.appId,
  uid: e.uid,
  url: e.url,
  description: e.description,
  disabled: e.disabled ? 1 : 0,
  filterTypes: e.filterTypes ? JSON.stringify(e.filterTypes) : null,
  channels: e.channels ? JSON.stringify(e.channels) : null,
  metadata: JSON.stringify(e.metadata),
  headers: JSON.stringify(e.headers),
  rateLimit: e.rateLimit,
  version: e.version,
  secrets: JSON.stringify(e.secrets),
  signing: e.signing,
  serverCaPem: e.serverCaPem,
  clientCertPem: e.clientCertPem,
  clientKeyPem: e.clientKeyPem,
  allowHttp: e.allowHttp ? 1 : 0,
  tlsPolicy: e.tlsPolicy ? JSON.stringify(e.tlsPolicy) : null,
  failingSince: e.failingSince,
  createdAt: e.createdAt,
  updatedAt: e.updatedAt,
});

export const messageFromRow = (r: Raw): MessageRow => ({
  id: r.id as string,
  appId: r.app_id as string,
  eventType: r.event_type as string,
  eventId: (r.event_id as string | null) ?? null,
  channels: json(r.channels),
  tags: json(r.tags),
  payload: r.payload as string,
  createdAt: r.created_at as number,
  ...(r.expunged_at == null ? {} : { expungedAt: r.expunged_at as number }),
  ...(r.deliver_at == null ? {} : { deliverAt: r.deliver_at as number }),
});

export const attemptFromRow = (r: Raw): AttemptRow => ({
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
  failureKind: (r.failure_kind as string | null) ?? null,
  failureMessage: (r.failure_message as string | null) ?? null,
  tls: json(r.tls),
  triggerType: r.trigger_type as number,
  createdAt: r.created_at as number,
});
