import { X509Certificate } from 'node:crypto';
import type {
  ApplicationRow,
  AttemptRow,
  EndpointMessage,
  EndpointRow,
  EventTypeRow,
  IntegrationRow,
  MessageDestination,
  MessageRow,
  Page,
  TaskRow,
} from '../store/types.ts';

// Store rows → the JSON the Svix API v1 answers (camelCase, ISO dates), plus our extensions.

const iso = (ms: number): string => new Date(ms).toISOString();

export function listOut<T, O>(page: Page<T>, map: (row: T) => O) {
  return { data: page.data.map(map), done: page.done, iterator: page.iterator, prevIterator: page.prevIterator };
}

export const applicationOut = (a: ApplicationRow) => ({
  id: a.id,
  uid: a.uid,
  name: a.name,
  metadata: a.metadata,
  rateLimit: a.rateLimit,
  throttleRate: a.rateLimit,
  createdAt: iso(a.createdAt),
  updatedAt: iso(a.updatedAt),
});

export const eventTypeOut = (t: EventTypeRow, withSchemas = true) => ({
  name: t.name,
  description: t.description,
  archived: t.archived,
  deprecated: t.deprecated,
  groupName: t.groupName,
  featureFlags: t.featureFlags,
  // Svix's earlier, single flag: shown when there is exactly one.
  featureFlag: t.featureFlags?.length === 1 ? t.featureFlags[0] : null,
  schemas: withSchemas ? t.schemas : null,
  createdAt: iso(t.createdAt),
  updatedAt: iso(t.updatedAt),
});

function identitySummary(certPem: string | null) {
  if (certPem === null) return null;
  try {
    const cert = new X509Certificate(certPem);
    return { subject: cert.subject.split('\n').join(', '), fingerprintSha256: cert.fingerprint256 };
  } catch {
    return null;
  }
}

/** The fields every Svix endpoint shape has (EndpointOut, MessageEndpointOut). */
const endpointFields = (e: EndpointRow) => ({
  id: e.id,
  uid: e.uid,
  url: e.url,
  description: e.description,
  disabled: e.disabled,
  // Svix 2 SDKs read eventTypes, earlier ones filterTypes: the same list under both names.
  eventTypes: e.filterTypes,
  filterTypes: e.filterTypes,
  channels: e.channels,
  rateLimit: e.rateLimit,
  throttleRate: e.rateLimit,
  version: e.version,
  createdAt: iso(e.createdAt),
  updatedAt: iso(e.updatedAt),
});

export const endpointOut = (e: EndpointRow) => ({
  ...endpointFields(e),
  metadata: e.metadata,
  // Extensions. The client key is never returned.
  serverCa: e.serverCaPem,
  clientIdentity: identitySummary(e.clientCertPem),
  signatureScheme: e.signing === 'ed25519' ? 'v1a' : 'v1',
  allowHttp: e.allowHttp,
  tlsPolicy: e.tlsPolicy,
});

/** Svix's `deliverAt`, on messages that were scheduled. */
const deliverAtOf = (m: MessageRow) => (m.deliverAt === undefined ? {} : { deliverAt: iso(m.deliverAt) });

export const messageOut = (m: MessageRow, withContent = true) => ({
  id: m.id,
  eventType: m.eventType,
  eventId: m.eventId,
  channels: m.channels,
  tags: m.tags,
  payload: withContent ? JSON.parse(m.payload) : {},
  timestamp: iso(m.createdAt),
  ...deliverAtOf(m),
});

/**
 * The same message as JSON text, splicing in the stored payload instead of parsing and
 * re-serialising it: the payload is most of the bytes, and ingestion answers with it every time.
 */
export function messageJson(m: MessageRow, withContent = true): string {
  const head = JSON.stringify({
    id: m.id,
    eventType: m.eventType,
    eventId: m.eventId,
    channels: m.channels,
    tags: m.tags,
    timestamp: iso(m.createdAt),
    ...deliverAtOf(m),
  });
  return `${head.slice(0, -1)},"payload":${withContent ? m.payload : '{}'}}`;
}

const STATUS_TEXT = ['success', 'pending', 'fail', 'sending', 'canceled'] as const;

/** Svix's EndpointMessageOut: a message as sent to one endpoint, with the delivery's status. */
export const endpointMessageOut = (em: EndpointMessage, withContent = true) => ({
  ...messageOut(em.message, withContent),
  status: em.status,
  statusText: STATUS_TEXT[em.status],
  nextAttempt: em.nextAttemptAt === null ? null : iso(em.nextAttemptAt),
  deliverAt: em.message.deliverAt === undefined ? null : iso(em.message.deliverAt),
});

/** Svix's MessageEndpointOut: the endpoint as the message's destination, with the delivery's status. */
export const messageEndpointOut = (d: MessageDestination) => ({
  ...endpointFields(d.endpoint),
  status: d.status,
  statusText: STATUS_TEXT[d.status],
  nextAttempt: d.nextAttemptAt === null ? null : iso(d.nextAttemptAt),
});

export const attemptOut = (a: AttemptRow) => ({
  id: a.id,
  msgId: a.msgId,
  endpointId: a.endpointId,
  url: a.url,
  response: a.response,
  responseStatusCode: a.statusCode,
  responseDurationMs: a.durationMs,
  status: a.status,
  statusText: STATUS_TEXT[a.status] ?? 'fail',
  timestamp: iso(a.createdAt),
  triggerType: a.triggerType,
  // Extensions: why it failed, and what the TLS handshake looked like.
  failureKind: a.failureKind,
  failureDetail: a.failureMessage,
  tls: a.tls,
});

/** Svix's IntegrationOut: the key is never part of it (`…/key`, `…/key/rotate`). */
export const integrationOut = (i: IntegrationRow) => ({
  id: i.id,
  name: i.name,
  featureFlags: i.featureFlags ?? [],
  createdAt: iso(i.createdAt),
  updatedAt: iso(i.updatedAt),
});

export const taskOut = (t: TaskRow) => ({
  id: t.id,
  status: t.status,
  task: t.task,
  data: t.data,
  updatedAt: iso(t.updatedAt),
});
