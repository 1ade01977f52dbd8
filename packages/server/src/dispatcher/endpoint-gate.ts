import type { AttemptOutcome } from '../delivery/types.ts';

/**
 * The per-endpoint limits the dispatcher obeys: how many attempts to an endpoint may be in flight at
 * once (adaptive: AIMD), and whether its circuit lets any through. The dispatcher asks before it
 * claims or starts an endpoint's rows and reports every attempt's verdict.
 *
 * This is the seam for several workers sharing one database: one process keeps the state in memory
 * (memory-gate.ts); a shared store will keep it in the database behind the same interface. Its calls
 * are synchronous, asked on the dispatcher's hot path: such an implementation answers from a local
 * copy that it keeps in step (reports written through, changes read back through `subscribe()`).
 */
export interface EndpointGate {
  /**
   * Attempts to the endpoint that may be in flight at once now: its adaptive limit while its circuit
   * is closed, 1 while half open (the probe), 0 while open. An open circuit whose time is up turns
   * half open here.
   */
  allowance(endpointId: string, now: number): number;
  /** The allowance of an endpoint the gate holds no state for. */
  readonly initialAllowance: number;
  /** Every allowance that differs from `initialAllowance` now (one entry per such endpoint). */
  allowances(now: number): ReadonlyMap<string, number>;
  /**
   * The endpoint's epoch, which an attempt carries from its start to its report: it moves on at each
   * decrease and each opening of the circuit, so that the outcomes of attempts already in flight then
   * neither decrease again (one decrease per round, as TCP) nor close or reopen the circuit.
   */
  epoch(endpointId: string): number;
  report(endpointId: string, report: AttemptReport, now: number): void;
  /** Whether the endpoint's last attempt was slow (it timed out or took longer than the slow threshold). */
  slow(endpointId: string): boolean;
  /** The earliest instant an open circuit lets a probe through; undefined when none is open. */
  nextOpeningAt(): number | undefined;
  circuit(endpointId: string, now: number): CircuitView;
  /** Endpoints by circuit state, and how many run below the initial allowance (for /metrics). */
  census(now: number): CircuitCensus;
}

/**
 * What an attempt says about its endpoint: it `answered` (any HTTP answer that is neither a 5xx nor a
 * request to slow down: the endpoint is up), it asked us to `slow_down` (429, 503), or it `failed`
 * (no answer: DNS, connect, TLS, a timeout; or a 5xx).
 */
export type Verdict = 'answered' | 'failed' | 'slow_down';

export interface AttemptReport {
  verdict: Verdict;
  /** `epoch(endpointId)` when the attempt started. */
  epoch: number;
  /** It timed out, or took longer than the slow threshold. */
  slow: boolean;
  /** The receiver's Retry-After with a `slow_down` verdict: its circuit stays open that long. */
  retryAfterMs?: number;
}

export type CircuitState = 'closed' | 'open' | 'half_open';

export interface CircuitView {
  state: CircuitState;
  /** Attempts that may be in flight at once now. */
  concurrencyLimit: number;
  consecutiveFailures: number;
  /** While open: when the probe may go. */
  openUntil?: number;
  /** What opened it last: consecutive failures, or the receiver's Retry-After. */
  openedBy?: 'failures' | 'retry_after';
  slow: boolean;
}

export interface CircuitCensus {
  closed: number;
  open: number;
  halfOpen: number;
  /** Endpoints with a closed circuit whose limit was cut below the initial one. */
  reduced: number;
}

export function verdictOf(outcome: AttemptOutcome): Verdict {
  if (outcome.ok) return 'answered';
  const status = outcome.statusCode ?? 0;
  if (status === 429 || status === 503) return 'slow_down';
  if (status >= 100 && status < 500) return 'answered';
  return 'failed';
}
