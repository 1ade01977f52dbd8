import { createHash, X509Certificate } from 'node:crypto';
import { subscribe } from 'node:diagnostics_channel';
import type { IncomingHttpHeaders } from 'node:http';
import { isIP, type Socket } from 'node:net';
import { createSecureContext, TLSSocket } from 'node:tls';
import { Agent, type Dispatcher } from 'undici';
import { type CipherPolicy, DEFAULT_CIPHER_POLICY, nodeCipherString, TLS_VERSIONS } from './ciphers.ts';
import { classifyError, classifyStatus } from './classify.ts';
import { buildConnector, connectionContext, countRequest, handshakeFactsOf } from './connector.ts';
import { createDeadlineSweep, type Deadline } from './deadlines.ts';
import { DeliveryError, invalidOption } from './errors.ts';
import { isConnectionHeader } from './headers.ts';
import { parseRetryAfter } from './retry.ts';
import { parseEndpointUrl } from './ssrf.ts';
import type {
  AttemptOutcome,
  ClientIdentity,
  DeliveryClient,
  DeliveryClientOptions,
  DeliveryRequest,
  TlsFacts,
} from './types.ts';

/** Timeouts by phase: docs/delivery.md says why each default. */
const DEFAULTS = {
  dnsTimeoutMs: 5_000,
  connectTimeoutMs: 5_000,
  tlsTimeoutMs: 5_000,
  headersTimeoutMs: 15_000,
  totalTimeoutMs: 30_000,
  maxResponseBytes: 16_384,
  connectionsPerOrigin: 16,
};
const USER_AGENT = 'Hookwarden-Webhooks/0.1';
/** Pools (identity × trusted CA × cipher policy) kept open; a rotation leaves the old one to age out. */
const MAX_POOLS = 256;

/**
 * One attempt to deliver one signed request to one endpoint. Connection pools are kept per client
 * identity, trusted CA and cipher policy (undici pools them per origin below that), so connections
 * and TLS sessions are reused only where every security parameter is the same.
 */
export function createDeliveryClient(options: DeliveryClientOptions): DeliveryClient {
  const opts = validate(options);
  const agents = new Map<string, Agent>();
  /** The pool used last, by the parts of its key: most attempts use the same pool as the one before. */
  let newest: { identity: string; policy: string; ca: string; agent: Agent } | undefined;
  let closed = false;
  // The total timeout: one shared timer for every attempt in flight (see deadlines.ts).
  const timeouts = createDeadlineSweep<Attempt>(opts.totalTimeoutMs, (a) =>
    a.fail(new DeliveryError('HW_DELIVERY_TIMEOUT', `no complete answer within ${opts.totalTimeoutMs} ms`)),
  );

  function agentFor(identity: ClientIdentity | undefined, serverCaPem: string | undefined, policy: CipherPolicy) {
    // Short digests, each memoised on the PEM string or policy object: building the key from the
    // PEMs themselves made every lookup hash ~2 KB (~24 µs per request, profiled in bench/dispatch.ts).
    const idKey = identityKey(identity);
    const polKey = policyKey(policy);
    const ca = caKey(serverCaPem);
    // The memoised digests are the same string objects each time, so these compare as pointers;
    // joining them into a key and hashing it cost ~1.3 µs per attempt (profiled).
    if (newest !== undefined && newest.identity === idKey && newest.policy === polKey && newest.ca === ca) {
      return newest.agent;
    }
    const key = `${idKey}|${polKey}|${ca}`;
    let agent = agents.get(key);
    if (agent) {
      // Most recently used last: the oldest pools go first when there are too many.
      agents.delete(key);
      agents.set(key, agent);
    } else {
      if (agents.size >= MAX_POOLS) {
        const [oldestKey, oldest] = agents.entries().next().value as [string, Agent];
        agents.delete(oldestKey);
        // Graceful: requests already dispatched on it finish first.
        void oldest.close().catch(() => {});
      }
      const secureContext = createSecureContext({
        ...(identity ? { cert: identity.chainPem || identity.certPem, key: identity.keyPem } : {}),
        ...(serverCaPem ? { ca: serverCaPem } : {}),
        minVersion: policy.minVersion,
        maxVersion: policy.maxVersion,
        ciphers: nodeCipherString(policy),
      });
      agent = new Agent({
        connect: buildConnector({
          secureContext,
          identityKeyType: identity
            ? (new X509Certificate(identity.certPem).publicKey.asymmetricKeyType ?? 'unknown')
            : undefined,
          allowPrivateTargets: opts.allowPrivateTargets,
          egressAddress: opts.egressAddress,
          timeouts: { dnsMs: opts.dnsTimeoutMs, connectMs: opts.connectTimeoutMs, tlsMs: opts.tlsTimeoutMs },
          lookup: opts.lookup,
        }) as never,
        connections: opts.connectionsPerOrigin,
        pipelining: 1,
        headersTimeout: opts.headersTimeoutMs,
        bodyTimeout: opts.totalTimeoutMs,
      });
      agents.set(key, agent);
    }
    newest = { identity: idKey, policy: polKey, ca, agent };
    return agent;
  }

  const elapsed = (start: number) => Math.max(0, opts.now() - start);

  async function deliver(req: DeliveryRequest): Promise<AttemptOutcome> {
    // A malformed request is the caller's bug, not the receiver's failure: reject, naming the field.
    checkRequest(req);
    const start = opts.now();
    let identity: ClientIdentity | undefined;
    if (closed) return failed(new DeliveryError('HW_DELIVERY_CLOSED', 'the delivery client is closed'), elapsed(start));
    let url: URL;
    try {
      url = parsedUrl(req.url, req.allowHttp === true);
    } catch (err) {
      return failed(err, elapsed(start));
    }
    const https = url.protocol === 'https:';
    let policy = opts.cipherPolicy;
    if (req.tls?.cipherPolicy) {
      try {
        policy = validatePolicy(req.tls.cipherPolicy, 'tls.cipherPolicy');
      } catch (err) {
        return failed(err, elapsed(start));
      }
    }
    let agent: Agent;
    try {
      identity = https ? (req.tls?.clientIdentity ?? opts.identity()) : undefined;
      agent = agentFor(identity, https ? req.tls?.serverCaPem : undefined, policy);
    } catch (err) {
      // Our side is broken (unreadable identity, bad PEM): nothing was sent. OpenSSL's message names
      // the problem, never the key material.
      return {
        ok: false,
        durationMs: elapsed(start),
        responseExcerpt: '',
        failure: {
          kind: 'tls_other',
          message: `our client identity or TLS settings are unusable (${(err as Error)?.message ?? err})`,
        },
      };
    }

    const body = Buffer.from(req.body, 'utf8');
    const seen: { socket?: Socket } = {};
    pendingBodies.set(body, seen);
    const headers: Record<string, string> = { 'user-agent': USER_AGENT, 'content-type': 'application/json' };
    for (const name in req.headers) headers[name.toLowerCase()] = req.headers[name] as string;
    const answer = await new Promise<Answer | { error: unknown }>((resolve) => {
      const attempt = new Attempt(opts.maxResponseBytes, resolve);
      attempt.deadline = timeouts.add(attempt);
      try {
        agent.dispatch(
          { origin: url.origin, path: `${url.pathname}${url.search}`, method: 'POST', headers, body },
          attempt,
        );
      } catch (err) {
        attempt.fail(err);
      }
    });
    pendingBodies.delete(body);
    if ('error' in answer) {
      return failed(
        explained(answer.error, opts.headersTimeoutMs),
        elapsed(start),
        seen.socket,
        identity !== undefined,
      );
    }
    const { statusCode, text } = answer;
    const outcome: AttemptOutcome = {
      ok: statusCode >= 200 && statusCode < 300,
      statusCode,
      durationMs: elapsed(start),
      responseExcerpt: text,
    };
    if (answer.truncated) outcome.responseTruncated = true;
    const retryAfterMs = parseRetryAfter(answer.headers['retry-after'], opts.now());
    if (retryAfterMs !== undefined) outcome.retryAfterMs = retryAfterMs;
    const location = answer.headers.location;
    const failure = classifyStatus(statusCode, text, Array.isArray(location) ? location[0] : location);
    if (failure) outcome.failure = failure;
    const tls = seen.socket ? tlsFactsOf(seen.socket, identity !== undefined) : undefined;
    if (tls) outcome.tls = tls;
    return outcome;
  }

  return {
    deliver,
    async close(o = {}) {
      closed = true;
      const all = [...agents.values()];
      agents.clear();
      newest = undefined;
      // force: requests still in flight fail at once (their sockets are destroyed) instead of
      // holding the close up to their own timeout; a graceful close runs them to the end.
      await Promise.all(all.map((a) => (o.force ? a.destroy() : a.close())));
    },
  };
}

/** undici reports a headers timeout without its length: said here, as the connection phases say theirs. */
function explained(err: unknown, headersTimeoutMs: number): unknown {
  if ((err as { code?: unknown } | null)?.code !== 'UND_ERR_HEADERS_TIMEOUT') return err;
  return new DeliveryError(
    'HW_DELIVERY_HEADERS_TIMEOUT',
    `no complete response headers within ${headersTimeoutMs} ms`,
    {
      cause: err,
    },
  );
}

/** A failed attempt: the error classified, with the connection's TLS facts when it got that far. */
function failed(err: unknown, durationMs: number, socket?: Socket, identityConfigured = false): AttemptOutcome {
  const tls = socket ? tlsFactsOf(socket, identityConfigured) : undefined;
  const outcome: AttemptOutcome = {
    ok: false,
    durationMs,
    responseExcerpt: '',
    failure: classifyError(err, socket ? connectionContext(socket) : {}),
  };
  if (tls) outcome.tls = tls;
  return outcome;
}

/**
 * undici does not say which connection served a request; its diagnostics channel does, naming the
 * request by the body buffer we handed it (one fresh buffer per attempt).
 */
const pendingBodies = new WeakMap<object, { socket?: Socket }>();
subscribe('undici:client:sendHeaders', (message) => {
  const { request, socket } = message as { request?: { body?: unknown }; socket?: Socket };
  const body = request?.body;
  if (body && typeof body === 'object') {
    const seen = pendingBodies.get(body);
    if (seen && socket) {
      seen.socket = socket;
      countRequest(socket);
    }
  }
});

/**
 * A connection's TLS facts never change once its handshake is done: computed once per socket and
 * shared (read-only) by every attempt it carries, instead of a fresh object and four lookups per
 * request. Keyed by whether an identity was configured, which is fixed per pool and so per socket.
 */
const connectionFacts = new WeakMap<Socket, Readonly<TlsFacts>>();

function tlsFactsOf(socket: Socket, identityConfigured: boolean): TlsFacts | undefined {
  const cached = connectionFacts.get(socket);
  if (cached) return cached;
  if (!(socket instanceof TLSSocket)) return undefined;
  const cipher = socket.getCipher();
  const facts: TlsFacts = {
    protocol: socket.getProtocol() ?? 'unknown',
    cipher: cipher?.standardName ?? cipher?.name ?? 'unknown',
    clientCertificateSent: false,
  };
  const fingerprint = socket.getPeerX509Certificate()?.fingerprint256;
  if (fingerprint) facts.peerFingerprintSha256 = fingerprint;
  const hs = handshakeFactsOf(socket);
  if (hs?.certificateRequested !== undefined) facts.clientCertificateRequested = hs.certificateRequested;
  facts.clientCertificateSent = identityConfigured && hs?.clientCertificateSent === true;
  // Only a finished handshake's facts are final (the connector records them at secureConnect).
  if (facts.protocol !== 'unknown' && hs) connectionFacts.set(socket, Object.freeze(facts));
  return facts;
}

/** Reason given to undici when the excerpt is full; never reported, as the attempt has its answer. */
const CUT_SHORT = new DeliveryError('HW_DELIVERY_EXCERPT_FULL', 'the answer excerpt is full; the rest is not read');

interface Answer {
  statusCode: number;
  headers: IncomingHttpHeaders;
  text: string;
  truncated: boolean;
}

/**
 * One request as an undici dispatch handler: the status, headers and at most `limit` bytes of the
 * answer go straight into this object, without the request API's promise, body stream and abort
 * signal per attempt (profiled in bench/dispatch.ts). Settles exactly once: with the answer, or with
 * the first error (the receiver's, the connection's, or the total timeout, which aborts the request).
 */
class Attempt implements Dispatcher.DispatchHandler {
  /** The total timeout's handle: settled with the attempt. */
  deadline: Deadline | undefined;
  private controller: Dispatcher.DispatchController | undefined;
  private settled = false;
  private abortWith: Error | undefined;
  private statusCode = 0;
  private headers: IncomingHttpHeaders = {};
  private chunks: Buffer[] = [];
  private size = 0;

  constructor(
    private readonly limit: number,
    private readonly resolve: (a: Answer | { error: unknown }) => void,
  ) {}

  fail(error: unknown): void {
    if (!this.settled) {
      this.settled = true;
      this.deadline?.settle();
      this.resolve({ error });
    }
    // Abort what is still running; a request not yet started is aborted as soon as it starts.
    if (!(error instanceof Error)) return;
    if (this.controller === undefined) this.abortWith = error;
    else if (!this.controller.aborted) this.controller.abort(error);
  }

  private finish(truncated: boolean): void {
    if (this.settled) return;
    this.settled = true;
    this.deadline?.settle();
    // A cut in the middle of a UTF-8 sequence becomes U+FFFD, as the excerpt is for people to read.
    const text = Buffer.concat(this.chunks, this.size).toString('utf8');
    this.resolve({ statusCode: this.statusCode, headers: this.headers, text, truncated });
  }

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    if (this.abortWith) controller.abort(this.abortWith);
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: IncomingHttpHeaders): void {
    this.statusCode = statusCode;
    this.headers = headers;
  }

  onResponseData(controller: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.settled) return;
    const room = this.limit - this.size;
    if (chunk.length > room) {
      this.chunks.push(chunk.subarray(0, room));
      this.size = this.limit;
      this.finish(true);
      // Stop reading: the rest is not needed; aborting frees the connection slot at once.
      controller.abort(CUT_SHORT);
      return;
    }
    this.chunks.push(chunk);
    this.size += chunk.length;
  }

  onResponseEnd(): void {
    this.finish(false);
  }

  onResponseError(_c: Dispatcher.DispatchController, error: Error): void {
    this.fail(error);
  }
}

// RFC 9110 §5.1 token and §5.5 field value. Checked here because undici, handed an invalid header,
// can leave the request pending until the total timeout.
const TOKEN = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
const FIELD_VALUE = /^[^\0\r\n]*$/;

function badRequest(field: string, why: string): DeliveryError {
  return new DeliveryError('HW_DELIVERY_REQUEST_INVALID', `delivery request '${field}' ${why}`);
}

/** Header names already found valid: names repeat on every attempt, their values do not. */
const validNames = new Set<string>();

/** Runs for every attempt: nothing is allocated unless something is wrong. */
function checkRequest(req: DeliveryRequest): void {
  if (req === null || typeof req !== 'object') throw badRequest('request', 'must be an object');
  if (typeof req.url !== 'string') throw badRequest('url', 'must be a string');
  if (typeof req.body !== 'string') throw badRequest('body', 'must be a string (the stored JSON)');
  if (req.headers === null || typeof req.headers !== 'object') throw badRequest('headers', 'must be an object');
  for (const name in req.headers) {
    const value: unknown = req.headers[name];
    if (!validNames.has(name)) {
      if (!TOKEN.test(name)) throw badRequest(`headers.${name.slice(0, 40)}`, 'is not a valid header name');
      if (isConnectionHeader(name)) {
        throw badRequest(`headers.${name.slice(0, 40)}`, 'is set by the client itself');
      }
      if (validNames.size >= 1024) validNames.clear();
      validNames.add(name);
    }
    if (typeof value !== 'string' || !FIELD_VALUE.test(value)) {
      throw badRequest(`headers.${name.slice(0, 40)}`, 'must be a string without CR, LF or NUL');
    }
  }
  if (req.tls !== undefined && (req.tls === null || typeof req.tls !== 'object')) {
    throw badRequest('tls', 'must be an object');
  }
  if (req.allowHttp !== undefined && typeof req.allowHttp !== 'boolean') {
    throw badRequest('allowHttp', 'must be a boolean');
  }
}

// Pool keys are computed on every attempt: cache the digests, so the steady state costs a map
// lookup (V8 caches a string's hash on the string) instead of hashing a certificate chain. Keyed by
// the PEM itself, since callers often build a fresh identity object per call.
const identityKeys = new Map<string, string>();
const caKeys = new Map<string, string>();
const policyKeys = new WeakMap<CipherPolicy, string>();

function digestOf(cache: Map<string, string>, pem: string): string {
  let key = cache.get(pem);
  if (key === undefined) {
    if (cache.size >= 1024) cache.clear();
    key = createHash('sha256').update(pem).digest('base64url');
    cache.set(pem, key);
  }
  return key;
}

function caKey(serverCaPem: string | undefined): string {
  return serverCaPem ? digestOf(caKeys, serverCaPem) : 'system';
}

/**
 * Endpoint URLs repeat on every attempt: parsed and checked once per (URL, allowHttp). Only accepted
 * URLs are kept; the URL objects are only read.
 */
const parsedUrls = new Map<string, URL>();
function parsedUrl(raw: string, allowHttp: boolean): URL {
  const key = allowHttp ? `h ${raw}` : raw;
  let url = parsedUrls.get(key);
  if (url === undefined) {
    url = parseEndpointUrl(raw, allowHttp);
    if (parsedUrls.size >= 1024) parsedUrls.clear();
    parsedUrls.set(key, url);
  }
  return url;
}

function identityKey(identity: ClientIdentity | undefined): string {
  if (!identity) return 'none';
  return digestOf(identityKeys, identity.chainPem || identity.certPem);
}

function policyKey(policy: CipherPolicy): string {
  let key = policyKeys.get(policy);
  if (key === undefined) {
    key = createHash('sha256').update(JSON.stringify(policy)).digest('base64url');
    policyKeys.set(policy, key);
  }
  return key;
}

type Resolved = Required<Omit<DeliveryClientOptions, 'egressAddress' | 'lookup'>> &
  Pick<DeliveryClientOptions, 'egressAddress' | 'lookup'>;

function validate(o: DeliveryClientOptions): Resolved {
  if (o === null || typeof o !== 'object') throw invalidOption('options', 'must be an object');
  if (typeof o.identity !== 'function') throw invalidOption('identity', 'must be a function returning the identity');
  const positive = (field: keyof typeof DEFAULTS, min = 1) => {
    const v = o[field] ?? DEFAULTS[field];
    if (!Number.isInteger(v) || v < min) throw invalidOption(field, `must be an integer ≥ ${min}`);
    return v;
  };
  if (o.egressAddress !== undefined && isIP(o.egressAddress) === 0)
    throw invalidOption('egressAddress', 'must be an IP address');
  if (o.lookup !== undefined && typeof o.lookup !== 'function') throw invalidOption('lookup', 'must be a function');
  if (o.now !== undefined && typeof o.now !== 'function') throw invalidOption('now', 'must be a function');
  if (o.allowPrivateTargets !== undefined && typeof o.allowPrivateTargets !== 'boolean')
    throw invalidOption('allowPrivateTargets', 'must be a boolean');
  return {
    identity: o.identity,
    cipherPolicy: validatePolicy(o.cipherPolicy ?? DEFAULT_CIPHER_POLICY, 'cipherPolicy'),
    allowPrivateTargets: o.allowPrivateTargets ?? false,
    egressAddress: o.egressAddress,
    dnsTimeoutMs: positive('dnsTimeoutMs'),
    connectTimeoutMs: positive('connectTimeoutMs'),
    tlsTimeoutMs: positive('tlsTimeoutMs'),
    headersTimeoutMs: positive('headersTimeoutMs'),
    totalTimeoutMs: positive('totalTimeoutMs'),
    maxResponseBytes: positive('maxResponseBytes', 0),
    connectionsPerOrigin: positive('connectionsPerOrigin'),
    lookup: o.lookup,
    now: o.now ?? Date.now,
  };
}

const checkedPolicies = new WeakSet<CipherPolicy>();

function validatePolicy(p: CipherPolicy, field: string): CipherPolicy {
  if (checkedPolicies.has(p)) return p;
  if (p === null || typeof p !== 'object') throw invalidOption(field, 'must be an object');
  const min = TLS_VERSIONS.indexOf(p.minVersion);
  const max = TLS_VERSIONS.indexOf(p.maxVersion);
  if (min < 0) throw invalidOption(`${field}.minVersion`, `must be one of ${TLS_VERSIONS.join(', ')}`);
  if (max < 0) throw invalidOption(`${field}.maxVersion`, `must be one of ${TLS_VERSIONS.join(', ')}`);
  if (min > max) throw invalidOption(`${field}.minVersion`, 'must not be above maxVersion');
  if (!Array.isArray(p.ciphers) || !Array.isArray(p.tls13Suites))
    throw invalidOption(`${field}.ciphers`, 'and tls13Suites must be arrays of suite names');
  if (p.ciphers.length + p.tls13Suites.length === 0) throw invalidOption(`${field}.ciphers`, 'must name a suite');
  try {
    createSecureContext({ ciphers: nodeCipherString(p), minVersion: p.minVersion, maxVersion: p.maxVersion });
  } catch (err) {
    throw invalidOption(`${field}.ciphers`, `is not accepted by OpenSSL: ${(err as Error).message}`);
  }
  checkedPolicies.add(p);
  return p;
}
