import type { CipherPolicy } from '../delivery/ciphers.ts';
import type { AttemptOutcome, DeliveryClient } from '../delivery/types.ts';
import { invalidOption } from '../errors.ts';
import type { ClaimedDelivery, Outcome, Store } from '../store/types.ts';
import type { CircuitState, EndpointGate } from './endpoint-gate.ts';
import { createMemoryGate } from './memory-gate.ts';

/** Defaults, and why each, in docs/delivery.md ("Isolation"). */
export interface DispatcherOptions {
  store: Store;
  client: Pick<DeliveryClient, 'deliver'>;
  now?: () => number;
  /**
   * Deliveries in flight at once, over all endpoints (default 2048). A delivery that hangs costs a
   * socket and ~62 KiB of memory (TLS state included), plus its payload, not a core.
   */
  concurrency?: number;
  /** The most attempts in flight at once to one endpoint (default 16): its adaptive limit stays at or below it. */
  perEndpointConcurrency?: number;
  /** Where an endpoint's adaptive limit starts (default 4, at most perEndpointConcurrency). */
  initialEndpointConcurrency?: number;
  /**
   * Slots that slow endpoints (timing out, or answering after `slowAfterMs`) may hold together
   * (default half of `concurrency`): the others stay free for endpoints that answer quickly.
   */
  slowConcurrency?: number;
  /** An attempt in flight longer than this makes its endpoint slow (default 2 s). */
  slowAfterMs?: number;
  /** The circuit breaker of each endpoint (memory-gate.ts). */
  circuit?: {
    /** Consecutive failures that open it (default 5). */
    failureThreshold?: number;
    /** How long it first stays open before one probe (default 30 s); doubled after each failed probe. */
    openMs?: number;
    /** The longest it stays open, also for a receiver's Retry-After (default 5 min). */
    maxOpenMs?: number;
  };
  /**
   * Per-endpoint limits and circuits: the seam for workers that share a database (endpoint-gate.ts).
   * By default kept in this process's memory, built from the options above.
   */
  gate?: EndpointGate;
  /** An endpoint's circuit changed state (the default gate's; a given `gate` tells its own way). */
  onCircuit?: (endpointId: string, state: CircuitState) => void;
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

/** Deliveries in flight at once by default: ~125 MiB of connection state if every one hangs. */
export const DEFAULT_CONCURRENCY = 2048;
const DAY = 86_400_000;
/** Slack between a row's latest start and its lease end beyond the delivery deadline (at most). */
const START_MARGIN_MS = 1_000;
/** A healthy endpoint's adapted limit is forgotten after this long without an attempt. */
const GATE_IDLE_MS = 600_000;

function positive(name: string, v: number | undefined, fallback: number): number {
  const value = v ?? fallback;
  if (!Number.isFinite(value) || value <= 0) throw invalidOption(name, 'must be a positive number');
  return value;
}

function count(name: string, v: number | undefined, fallback: number): number {
  const value = v ?? fallback;
  if (!Number.isInteger(value) || value < 1) throw invalidOption(name, 'must be a whole number ≥ 1');
  return value;
}

export type ResolvedOptions = ReturnType<typeof resolveOptions>;

/** Every option checked once, naming the field; the defaults filled in. */
export function resolveOptions(opts: DispatcherOptions) {
  const concurrency = count('concurrency', opts.concurrency, DEFAULT_CONCURRENCY);
  const perEndpoint = count('perEndpointConcurrency', opts.perEndpointConcurrency, Math.min(16, concurrency));
  if (perEndpoint > concurrency) throw invalidOption('perEndpointConcurrency', 'must not exceed concurrency');
  const initial = count('initialEndpointConcurrency', opts.initialEndpointConcurrency, Math.min(4, perEndpoint));
  if (initial > perEndpoint) {
    throw invalidOption('initialEndpointConcurrency', 'must not exceed perEndpointConcurrency');
  }
  const slowConcurrency = count('slowConcurrency', opts.slowConcurrency, Math.max(1, Math.floor(concurrency / 2)));
  if (slowConcurrency > concurrency) throw invalidOption('slowConcurrency', 'must not exceed concurrency');
  const leaseMs = positive('leaseMs', opts.leaseMs, 120_000);
  const deliveryDeadlineMs = positive('deliveryDeadlineMs', opts.deliveryDeadlineMs, 45_000);
  if (deliveryDeadlineMs * 2 >= leaseMs) {
    throw invalidOption(
      'leaseMs',
      'must exceed twice deliveryDeadlineMs (a row may wait one round behind its endpoint)',
    );
  }
  const schedule = opts.retryScheduleMs;
  if (schedule !== undefined && (schedule.length === 0 || schedule.some((ms) => !Number.isFinite(ms) || ms < 0))) {
    throw invalidOption('retryScheduleMs', 'must list one or more non-negative delays in milliseconds');
  }
  if (opts.jitter !== undefined && !(opts.jitter >= 0 && opts.jitter < 1)) {
    throw invalidOption('jitter', 'must be in [0, 1)');
  }
  const c = opts.circuit ?? {};
  const openMs = positive('circuit.openMs', c.openMs, 30_000);
  const maxOpenMs = positive('circuit.maxOpenMs', c.maxOpenMs, 300_000);
  if (maxOpenMs < openMs) throw invalidOption('circuit.maxOpenMs', 'must not be below circuit.openMs');
  const gate =
    opts.gate ??
    createMemoryGate({
      initial,
      max: perEndpoint,
      failureThreshold: count('circuit.failureThreshold', c.failureThreshold, 5),
      openMs,
      maxOpenMs,
      idleMs: GATE_IDLE_MS,
      ...(opts.onCircuit ? { onTransition: opts.onCircuit } : {}),
    });
  const batchSize = count('batchSize', opts.batchSize, 64);
  return {
    concurrency,
    perEndpoint,
    slowConcurrency,
    slowAfterMs: positive('slowAfterMs', opts.slowAfterMs, 2_000),
    gate,
    batchSize,
    /** Rows held back by their own endpoint that take no room from the read-ahead: a bound on memory. */
    maxHeldBack: Math.max(batchSize, Math.floor(concurrency / 2)),
    leaseMs,
    deliveryDeadlineMs,
    // How long a claimed row may wait to start: its lease less the delivery deadline, less a margin
    // (positive, since leaseMs > 2 x deliveryDeadlineMs).
    startWithinMs: leaseMs - deliveryDeadlineMs - Math.min(START_MARGIN_MS, (leaseMs - deliveryDeadlineMs) / 4),
    pollMs: positive('pollMs', opts.pollMs, 1_000),
    disableAfterMs: positive('disableAfterMs', opts.disableAfterMs, 5 * DAY),
    flushSize: positive('flushSize', opts.flushSize, 256),
    flushMs: positive('flushMs', opts.flushMs, 50),
  };
}
