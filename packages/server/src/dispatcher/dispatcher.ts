import { randomBytes } from 'node:crypto';
import { createSigner, type Signer } from '@hookwarden/verify/signature';
import { type CipherPolicy, DEFAULT_CIPHER_POLICY } from '../delivery/ciphers.ts';
import { createDeadlineSweep, type Deadline } from '../delivery/deadlines.ts';
import { nextAttemptDelay } from '../delivery/retry.ts';
import { hmacSignerAt } from '../delivery/signing.ts';
import type { AttemptOutcome, ClientIdentity, DeliveryClient, DeliveryRequest, TlsFacts } from '../delivery/types.ts';
import { invalidOption } from '../errors.ts';
import { newId } from '../ids.ts';
import type { AttemptTls, ClaimedDelivery, EndpointRow, Outcome, Store } from '../store/types.ts';
import { Status } from '../store/types.ts';
import { createRateLimiter } from './rate-limit.ts';

/*
 * Cost model (bench/dispatch.ts with --cpu-prof, 2-core machine shared with other work, Node 20):
 * - Before: SQLite on the main thread cost ~20 µs per delivery (claim ~8 µs, recording ~12 µs:
 *   attempt row + delivery row, group-committed), about a third of the main thread; the delivery
 *   client added ~12 µs over a raw undici request (~35 µs each, client and receiver in one process).
 *   Dispatcher 0.37–0.44 of the raw loop.
 * - Now the store runs on its own thread (store/sqlite/worker.ts): the main thread only clones a
 *   claim (64 rows) and a batch of outcomes per round trip. A freed slot takes the next ready row at
 *   once instead of waiting for the loop, which may be awaiting a claim. Dispatcher ~0.5 of raw.
 * - Second pass: the delivery deadline here and the client's total timeout each run from one shared
 *   timer (delivery/deadlines.ts) instead of a timer, closure and Promise.race per attempt; the
 *   client sends through an undici dispatch handler (no request promise, body stream or
 *   AbortController per attempt); a finished delivery wakes the loop only when a claim is due.
 *   Delivery client 0.72 -> ~0.85 of raw; dispatcher ~0.52 -> 0.54-0.58 (noisy shared machine).
 * - Third pass: the deadline sweeps became linked lists (a Map's add/delete churn per attempt made
 *   young objects survive into the old generation: scavenges 2.4 ms instead of 0.8 ms); a delivery
 *   became a Flight object instead of an async function, promises, closures and a Set; signers
 *   decode an endpoint's secrets once; claims and outcomes cross to the store thread as flat arrays
 *   (store/sqlite/wire.ts); the store binds its per-delivery statements positionally (recording
 *   ~10.7 -> ~7.2 µs per row on its thread); WAL checkpoints moved off the store thread
 *   (store/sqlite/checkpointer.ts: claims had waited behind them, p90 2.5-3 -> 1.6-2 ms). Delivery
 *   client ~0.95 of raw; dispatcher 0.55 -> 0.72-0.74 with the 20,000-row backlog.
 * - Where the rest goes: the bench also runs this dispatcher against a store stand-in that answers
 *   claims from memory and drops outcomes: ~0.84 of raw. Within a round (perf sched) the main
 *   thread with SQLite sleeps 4-8% of the time, mostly waiting for a claim (p90 ~2 ms, p99 ~4-7 ms
 *   while ~16 slots free per claim), and each delivery costs it a little more: the messages to the
 *   store thread, and that thread's own work beside it (a SQLite thread at ~35% duty slowed the
 *   memory-fed dispatcher by 5-9%). The store thread costs ~14 µs per delivery (claim ~6.5,
 *   record ~7.2). Measured and dropped: claiming earlier or in bigger batches, a deeper read-ahead
 *   (gains vanished once checkpoints moved; it would also let one slow endpoint fill it), the store
 *   thread claiming each worker's next batch ahead (claim p50 0.6 -> 0.27 ms, p90 1.6 -> 1.1 ms,
 *   and no more deliveries per second: the waits are not what is left), later and bigger outcome
 *   flushes, partial indexes, SQLite cache/mmap pragmas, exclusive locking.
 * - Fourth pass: the HMAC (~2 µs a delivery, half of this file's own cost per delivery with a
 *   client that answers at once) moved to the SQLite store's thread, which signs each claimed row
 *   for the claim's second (delivery/signing.ts, `presign`); a row started in a later second, or
 *   after one of its secrets expired, is signed here afresh. Alternating runs, with and without:
 *   +0.02 to +0.06; dispatcher 0.72-0.82 of raw (median 0.77 of 36 runs). Measured and dropped:
 *   outcomes sent with the next claim in one message (worse: claims waited behind the write),
 *   a read-ahead half a claim deeper (worse), claims of 128 rows, a larger young generation for
 *   either thread, the store thread at a lower priority (each no change), and, diagnostic only as
 *   Node cannot pin a thread, pinning the threads to cores (+0.03 at most).
 * - Fifth look (no change kept): on a busier host the main thread spends 3-6% of a SQLite round
 *   runnable but not running, preempted by the store thread it just woke (postMessage: 110-150 µs
 *   of wall time a call on average) and by V8's GC helpers; objects alive across those stalls are
 *   promoted (420-880 KB a scavenge against ~120 KB with claims from memory; pauses 2.5-4 ms
 *   against 1.6). Outcomes sent with the next claim (half the wake-ups), one promise per attempt in
 *   the client, and preallocated outcome arrays each measured within noise (6-12 alternating runs).
 * - Sixth look: the client's own time 8.9 -> 5.1 µs a delivery (pool key, header names). Per-thread
 *   CPU over a round: main 92-97% busy, store thread ~40% of a core (~55-60 µs a delivery), V8's
 *   platform threads 5-25%. No gain from a larger young generation or lower priority for the store
 *   thread, bigger claims, or checkpoints every second. Beware: a property added to Node's own
 *   objects (a Buffer) slowed the raw loop in the same process by ~20%.
 * - Seventh look: part of the SQLite rounds' extra GC was the benchmark's own: the 20,000-message
 *   seed just before the clock left ~5 MB promoted a scavenge and a mark-compact in the round's
 *   first 60 ms (--trace-gc-nvp); every round now starts from a collected heap. Left in a round:
 *   scavenges ~2 ms promoting ~500 KB against ~1.5 ms and ~120 KB with claims from memory; main
 *   thread CPU per delivery (schedstat) raw 104-120 µs, memory-fed ~1.06-1.12x, SQLite ~1.15-1.2x,
 *   plus 6-10% of a round runnable but preempted (raw 0-3%). By file (CPU profile, µs a delivery
 *   over raw): client +4, this file +5.6, postMessage and the worker port +4.6, GC +3.5.
 *   Outcomes now flush at 256 or after 50 ms instead of 128 or 5 ms (a fifth of the wake-ups of
 *   the store thread under load). Alternating runs, per-round median ratio: 5 ms vs 20 ms, six
 *   pairs, mean 0.73 vs 0.81; 20/128 vs 50/256, five pairs, 0.76 vs 0.86 (four better, one even);
 *   50/256 vs 100/512, three pairs, within noise.
 * - Eighth look (no change kept), per thread from /proc over a round: main thread 106-146 µs a
 *   delivery against the raw loop's 84-105 in the same process, store thread 31-52, V8's GC helpers
 *   5-10 more than raw's. On the store thread: claim 15-17 µs a row, presign 4-5, record 11, posting
 *   replies 1-3. Its SQL measured alone on one thread, checkpoints off, 20,000 rows: claim UPDATE
 *   ~4, message read ~3.3, both commits ~3.2, delivery UPDATE ~2.5, attempt INSERT ~4 (dropping
 *   deliveries_due saved ~1.3 in all). With no core to spare the ratio tends to raw ÷ dispatcher CPU
 *   (0.58-0.69 in twelve runs); 0.8 would need everything past the raw request under ~25 µs.
 */

export interface DispatcherOptions {
  store: Store;
  client: Pick<DeliveryClient, 'deliver'>;
  now?: () => number;
  /** Deliveries in flight at once, over all endpoints. */
  concurrency?: number;
  /** In flight at once to one endpoint: below `concurrency`, so a slow endpoint never takes every slot. */
  perEndpointConcurrency?: number;
  /** Rows claimed per round trip to the store. */
  batchSize?: number;
  /**
   * Longer than twice the delivery client's total timeout: a row may wait behind one round of slow
   * deliveries to its endpoint (read-ahead) and then take a full timeout itself.
   */
  leaseMs?: number;
  /**
   * Upper bound on one delivery, whatever the client does: past it the attempt counts as a timeout
   * and the slot is freed. Must stay below `leaseMs`, so a row is never redelivered while in flight.
   */
  deliveryDeadlineMs?: number;
  /** Fallback wake-up when no signal comes (another process enqueued, clock-driven retries). */
  pollMs?: number;
  retryScheduleMs?: readonly number[];
  jitter?: number;
  /** An endpoint failing without a single success for this long is disabled. */
  disableAfterMs?: number;
  /**
   * Outcomes are written together: at most this many, or after this long (and at once when nothing
   * is left in flight). Fewer, larger writes mean fewer wake-ups of the store's thread, each of
   * which could preempt this one on a small machine; a kill loses at most one batch of outcomes,
   * whose rows are delivered again (at least once).
   */
  flushSize?: number;
  flushMs?: number;
  /** The platform's Ed25519 signing secrets (`whsk_`), for endpoints that use v1a. */
  signingKeys?: () => string[];
  /** The server's TLS policy, under an endpoint's `tlsPolicy` overrides. */
  cipherPolicy?: CipherPolicy;
  onOutcome?: (o: { outcome: AttemptOutcome; delivery: ClaimedDelivery; final: boolean }) => void;
  /** After each group commit: these outcomes are durable. */
  onRecorded?: (outcomes: Outcome[]) => void;
  onError?: (err: unknown) => void;
  workerId?: string;
}

/** Which waiting rows to drop: those of this endpoint, message or application. */
export type Withdrawn = { endpointId: string } | { msgId: string } | { appId: string };

export interface Dispatcher {
  start(): void;
  /** New rows were enqueued: claim now instead of at the next poll. */
  notify(): void;
  /**
   * Claimed rows waiting to start that must not start any more: their endpoint was deleted or
   * disabled, their message expunged, their application deleted. They keep their leases; claimed
   * again afterwards, the store ends or no longer has them.
   */
  withdraw(rows: Withdrawn): void;
  /**
   * An endpoint was changed: its claimed rows waiting to start go out as it now is (URL, secrets,
   * headers, TLS settings), signed afresh; if it is now disabled they are withdrawn.
   */
  refresh(endpoint: EndpointRow): void;
  /** Stop claiming, wait for in-flight deliveries up to `deadlineMs`, write outcomes, release leases. */
  stop(opts?: { deadlineMs?: number }): Promise<void>;
  readonly inFlight: number;
  /** Rows claimed and waiting to start (read-ahead, rate limits). */
  readonly waiting: number;
}

const DAY = 86_400_000;
/** Slack between a row's latest start and its lease end beyond the delivery deadline (at most). */
const START_MARGIN_MS = 1_000;

function positive(name: string, v: number | undefined, fallback: number): number {
  const value = v ?? fallback;
  if (!Number.isFinite(value) || value <= 0) throw invalidOption(name, 'must be a positive number');
  return value;
}

/**
 * The recorded TLS facts of an attempt. The client shares one frozen facts object per connection, so
 * the record is built once per connection too (and a batch of outcomes sent to the store thread
 * carries it once), instead of a fresh object per delivery.
 */
const attemptTlsRecords = new WeakMap<TlsFacts, AttemptTls>();
function attemptTlsOf(t: TlsFacts): AttemptTls {
  let record = attemptTlsRecords.get(t);
  if (record === undefined) {
    record = Object.freeze({
      protocol: t.protocol,
      cipher: t.cipher,
      clientCertificateSent: t.clientCertificateSent,
      ...(t.peerFingerprintSha256 ? { peerFingerprintSha256: t.peerFingerprintSha256 } : {}),
    });
    attemptTlsRecords.set(t, record);
  }
  return record;
}

/**
 * One delivery in flight. A class rather than closures: its methods exist once, where a closure per
 * delivery cost an allocation and, under tsx, a name assignment each (profiled).
 */
class Flight {
  settled = false;
  deadline: Deadline | undefined;
  constructor(
    readonly delivery: ClaimedDelivery,
    readonly started: number,
    private readonly done: (f: Flight, outcome: AttemptOutcome) => void,
  ) {}

  /** The first outcome counts; a later one (the client after the deadline, or the reverse) is ignored. */
  settle(outcome: AttemptOutcome): void {
    if (this.settled) return;
    this.settled = true;
    this.deadline?.settle();
    this.done(this, outcome);
  }
}

export function createDispatcher(opts: DispatcherOptions): Dispatcher {
  const store = opts.store;
  const now = opts.now ?? Date.now;
  const concurrency = positive('concurrency', opts.concurrency, 64);
  const perEndpoint = positive('perEndpointConcurrency', opts.perEndpointConcurrency, Math.max(1, concurrency / 2));
  const batchSize = positive('batchSize', opts.batchSize, 64);
  /** Rows that may wait for rate limits beyond the read-ahead: a bound on memory. */
  const maxRateWaiting = 4 * concurrency;
  const leaseMs = positive('leaseMs', opts.leaseMs, 120_000);
  const pollMs = positive('pollMs', opts.pollMs, 1_000);
  const deliveryDeadlineMs = positive('deliveryDeadlineMs', opts.deliveryDeadlineMs, 45_000);
  const disableAfterMs = positive('disableAfterMs', opts.disableAfterMs, 5 * DAY);
  const flushSize = positive('flushSize', opts.flushSize, 256);
  const flushMs = positive('flushMs', opts.flushMs, 50);
  const workerId = opts.workerId ?? `dispatcher-${randomBytes(6).toString('hex')}`;
  if (perEndpoint > concurrency) throw invalidOption('perEndpointConcurrency', 'must not exceed concurrency');
  if (deliveryDeadlineMs * 2 >= leaseMs) {
    throw invalidOption(
      'leaseMs',
      'must exceed twice deliveryDeadlineMs (a row may wait one round behind its endpoint)',
    );
  }
  // How long a claimed row may wait to start: its lease less the delivery deadline, less a margin
  // (positive, since leaseMs > 2 x deliveryDeadlineMs).
  const startWithinMs = leaseMs - deliveryDeadlineMs - Math.min(START_MARGIN_MS, (leaseMs - deliveryDeadlineMs) / 4);
  const schedule = opts.retryScheduleMs;
  if (schedule !== undefined && (schedule.length === 0 || schedule.some((ms) => !Number.isFinite(ms) || ms < 0))) {
    throw invalidOption('retryScheduleMs', 'must list one or more non-negative delays in milliseconds');
  }
  if (opts.jitter !== undefined && !(opts.jitter >= 0 && opts.jitter < 1)) {
    throw invalidOption('jitter', 'must be in [0, 1)');
  }

  let running = false;
  let stopped = false;
  let loopDone: Promise<void> = Promise.resolve();
  let wake: (() => void) | undefined;
  let woken = false;
  const perEndpointInFlight = new Map<string, number>();
  /** Deliveries in flight, and who waits for there to be none (stop). */
  let active = 0;
  const drained: (() => void)[] = [];
  let pending: Outcome[] = [];
  let flushTimer: NodeJS.Timeout | undefined;
  let flushing: Promise<void> = Promise.resolve();

  function signal(): void {
    woken = true;
    wake?.();
  }

  function flush(): Promise<void> {
    if (flushTimer) {
      clearTimeout(flushTimer);
      flushTimer = undefined;
    }
    if (pending.length === 0) return flushing;
    const batch = pending;
    pending = [];
    // One write transaction for the whole batch (group commit); chained so writes stay in order.
    flushing = flushing
      .then(() => store.recordOutcomes(batch, now()))
      .then(() => {
        opts.onRecorded?.(batch);
        // Retries were just scheduled: let the loop recompute when it next has work.
        signal();
      })
      .catch((err) => opts.onError?.(err));
    return flushing;
  }

  function record(o: Outcome): void {
    // After stop() the leases are released: a late result would race the next dispatcher's claim.
    if (stopped) return;
    pending.push(o);
    if (pending.length >= flushSize) void flush();
    else flushTimer ??= setTimeout(() => void flush(), flushMs);
  }

  /**
   * An endpoint's TLS settings, built once per claimed endpoint row (rows of one claim share it)
   * instead of per attempt: the client memoises pools and validated policies on these objects.
   */
  const tlsSettings = new WeakMap<ClaimedDelivery['endpoint'], DeliveryRequest['tls']>();
  function tlsSettingsOf(e: ClaimedDelivery['endpoint']): DeliveryRequest['tls'] {
    let tls = tlsSettings.get(e);
    if (tls === undefined) {
      const identity: ClientIdentity | undefined =
        e.clientCertPem && e.clientKeyPem
          ? { certPem: e.clientCertPem, keyPem: e.clientKeyPem, chainPem: e.clientCertPem }
          : undefined;
      tls = {
        ...(e.serverCaPem ? { serverCaPem: e.serverCaPem } : {}),
        ...(identity ? { clientIdentity: identity } : {}),
        ...(e.tlsPolicy ? { cipherPolicy: { ...(opts.cipherPolicy ?? DEFAULT_CIPHER_POLICY), ...e.tlsPolicy } } : {}),
      };
      tlsSettings.set(e, tls);
    }
    return tls;
  }

  /**
   * Signers with their secrets decoded once: per endpoint row (rows of one claim share it) until its
   * earliest secret expires, and one for the platform's Ed25519 keys until they change.
   */
  const hmacSigners = new WeakMap<ClaimedDelivery['endpoint'], { until: number; sign: Signer }>();
  let ed25519Signer: { keys: string; sign: Signer } | undefined;
  function signerFor(e: ClaimedDelivery['endpoint'], at: number): Signer {
    if (e.signing === 'ed25519') {
      const keys = opts.signingKeys?.() ?? [];
      if (keys.length === 0) throw new Error(`endpoint ${e.id} has no signing key`);
      const joined = keys.join(' ');
      if (ed25519Signer?.keys !== joined) ed25519Signer = { keys: joined, sign: createSigner(keys) };
      return ed25519Signer.sign;
    }
    let signer = hmacSigners.get(e);
    if (signer === undefined || at >= signer.until) {
      signer = hmacSignerAt(e, at);
      hmacSigners.set(e, signer);
    }
    return signer.sign;
  }

  // One timer for every in-flight delivery instead of a timer, a closure and a Promise.race each.
  const deadlines = createDeadlineSweep<Flight>(deliveryDeadlineMs, (f) =>
    f.settle({
      ok: false,
      durationMs: now() - f.started,
      responseExcerpt: '',
      failure: { kind: 'timeout', message: `no outcome within ${deliveryDeadlineMs} ms` },
    }),
  );

  /** The attempt as the client saw it, or a failure of our own before anything was sent. */
  function failedBeforeSending(err: unknown, started: number): AttemptOutcome {
    opts.onError?.(err);
    return {
      ok: false,
      durationMs: now() - started,
      responseExcerpt: '',
      failure: { kind: 'tls_other', message: (err as Error)?.message ?? String(err) },
    };
  }

  function landed(f: Flight, outcome: AttemptOutcome): void {
    try {
      complete(f.delivery, outcome);
    } catch (err) {
      opts.onError?.(err);
    }
    release(f.delivery.endpoint.id);
  }

  /** Starts one delivery; whichever comes first settles it, the client's answer or the deadline sweep. */
  function launch(d: ClaimedDelivery): void {
    const e = d.endpoint;
    perEndpointInFlight.set(e.id, (perEndpointInFlight.get(e.id) ?? 0) + 1);
    active++;
    const f = new Flight(d, now(), landed);
    f.deadline = deadlines.add(f);
    let sent: Promise<AttemptOutcome>;
    try {
      const timestamp = Math.floor(f.started / 1000);
      // Signed ahead by the store's thread when that holds for this instant (delivery/signing.ts).
      const p = d.presigned;
      const signature =
        p !== undefined && p.timestamp === timestamp && f.started < p.until
          ? p.value
          : signerFor(e, f.started)(d.message.id, timestamp, d.message.payload);
      sent = opts.client.deliver({
        url: e.url,
        headers: {
          ...e.headers,
          'content-type': 'application/json',
          'webhook-id': d.message.id,
          'webhook-timestamp': String(timestamp),
          'webhook-signature': signature,
        },
        body: d.message.payload,
        tls: tlsSettingsOf(e),
        allowHttp: e.allowHttp,
      });
    } catch (err) {
      f.settle(failedBeforeSending(err, f.started));
      return;
    }
    sent.then(
      (o) => f.settle(o),
      (err) => f.settle(failedBeforeSending(err, f.started)),
    );
  }

  /** A slot is free again. */
  function release(ep: string): void {
    const left = (perEndpointInFlight.get(ep) ?? 1) - 1;
    if (left === 0) perEndpointInFlight.delete(ep);
    else perEndpointInFlight.set(ep, left);
    active--;
    if (active === 0) {
      for (const resolve of drained.splice(0)) resolve();
      // Nothing in flight can join the batch any more: write it now, not after flushMs.
      if (pending.length > 0) void flush();
    }
    // The freed slot takes the next ready row now, not when the loop next runs: the loop may be
    // waiting for a claim (a round trip to the store thread), and the slot would idle meanwhile.
    if (running) launchReady();
    // Wake the loop only when it has work: a claim to make, or nothing left in flight. Waking it
    // for every finished delivery cost a loop turn, a promise and a timer each (profiled).
    if (active === 0 || wantsClaim()) signal();
  }

  /** Endpoints this dispatcher disabled, and when. */
  const disabledHere = new Map<string, number>();

  function withdraw(w: Withdrawn): void {
    for (let i = ready.length - 1; i >= 0; i--) {
      const d = ready[i] as ClaimedDelivery;
      const match =
        'endpointId' in w
          ? d.endpoint.id === w.endpointId
          : 'msgId' in w
            ? d.message.id === w.msgId
            : d.message.appId === w.appId;
      if (match) unready(i, d.endpoint.id);
    }
  }

  function refresh(e: EndpointRow): void {
    if (e.disabled) {
      withdraw({ endpointId: e.id });
      return;
    }
    for (const d of ready) {
      if (d.endpoint.id !== e.id) continue;
      // The claim's limit was the endpoint's own, else its application's: an own limit now set
      // replaces it; one now removed leaves the application's unknown here (none, until claimed again).
      if (e.rateLimit !== null) d.rateLimit = e.rateLimit;
      else if (d.endpoint.rateLimit !== null) d.rateLimit = null;
      d.endpoint = e;
      // Signed ahead with the secrets of the claim; the new ones may differ.
      d.presigned = undefined;
    }
  }

  /** The outcome decides the row's future (retry, final, endpoint disabled) and is queued for writing. */
  function complete(d: ClaimedDelivery, outcome: AttemptOutcome): void {
    const attemptsMade = d.attempts + 1;
    const at = now();
    let nextAttemptAt: number | undefined;
    let disableEndpoint = false;
    if (!outcome.ok) {
      const gone = outcome.statusCode === 410;
      const failingFor = at - (d.endpoint.failingSince ?? at);
      if (gone || failingFor >= disableAfterMs) {
        // Once per endpoint: the other rows in flight to it end failed without disabling it (and
        // raising its event) again, unless it was changed (enabled again) after this dispatcher
        // disabled it. The ones waiting to start never start.
        const ep = d.endpoint.id;
        const disabledAt = disabledHere.get(ep);
        if (disabledAt === undefined || d.endpoint.updatedAt > disabledAt) {
          disableEndpoint = true;
          disabledHere.set(ep, at);
          withdraw({ endpointId: ep });
        }
      } else {
        const delay = nextAttemptDelay(attemptsMade, {
          scheduleMs: opts.retryScheduleMs,
          jitter: opts.jitter,
          retryAfterMs: outcome.retryAfterMs,
        });
        if (delay !== undefined) nextAttemptAt = at + delay;
      }
    }
    record({
      deliveryId: d.id,
      nextAttemptAt,
      disableEndpoint,
      attemptsMade,
      attempt: {
        id: newId('atmpt', at),
        msgId: d.message.id,
        endpointId: d.endpoint.id,
        appId: d.message.appId,
        url: d.endpoint.url,
        status: outcome.ok ? Status.success : Status.fail,
        statusCode: outcome.statusCode ?? 0,
        response: outcome.responseExcerpt,
        durationMs: Math.round(outcome.durationMs),
        failureKind: outcome.failure?.kind ?? null,
        failureMessage: outcome.failure?.message ?? null,
        tls: outcome.tls ? attemptTlsOf(outcome.tls) : null,
        triggerType: d.triggerType,
        createdAt: at,
      },
    });
    opts.onOutcome?.({ outcome, delivery: d, final: nextAttemptAt === undefined });
  }

  async function waitForWake(ms: number): Promise<void> {
    if (woken) return;
    await new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms);
      wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
    wake = undefined;
  }

  /** Rows claimed but not yet started: a claim fetches ahead so that claims are few and large. */
  const ready: ClaimedDelivery[] = [];
  /**
   * The latest instant each ready row may still start: its lease must outlast the delivery's
   * deadline, or the row could be due again (and claimed twice) while in flight.
   */
  const startBy: number[] = [];
  const readyPerEndpoint = new Map<string, number>();

  function unready(i: number, ep: string): void {
    ready.splice(i, 1);
    startBy.splice(i, 1);
    const left = (readyPerEndpoint.get(ep) ?? 1) - 1;
    if (left === 0) readyPerEndpoint.delete(ep);
    else readyPerEndpoint.set(ep, left);
  }

  /**
   * Ready rows that wait for their endpoint's rate limit, and those endpoints, as of the last pass
   * of launchReady. They are not read-ahead for the free slots: counted as such, one rate-limited
   * endpoint's backlog filled the read-ahead and the dispatcher stopped claiming for every other
   * endpoint while anything was in flight.
   */
  let rateWaiting = 0;
  const rateWaitingEndpoints = new Set<string>();

  /** Starts ready rows while slots are free, never more than `perEndpoint` at once to one endpoint. */
  function launchReady(): void {
    const t = ready.length > 0 ? now() : 0;
    rateWaiting = 0;
    rateWaitingEndpoints.clear();
    for (let i = 0; i < ready.length && active < concurrency; ) {
      const d = ready[i] as ClaimedDelivery;
      const ep = d.endpoint.id;
      if (t > (startBy[i] as number)) {
        // Waited too long (a rate limit or a slow endpoint ahead of it): left to its lease, it is
        // due again when that ends and is claimed afresh, never started late.
        unready(i, ep);
        continue;
      }
      if ((perEndpointInFlight.get(ep) ?? 0) >= perEndpoint) {
        i++;
        continue;
      }
      // The endpoint's rate limit (its own, else its application's): its rows wait here for a token.
      const rate = d.rateLimit;
      if (rate !== null && rate > 0) {
        const wait = rateLimiter.take(ep, rate, t);
        if (wait > 0) {
          retryLaunchIn(wait);
          rateWaiting++;
          rateWaitingEndpoints.add(ep);
          i++;
          continue;
        }
      }
      unready(i, ep);
      launch(d);
    }
  }

  /** One timer for the earliest rate-limit token any waiting row needs. */
  const rateLimiter = createRateLimiter();
  let rateTimer: NodeJS.Timeout | undefined;
  let rateTimerDue = Number.POSITIVE_INFINITY;
  function retryLaunchIn(ms: number): void {
    const due = performance.now() + ms;
    if (rateTimer !== undefined && rateTimerDue <= due) return;
    clearTimeout(rateTimer);
    rateTimerDue = due;
    rateTimer = setTimeout(() => {
      rateTimer = undefined;
      rateTimerDue = Number.POSITIVE_INFINITY;
      if (running) launchReady();
    }, ms);
  }

  /**
   * Rows a claim may fetch now: free slots plus one batch of read-ahead. Rows waiting for a rate
   * limit take no room, up to a bound on how many may wait at once.
   */
  function roomToClaim(): number {
    return concurrency + batchSize - active - ready.length + Math.min(rateWaiting, maxRateWaiting);
  }

  function wantsClaim(): boolean {
    return roomToClaim() >= batchSize;
  }

  async function loop(): Promise<void> {
    while (running) {
      woken = false;
      launchReady();
      let claimed = 0;
      // Claim when the read-ahead runs low. A claim is a write transaction: claiming one row per
      // finished delivery measured 0.06 of the raw loop in bench/dispatch.ts.
      // (Claiming at half the read-ahead, in smaller batches, measured no better on 2 cores.)
      const room = roomToClaim();
      if (room >= batchSize || (room > 0 && active === 0)) {
        const held = new Map(perEndpointInFlight);
        for (const [ep, n] of readyPerEndpoint) held.set(ep, (held.get(ep) ?? 0) + n);
        // An endpoint whose rows wait for its rate limit gets no more until they have started.
        for (const ep of rateWaitingEndpoints) held.set(ep, perEndpoint * 2);
        try {
          const claimedAt = now();
          const batch = await store.claimDeliveries({
            workerId,
            now: claimedAt,
            leaseMs,
            limit: Math.min(batchSize, room),
            // Read-ahead of one extra round per endpoint at most.
            perEndpointLimit: perEndpoint * 2,
            inFlight: held,
          });
          claimed = batch.length;
          for (const d of batch) {
            ready.push(d);
            startBy.push(claimedAt + startWithinMs);
            readyPerEndpoint.set(d.endpoint.id, (readyPerEndpoint.get(d.endpoint.id) ?? 0) + 1);
          }
          launchReady();
        } catch (err) {
          opts.onError?.(err);
        }
      }
      if (!running) break;
      if (claimed > 0 && active < concurrency && ready.length === 0) continue;
      // Nothing claimable now: sleep until a signal (new rows, a finished delivery) or the next due row.
      let delay = pollMs;
      if (claimed === 0 && active === 0 && ready.length === 0) {
        try {
          const due = await store.nextDueAt();
          if (due !== undefined) delay = Math.min(pollMs, Math.max(1, due - now()));
        } catch (err) {
          opts.onError?.(err);
        }
      }
      await waitForWake(delay);
    }
  }

  return {
    get inFlight() {
      return active;
    },
    get waiting() {
      return ready.length;
    },
    start() {
      if (running) return;
      running = true;
      loopDone = loop();
    },
    notify: signal,
    withdraw,
    refresh,
    async stop(o = {}) {
      running = false;
      clearTimeout(rateTimer);
      rateTimer = undefined;
      signal();
      await loopDone;
      const deadline = o.deadlineMs ?? 10_000;
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([
        active === 0
          ? Promise.resolve()
          : new Promise<void>((resolve) => {
              drained.push(resolve);
            }),
        new Promise<void>((resolve) => {
          timer = setTimeout(resolve, deadline);
        }),
      ]);
      clearTimeout(timer);
      await flush();
      // A delivery past the deadline may have finished during that write: written too, before its
      // lease is released (queued later, it was written after the release, or to a closed store).
      await flush();
      stopped = true;
      // Anything still in flight past the deadline keeps no lease: it is due again at once for the
      // next dispatcher (at-least-once; receivers de-duplicate by webhook-id).
      await store.releaseLeases(workerId, now());
    },
  };
}
