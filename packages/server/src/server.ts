import { EventEmitter } from 'node:events';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseCidr } from '@hookwarden/verify';
import type { FastifyBaseLogger } from 'fastify';
import type { pino } from 'pino';
import { buildApi } from './api/app.ts';
import { hashToken } from './api/auth.ts';
import { type CipherPolicy, DEFAULT_CIPHER_POLICY } from './delivery/ciphers.ts';
import { createDeliveryClient } from './delivery/client.ts';
import { assertTargetAllowed } from './delivery/ssrf.ts';
import type { DeliveryClient, DeliveryClientOptions } from './delivery/types.ts';
import { createDispatcher, type Dispatcher, type DispatcherOptions } from './dispatcher/dispatcher.ts';
import { DEFAULT_CONCURRENCY } from './dispatcher/options.ts';
import { createEndpointChecker } from './endpoint-check.ts';
import { invalidOption, ServerError } from './errors.ts';
import { createLogger, logOutcome } from './logger.ts';
import { createMetrics } from './metrics.ts';
import { createOperationalEvents } from './operational.ts';
import { startRetentionSweep } from './retention.ts';
import { StorageHealth } from './storage-health.ts';
import { StorageFault } from './store/faults.ts';
import { openSqliteStoreInWorker } from './store/sqlite/worker.ts';
import { trackedStore } from './store/tracked.ts';
import type { Store } from './store/types.ts';
import { buildTrustDocument, type TrustDocument } from './trust.ts';

/** The platform's client certificate and what the trust document says about it (PkiStore.identity()). */
export interface PlatformIdentity {
  certPem: string;
  keyPem: string;
  /** Leaf then intermediates: presented on every TLS connection. */
  chainPem: string;
  caBundlePem: string;
  current: DescribedCertificate;
  next?: DescribedCertificate;
}

interface DescribedCertificate {
  subject: string;
  dnsNames: string[];
  notBefore: Date;
  notAfter: Date;
  fingerprints: { sha256: string; sha1: string; sha256Hex: string; sha1Hex: string; spkiSha256: string };
}

export interface ServerOptions {
  host?: string;
  port?: number;
  /** Directory of the SQLite database; ignored when `store` is given. */
  dataDir?: string;
  store?: Store;
  /** PostgreSQL is not implemented yet: any value is refused, rather than silently using SQLite. */
  databaseUrl?: string;
  adminToken: string;
  identity: () => PlatformIdentity | undefined;
  /** Ed25519 signing keys for v1a endpoints; the public halves are published in the trust document. */
  signingKeys?: { secret: string; publicKey: string }[];
  egressAddress?: string;
  egressCidrs?: string[];
  allowPrivateTargets?: boolean;
  cipherPolicy?: CipherPolicy;
  /**
   * The server's public origin (`https://hooks.example.com`), for the absolute links it hands out
   * (portal sign-in links) and to know that it is served over HTTPS behind a load balancer (the
   * portal's cookies are then Secure). Default: http://host:port as it listens.
   */
  publicUrl?: string;
  /** The account portal at /portal (on by default): who may frame it, how often live lists refresh. */
  portal?: { frameAncestors?: string[]; livePollMs?: number } | false;
  logger?: pino.Logger;
  logLevel?: string;
  now?: () => number;
  dispatcher?: Omit<DispatcherOptions, 'store' | 'client' | 'now' | 'signingKeys' | 'onOutcome'>;
  /** The delivery client's timeouts by phase (docs/delivery.md) and connections per receiver origin. */
  delivery?: Pick<
    DeliveryClientOptions,
    | 'dnsTimeoutMs'
    | 'connectTimeoutMs'
    | 'tlsTimeoutMs'
    | 'headersTimeoutMs'
    | 'totalTimeoutMs'
    | 'connectionsPerOrigin'
    | 'maxResponseBytes'
  >;
  /** How often payloads past their retention are deleted (default every minute). */
  retentionSweepMs?: number;
  /** How often a light write is tried while storage refuses writes, to heal without traffic (default 1000 ms). */
  storageProbeMs?: number;
}

export interface RunningServer {
  url: string;
  port: number;
  store: Store;
  dispatcher: Dispatcher;
  /**
   * 'recorded' (outcomes) after each group commit of delivery outcomes; 'storage' (the StorageFault,
   * or undefined when writes succeed again) when storage health changes.
   */
  events: EventEmitter;
  /** Graceful stop: no new requests, no new claims, in-flight deliveries up to the deadline, leases released. */
  close(opts?: { deadlineMs?: number }): Promise<void>;
}

const TOKEN_MIN_LENGTH = 16;

/**
 * The egress CIDRs as published: parsed by the receivers' own parser and written in its canonical
 * form. Published as given, one with a stray space (`a/32, b/24` from an environment variable) or a
 * typo made receivers refuse the whole trust document, and with it every rotation it announces.
 */
function egressCidrsOf(given: string[] | undefined): string[] {
  if (given === undefined) return [];
  if (!Array.isArray(given)) throw invalidOption('egressCidrs', 'must be a list of CIDRs');
  return given.map((c, i) => {
    const parsed = parseCidr(typeof c === 'string' ? c.trim() : c);
    if (typeof parsed === 'string') throw invalidOption(`egressCidrs[${i}]`, parsed);
    return parsed.text;
  });
}

const DEFAULT_TOTAL_TIMEOUT_MS = 30_000;

/**
 * The dispatcher's options with its deadlines following the client's total timeout: the deadline
 * 15 s beyond it (the client's own timeout fires first), and the lease more than twice that.
 */
function dispatchOptions(
  options: ServerOptions,
): Omit<DispatcherOptions, 'store' | 'client'> & { concurrency: number } {
  const given = options.dispatcher ?? {};
  const deliveryDeadlineMs =
    given.deliveryDeadlineMs ?? (options.delivery?.totalTimeoutMs ?? DEFAULT_TOTAL_TIMEOUT_MS) + 15_000;
  return {
    ...given,
    concurrency: given.concurrency ?? DEFAULT_CONCURRENCY,
    deliveryDeadlineMs,
    leaseMs: given.leaseMs ?? Math.max(120_000, 2 * deliveryDeadlineMs + 30_000),
  };
}

/** The public URL as an origin without a trailing slash; anything else would make broken links. */
function publicUrlOf(given: string | undefined): string | undefined {
  if (given === undefined) return undefined;
  let url: URL;
  try {
    url = new URL(given);
  } catch {
    throw invalidOption('publicUrl', 'is not a URL');
  }
  if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalidOption('publicUrl', 'must be http(s)://');
  if (url.username || url.password || url.search || url.hash || (url.pathname !== '/' && url.pathname !== '')) {
    throw invalidOption(
      'publicUrl',
      'must be an origin only (https://hooks.example.com): no path, query or credentials',
    );
  }
  return url.origin;
}

export async function startServer(options: ServerOptions): Promise<RunningServer> {
  if (options.databaseUrl !== undefined) {
    throw new ServerError(
      'HW_DATABASE_UNSUPPORTED',
      'PostgreSQL support is not available yet: omit --database-url to use SQLite in the data directory',
      { status: 500 },
    );
  }
  if (typeof options.adminToken !== 'string' || options.adminToken.length < TOKEN_MIN_LENGTH) {
    throw invalidOption('adminToken', `must be at least ${TOKEN_MIN_LENGTH} characters`);
  }
  if (!options.store && !options.dataDir) throw invalidOption('dataDir', 'is required when no store is given');
  if (options.retentionSweepMs !== undefined && !(options.retentionSweepMs > 0)) {
    throw invalidOption('retentionSweepMs', 'must be a positive number of milliseconds');
  }
  if (options.storageProbeMs !== undefined && !(options.storageProbeMs > 0)) {
    throw invalidOption('storageProbeMs', 'must be a positive number of milliseconds');
  }
  if (typeof options.identity !== 'function') throw invalidOption('identity', 'must be a function');
  const egressCidrs = egressCidrsOf(options.egressCidrs);
  const configuredUrl = publicUrlOf(options.publicUrl);
  const now = options.now ?? Date.now;
  const host = options.host ?? '127.0.0.1';
  const logger = options.logger ?? createLogger(options.logLevel);
  if (!options.store) mkdirSync(options.dataDir as string, { recursive: true, mode: 0o700 });
  const ownStore = options.store ?? openSqliteStoreInWorker(join(options.dataDir as string, 'hookwarden.db'));
  const events = new EventEmitter();
  const storage = new StorageHealth({
    now,
    ...(ownStore.probeWrite ? { probe: () => (ownStore.probeWrite as (now: number) => Promise<void>)(now()) } : {}),
    probeMs: options.storageProbeMs ?? 1000,
    log: logger,
    onRefused: (code) => metrics.refused(code),
    onChange: (fault) => events.emit('storage', fault),
  });
  // Every caller of the store (API, dispatcher, retention, operational events) reports into it.
  const store = trackedStore(ownStore, storage);
  // SQLite: this process is the only dispatcher of its data directory, so leftover leases are a
  // crashed predecessor's. Redeliver them now rather than after the lease (at-least-once).
  if (!options.store) await store.releaseAllLeases(now());
  const allowPrivateTargets = options.allowPrivateTargets ?? false;
  const cipherPolicy = options.cipherPolicy ?? DEFAULT_CIPHER_POLICY;
  const signingKeys = options.signingKeys ?? [];
  const metrics = createMetrics(
    store,
    now,
    () => dispatcher.stats(),
    () => storage.current?.code,
  );
  const dispatch = dispatchOptions(options);

  const client: DeliveryClient = createDeliveryClient({
    identity: () => {
      const id = options.identity();
      return id ? { certPem: id.certPem, keyPem: id.keyPem, chainPem: id.chainPem } : undefined;
    },
    cipherPolicy,
    allowPrivateTargets,
    ...(options.egressAddress ? { egressAddress: options.egressAddress } : {}),
    // The dispatcher's limits are per endpoint; a pool limit below them would queue one endpoint's
    // attempts behind another's that shares its origin (hosted receivers serve many tenants).
    connectionsPerOrigin: dispatch.concurrency,
    ...options.delivery,
    now,
  });

  // Operational webhooks: the API tells of endpoint changes, the dispatcher of what it recorded.
  const operational = createOperationalEvents({ store, now, onEnqueued: () => dispatcher.notify() });
  /** Recorded batches are told of one after another (events keep their order); close waits for them. */
  let telling: Promise<void> = Promise.resolve();

  const dispatcher = createDispatcher({
    ...dispatch,
    store,
    client,
    now,
    cipherPolicy,
    signingKeys: () => signingKeys.map((k) => k.secret),
    onOutcome: ({ outcome, delivery, final }) => {
      metrics.observe(outcome);
      logOutcome(logger, delivery, outcome, final);
    },
    onRecorded: (outcomes) => {
      events.emit('recorded', outcomes);
      telling = telling
        .then(() => operational.recorded(outcomes))
        .catch((err) =>
          err instanceof StorageFault
            ? logger.warn({ code: err.code }, 'operational events not queued')
            : logger.error({ err }, 'operational events not queued'),
        );
    },
    // Storage faults are told by storage health, once; the dispatcher retries by itself.
    onError: (err) => {
      if (!(err instanceof StorageFault)) logger.error({ err }, 'dispatcher error');
    },
    onCircuit: (endpointId, state) => {
      metrics.circuit(state);
      logger.info({ endpointId, state }, 'endpoint circuit');
    },
  });

  // Keyed by the certificates themselves: identity() may hand out a fresh object on every call.
  let trustCache: { key: string; doc: TrustDocument } | undefined;
  const trust = async (): Promise<TrustDocument | undefined> => {
    const identity = options.identity();
    if (!identity) return undefined;
    const key =
      identity.caBundlePem + identity.current.fingerprints.sha256Hex + (identity.next?.fingerprints.sha256Hex ?? '');
    if (trustCache?.key !== key) {
      trustCache = {
        key,
        doc: buildTrustDocument({
          caBundlePem: identity.caBundlePem,
          current: identity.current,
          ...(identity.next ? { next: identity.next } : {}),
          egressCidrs,
          signingPublicKeys: signingKeys.map((k) => k.publicKey),
          cipherPolicy,
        }),
      };
    }
    return trustCache.doc;
  };

  let publicUrl = configuredUrl ?? '';
  const api = buildApi(
    {
      store,
      adminTokenHash: hashToken(options.adminToken),
      now,
      get publicUrl() {
        return publicUrl;
      },
      checkEndpointUrl: (url, o) => assertTargetAllowed(url, { allowPrivateTargets, allowHttp: o.allowHttp }),
      onEnqueued: () => dispatcher.notify(),
      onWithdrawn: (rows) => dispatcher.withdraw(rows),
      onEndpointChanged: (endpoint) => dispatcher.refresh(endpoint),
      operational,
      ed25519Available: signingKeys.length > 0,
      trust,
      check: createEndpointChecker({
        identity: options.identity,
        cipherPolicy,
        allowPrivateTargets,
        signingSecrets: () => signingKeys.map((k) => k.secret),
        now,
      }),
      metrics: () => metrics.render(),
      storageFault: () => storage.current,
      circuitOf: (endpointId) => dispatcher.circuit(endpointId),
    },
    {
      logger: logger as unknown as FastifyBaseLogger,
      ...(options.portal === false ? {} : { portal: options.portal ?? {} }),
    },
  );
  await api.listen({ port: options.port ?? 8071, host });
  const address = api.server.address();
  if (address === null || typeof address === 'string') throw new Error('server has no address');
  const url = `http://${host.includes(':') ? `[${host}]` : host}:${address.port}`;
  publicUrl ||= url;
  dispatcher.start();
  const retention = startRetentionSweep({
    store,
    now,
    intervalMs: options.retentionSweepMs ?? 60_000,
    onSwept: (count) => logger.info({ count }, 'deleted payloads past their retention'),
    onError: (err) => {
      if (!(err instanceof StorageFault)) logger.error({ err }, 'retention sweep failed');
    },
  });

  let closing: Promise<void> | undefined;
  return {
    url,
    port: address.port,
    store,
    dispatcher,
    events,
    close(o = {}) {
      closing ??= (async () => {
        await api.close();
        await retention.stop();
        await dispatcher.stop(o);
        await telling;
        // A delivery that outlived the deadline has already lost its lease (it will be redelivered):
        // its connection is destroyed rather than waited for, so nothing keeps the process alive.
        await client.close({ force: true });
        storage.close();
        if (!options.store) await store.close();
      })();
      return closing;
    },
  };
}
