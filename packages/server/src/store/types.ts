import type { CipherPolicy } from '../delivery/ciphers.ts';

/**
 * The storage interface of the platform. SQLite implements it today; PostgreSQL will implement the
 * same interface, and `test/store/conformance.ts` runs one suite against every implementation.
 * Times are milliseconds since the epoch; JSON-ish fields are already parsed.
 */

export interface ApplicationRow {
  id: string;
  uid: string | null;
  name: string;
  metadata: Record<string, string>;
  rateLimit: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface EventTypeRow {
  name: string;
  description: string;
  archived: boolean;
  deprecated: boolean;
  groupName: string | null;
  schemas: unknown;
  /** Only application tokens holding one of these see it; null: every token. */
  featureFlags: string[] | null;
  createdAt: number;
  updatedAt: number;
}

/** An integration (Svix's): a named key acting on one application, as a portal token would. */
export interface IntegrationRow {
  id: string;
  appId: string;
  name: string;
  featureFlags: string[] | null;
  /** The current key (`integsk_…`); requests find it by its SHA-256 digest. */
  key: string;
  createdAt: number;
  updatedAt: number;
}

/** What a bearer token found in the store may do. */
export interface FoundToken {
  /** Its application; null: the whole environment. */
  appId: string | null;
  /** The capabilities it holds; null: everything within its application. */
  capabilities: string[] | null;
  /** The feature flags it holds (event types it may see). */
  featureFlags: string[] | null;
  /** An integration's key: ended by rotating or deleting the integration, not by logging out. */
  integration: boolean;
  /** When it stops working; null: never (an integration's key). */
  expiresAt: number | null;
  /** The portal session it was made for (`expire-all` by `sessionIds`); null: none. */
  sessionId: string | null;
}

export interface EndpointSecret {
  key: string;
  /** After this instant the secret no longer signs (rotation grace period); null = current. */
  expiresAt: number | null;
}

export interface EndpointRow {
  id: string;
  appId: string;
  uid: string | null;
  url: string;
  description: string;
  disabled: boolean;
  filterTypes: string[] | null;
  channels: string[] | null;
  metadata: Record<string, string>;
  headers: Record<string, string>;
  rateLimit: number | null;
  version: number;
  secrets: EndpointSecret[];
  /** 'hmac' signs with the endpoint secret (v1); 'ed25519' with the platform's Ed25519 key (v1a). */
  signing: 'hmac' | 'ed25519';
  serverCaPem: string | null;
  clientCertPem: string | null;
  clientKeyPem: string | null;
  allowHttp: boolean;
  /** Overrides of the server's TLS policy for this endpoint (versions, suites); null = the server's. */
  tlsPolicy: Partial<CipherPolicy> | null;
  /** Start of the current run of failures; null after a success. Drives automatic disabling. */
  failingSince: number | null;
  createdAt: number;
  updatedAt: number;
}

export interface MessageRow {
  id: string;
  appId: string;
  eventType: string;
  eventId: string | null;
  channels: string[] | null;
  tags: string[] | null;
  /** The JSON body exactly as it will be delivered and signed (`{}` once expunged). */
  payload: string;
  createdAt: number;
  /** When its payload was deleted: it is delivered and resent no more. Absent while it has one. */
  expungedAt?: number;
  /** When it was scheduled to go out (`deliverAt`); absent when sent as soon as accepted. */
  deliverAt?: number;
}

/** Svix's MessageStatus numbers. */
export const Status = { success: 0, pending: 1, fail: 2, sending: 3 } as const;
export type StatusCode = (typeof Status)[keyof typeof Status];

export const Trigger = { scheduled: 0, manual: 1 } as const;

export interface AttemptTls {
  protocol: string;
  cipher: string;
  peerFingerprintSha256?: string;
  clientCertificateSent: boolean;
}

export interface AttemptRow {
  id: string;
  deliveryId: number;
  msgId: string;
  endpointId: string;
  appId: string;
  url: string;
  status: StatusCode;
  statusCode: number;
  response: string;
  durationMs: number;
  failureKind: string | null;
  failureMessage: string | null;
  tls: AttemptTls | null;
  triggerType: number;
  createdAt: number;
}

/** A delivery row claimed by a dispatcher, with everything needed to send it. */
export interface ClaimedDelivery {
  id: number;
  attempts: number;
  triggerType: number;
  message: MessageRow;
  endpoint: EndpointRow;
  /**
   * Deliveries per second to the endpoint, or null for no limit: the endpoint's own `rateLimit`, else
   * its application's (Svix: an application's limit applies to each of its endpoints, and an
   * endpoint's own overrides it).
   */
  rateLimit: number | null;
  /**
   * The `webhook-signature` value computed ahead by the thread that claimed the row (see `presign`
   * in delivery/signing.ts), valid for a delivery started in second `timestamp` before `until`.
   */
  presigned?: { timestamp: number; until: number; value: string };
}

/** One endpoint a message was sent to, with its delivery's status (the latest, after a resend). */
export interface MessageDestination {
  endpoint: EndpointRow;
  /** `sending` while a dispatcher holds the delivery. */
  status: StatusCode;
  nextAttemptAt: number | null;
}

/** One message sent to an endpoint, with its delivery's status (the latest, after a resend). */
export interface EndpointMessage {
  message: MessageRow;
  status: StatusCode;
  nextAttemptAt: number | null;
}

export interface EndpointMessageFilter extends MessageFilter {
  status?: StatusCode;
}

/** Deliveries of one endpoint by status (Svix's EndpointStats). */
export interface EndpointStats {
  success: number;
  pending: number;
  sending: number;
  fail: number;
  canceled: number;
}

export interface Outcome {
  deliveryId: number;
  attempt: Omit<AttemptRow, 'deliveryId'>;
  /** When to try again; undefined = final (success or given up). */
  nextAttemptAt?: number;
  /** Disable the endpoint (HTTP 410, or failing for too long). */
  disableEndpoint?: boolean;
  /** Attempts of this delivery so far, this one included: for listeners; the store ignores it. */
  attemptsMade?: number;
}

export interface PageQuery {
  limit: number;
  /** An id from a previous page; a leading '-' asks for the page before it. */
  iterator?: string | null;
  order?: 'ascending' | 'descending';
}

export interface Page<T> {
  data: T[];
  done: boolean;
  iterator: string | null;
  prevIterator: string | null;
}

export interface MessageFilter extends PageQuery {
  eventTypes?: string[];
  channel?: string;
  tag?: string;
  before?: number;
  after?: number;
}

export interface AttemptFilter extends PageQuery {
  status?: StatusCode;
  /** 0 (no response), 100, 200, 300, 400 or 500: the attempt's HTTP status code's class. */
  statusCodeClass?: number;
  /** Attempts to this endpoint only (by id). */
  endpointId?: string;
  eventTypes?: string[];
  channel?: string;
  tag?: string;
  before?: number;
  after?: number;
}

/** Svix's `BackgroundTaskType` names of what Hookwarden runs as a task. */
export type TaskType =
  | 'endpoint.recover'
  | 'endpoint.replay'
  | 'endpoint.bulk-replay'
  | 'application.purge_content'
  | 'application.stats'
  | 'event-type.aggregate';
export type TaskStatus = 'running' | 'finished' | 'failed';

/** A background task (recover, replay, purge): what it was, how it ended, what it did. */
export interface TaskRow {
  id: string;
  /** The application it acted on: its tokens may see it. Null: the whole environment's (admin only). */
  appId: string | null;
  task: TaskType;
  status: TaskStatus;
  data: Record<string, unknown>;
  updatedAt: number;
}

export interface TaskFilter extends PageQuery {
  /** Only this application's tasks (an application token's view). */
  appId?: string;
  status?: TaskStatus;
  task?: TaskType;
}

/** One slice of time on the operator's console (Store.deliveryTimeline). */
export interface TimelineBucket {
  /** Its start; it lasts the timeline's `bucketMs`. */
  start: number;
  /** Deliveries that joined the queue in it (a message's fan-out, resends, recoveries). */
  enqueued: number;
  /** Deliveries that left it in it: delivered, or failed for good. */
  finished: number;
  /** Attempts made in it, how many failed, and their durations. */
  attempts: number;
  failed: number;
  durationMsSum: number;
  durationMsMax: number;
}

export interface DeliveryTimeline {
  /** Deliveries in the queue at the window's start; each bucket's depth follows from it. */
  queuedAtStart: number;
  /** Every bucket of the window, in order, empty ones included. */
  buckets: TimelineBucket[];
}

/** An endpoint the operator should look at: disabled, failing, or held back by its throttle. */
export interface TroubledEndpoint {
  endpoint: EndpointRow;
  appName: string;
  /** Deliveries per second it is held to: its own, else its application's; null: none. */
  throttle: number | null;
  /** Its deliveries waiting in the queue. */
  pending: number;
}

export type NewApplication = Omit<ApplicationRow, 'createdAt' | 'updatedAt'>;
export type NewEndpoint = Omit<EndpointRow, 'createdAt' | 'updatedAt' | 'failingSince'>;
export type NewEventType = Omit<EventTypeRow, 'createdAt' | 'updatedAt'>;

export interface Store {
  readonly kind: string;
  close(): Promise<void>;

  createApplication(app: NewApplication, now: number): Promise<ApplicationRow>;
  /** By id or uid. */
  getApplication(idOrUid: string): Promise<ApplicationRow | undefined>;
  /**
   * `exceptId`: one application the list never shows (the operator's own, operational.ts).
   * `withEndpoints`: only applications with at least one endpoint; `withoutOnlyDisabled`: leaves
   * out the applications whose endpoints are all disabled (those with none stay).
   */
  listApplications(
    page: PageQuery & { exceptId?: string; withEndpoints?: boolean; withoutOnlyDisabled?: boolean },
  ): Promise<Page<ApplicationRow>>;
  updateApplication(app: ApplicationRow, now: number): Promise<ApplicationRow>;
  deleteApplication(id: string): Promise<boolean>;

  createEventType(type: NewEventType, now: number): Promise<EventTypeRow>;
  getEventType(name: string): Promise<EventTypeRow | undefined>;
  /** `featureFlags`: only the types without flags or holding one of these (an application token's view). */
  listEventTypes(
    page: PageQuery & { includeArchived?: boolean; featureFlags?: readonly string[] },
  ): Promise<Page<EventTypeRow>>;
  updateEventType(type: EventTypeRow, now: number): Promise<EventTypeRow>;
  /** Deletes it for good (Svix's `expunge`); false when there was none. */
  deleteEventType(name: string): Promise<boolean>;

  /** `keyHash`: the SHA-256 hex digest of `integration.key`, by which requests find it. */
  createIntegration(
    integration: Omit<IntegrationRow, 'createdAt' | 'updatedAt'>,
    keyHash: string,
    now: number,
  ): Promise<IntegrationRow>;
  getIntegration(appId: string, id: string): Promise<IntegrationRow | undefined>;
  listIntegrations(appId: string, page: PageQuery): Promise<Page<IntegrationRow>>;
  /** Its name and feature flags; undefined when there is none. */
  updateIntegration(
    appId: string,
    id: string,
    change: { name: string; featureFlags: string[] | null },
    now: number,
  ): Promise<IntegrationRow | undefined>;
  /** A new key; the previous one stops working at once. Undefined when there is none. */
  rotateIntegrationKey(
    appId: string,
    id: string,
    key: string,
    keyHash: string,
    now: number,
  ): Promise<IntegrationRow | undefined>;
  deleteIntegration(appId: string, id: string): Promise<boolean>;

  createEndpoint(endpoint: NewEndpoint, now: number): Promise<EndpointRow>;
  /** By id or uid, within the application. */
  getEndpoint(appId: string, idOrUid: string): Promise<EndpointRow | undefined>;
  listEndpoints(appId: string, page: PageQuery): Promise<Page<EndpointRow>>;
  updateEndpoint(endpoint: EndpointRow, now: number): Promise<EndpointRow>;
  deleteEndpoint(appId: string, id: string): Promise<boolean>;

  /**
   * Stores the message and, in the same transaction, one pending delivery per enabled endpoint whose
   * event-type and channel filters match. An existing `eventId` in the application returns the
   * stored message with `created: false` and enqueues nothing. `fanOut: false` stores it only.
   */
  createMessage(
    msg: MessageRow,
    opts: { deliverAt?: number; fanOut?: boolean; payloadExpiresAt?: number },
  ): Promise<{ message: MessageRow; created: boolean; deliveries: number }>;
  /** By id or eventId. */
  getMessage(appId: string, idOrEventId: string): Promise<MessageRow | undefined>;
  listMessages(appId: string, filter: MessageFilter): Promise<Page<MessageRow>>;
  /** A new pending delivery of an existing message to one endpoint (resend, send-example). */
  enqueueDelivery(msgId: string, endpointId: string, now: number, triggerType: number): Promise<void>;
  /** Requeues the failed deliveries of an endpoint created in [since, until). Returns how many. */
  recoverEndpoint(endpointId: string, since: number, until: number, now: number): Promise<number>;
  /**
   * Enqueues the endpoint's missing messages: those of its application created within [since, until)
   * that its filters match and that have no delivery to it yet. Answers how many.
   */
  replayMissing(endpointId: string, since: number, until: number, now: number): Promise<number>;

  /**
   * Leases up to `limit` due deliveries to `workerId` until `now + leaseMs`. Rows whose lease expired
   * are due again: a crashed dispatcher loses nothing. No endpoint gets more than its limit
   * (`endpointLimits`, else `perEndpointLimit`) minus its `inFlight` count, so a slow endpoint cannot
   * take every slot; an endpoint whose limit is 0 gets none (its circuit is open): its rows stay due,
   * their attempts untouched.
   */
  claimDeliveries(opts: {
    workerId: string;
    now: number;
    leaseMs: number;
    limit: number;
    perEndpointLimit?: number;
    inFlight?: ReadonlyMap<string, number>;
    endpointLimits?: ReadonlyMap<string, number>;
  }): Promise<ClaimedDelivery[]>;
  /** Records a batch of outcomes in one transaction (group commit) and releases their leases. */
  recordOutcomes(outcomes: Outcome[], now: number): Promise<void>;
  /** Clears every lease held by `workerId` (graceful shutdown) so another dispatcher may claim at once. */
  releaseLeases(workerId: string, now: number): Promise<number>;
  /** Start-up of a single-process store: every remaining lease is a dead dispatcher's; make it due now. */
  releaseAllLeases(now: number): Promise<number>;
  /** The earliest instant a delivery becomes due (pending or lease expiry), for the fallback timer. */
  nextDueAt(): Promise<number | undefined>;
  queueStats(now: number): Promise<{ depth: number; oldestDueAgeMs: number }>;

  /** The endpoints a message was sent to, ordered by endpoint id, with each delivery's status at `now`. */
  listMessageDestinations(
    appId: string,
    msgId: string,
    page: PageQuery,
    now: number,
  ): Promise<Page<MessageDestination>>;
  /** The messages sent to an endpoint, newest first, with each delivery's status at `now`. */
  listEndpointMessages(
    appId: string,
    endpointId: string,
    filter: EndpointMessageFilter,
    now: number,
  ): Promise<Page<EndpointMessage>>;
  /** One endpoint's deliveries by status at `now`, of messages created within [since, until). */
  endpointStats(endpointId: string, window: { since?: number; until?: number }, now: number): Promise<EndpointStats>;
  listAttemptsByMessage(appId: string, msgId: string, filter: AttemptFilter): Promise<Page<AttemptRow>>;
  listAttemptsByEndpoint(appId: string, endpointId: string, filter: AttemptFilter): Promise<Page<AttemptRow>>;
  getAttempt(appId: string, msgId: string, attemptId: string): Promise<AttemptRow | undefined>;
  /** Whether a message of this type and channels would go to any endpoint now (Svix's precheck). */
  hasActiveEndpoint(appId: string, eventType: string, channels: string[] | null): Promise<boolean>;
  /**
   * Bulk replay: a new delivery to the endpoint of every message created within [since, until)
   * that was sent to it, whose payload is kept, and that matches the filters: message filters, the
   * latest delivery's status at `now`, and the class (0, 100, …, 500) of its latest attempt's HTTP
   * status (0: none, as for a connection error). Returns how many.
   */
  bulkReplay(
    endpointId: string,
    f: {
      since: number;
      until: number;
      eventTypes?: string[];
      channel?: string;
      tag?: string;
      status?: StatusCode;
      statusCodeClass?: number;
    },
    now: number,
  ): Promise<number>;
  /**
   * Deletes a message's payload (it becomes `{}`): its deliveries that wait are ended as failed, and
   * one in flight that would be retried is ended when next claimed, so it is never sent again; a
   * stored idempotent reply that carried it now carries `{}`. False when there is no such message.
   */
  expungeMessage(appId: string, msgId: string, now: number): Promise<boolean>;
  /**
   * Expunges (as `expungeMessage`) up to `limit` messages whose payload retention ended by `now`,
   * oldest first. Returns how many.
   */
  expungeExpiredPayloads(now: number, limit: number): Promise<number>;
  /**
   * Expunges (as `expungeMessage`) up to `limit` messages of the application after `afterId`, in id
   * order; returns the last one's id, or null when none was left.
   */
  expungeApplicationPayloads(appId: string, afterId: string | null, limit: number, now: number): Promise<string | null>;
  /**
   * Deletes up to `limit` each of the idempotency replies, tokens and background task records that
   * expired by `now`. Returns how many rows went.
   */
  deleteExpiredRecords(now: number, limit: number): Promise<number>;
  /** Deletes what the receiver answered to one attempt. False when there is no such attempt. */
  expungeAttemptResponse(appId: string, msgId: string, attemptId: string): Promise<boolean>;

  /**
   * Bearer tokens are stored as SHA-256 hex digests, never in clear. `capabilities`: what an
   * application token may do (null: everything within its application); `sessionId`: the portal
   * session it was made for, so that a session's tokens can be expired together.
   */
  createToken(
    hash: string,
    appId: string | null,
    expiresAt: number | null,
    opts?: { capabilities?: string[] | null; sessionId?: string | null; featureFlags?: string[] | null },
  ): Promise<void>;
  /** A live token by its digest: a portal (or admin) token, or an integration's key. */
  findToken(hash: string, now: number): Promise<FoundToken | undefined>;
  /** Ends one token at once (logout); false when there was none. */
  deleteToken(hash: string): Promise<boolean>;
  /**
   * An application's tokens (only those of `sessionIds`, when given) stop working at `at`, or
   * earlier if they already expire before. Returns how many were cut short.
   */
  expireTokens(appId: string, at: number, sessionIds?: string[]): Promise<number>;

  /**
   * How many deliveries (message × endpoint) the application's messages created in [since, until)
   * made, resends and replays included.
   */
  countMessageDestinations(appId: string, since: number, until: number): Promise<number>;
  /** Keeps a task's record until `expiresAt` (it goes when its application does). */
  putTask(task: TaskRow, expiresAt: number): Promise<void>;
  getTask(id: string): Promise<TaskRow | undefined>;
  /** Newest first by default, as Svix lists them. */
  listTasks(filter: TaskFilter): Promise<Page<TaskRow>>;

  /**
   * The operator's console, over every application: the queue's depth, the deliveries that joined
   * and left it, and the attempts made, in `bucketMs` slices of [since, until). A delivery that
   * left the queue counts as leaving at its last update. Reads only.
   */
  deliveryTimeline(w: { since: number; until: number; bucketMs: number }): Promise<DeliveryTimeline>;
  /**
   * Up to `limit` endpoints of every application that are disabled, failing (a run of failures
   * not ended by a success), or throttled with deliveries waiting: disabled first, then the longest
   * failing, then the longest backlog. Reads only.
   */
  troubledEndpoints(limit: number): Promise<TroubledEndpoint[]>;

  getIdempotent(scope: string, key: string, now: number): Promise<{ status: number; body: string } | undefined>;
  putIdempotent(scope: string, key: string, status: number, body: string, expiresAt: number): Promise<void>;

  /**
   * A light write that tells whether the database takes writes now, leaving nothing behind: run
   * while storage is faulty (storage-health.ts), so that a node recovers with no traffic. Without
   * it, storage health recovers on the next write that succeeds.
   */
  probeWrite?(now: number): Promise<void>;
}
