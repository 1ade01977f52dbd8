import type { AttemptReport, CircuitCensus, CircuitState, CircuitView, EndpointGate } from './endpoint-gate.ts';

export interface MemoryGateOptions {
  /** Attempts in flight at once to an endpoint never seen, or idle for `idleMs`. */
  initial: number;
  /** The most the limit grows to. */
  max: number;
  /** Consecutive failures that open the circuit. */
  failureThreshold: number;
  /** How long a circuit first stays open; each failed probe doubles it, up to `maxOpenMs`. */
  openMs: number;
  /** The longest a circuit stays open, also for a receiver's Retry-After. */
  maxOpenMs: number;
  /** A healthy endpoint not heard of for this long is forgotten (it starts again at `initial`). */
  idleMs: number;
  onTransition?: (endpointId: string, to: CircuitState) => void;
}

/** One endpoint's limit (a float: congestion avoidance adds 1/limit per answer) and circuit. */
class EndpointState {
  state: CircuitState = 'closed';
  epoch = 0;
  failures = 0;
  openUntil = 0;
  openedBy: 'failures' | 'retry_after' = 'failures';
  slow = false;
  constructor(
    public limit: number,
    /** Below it the limit grows by one per answer (doubling per round: slow start), above by 1/limit. */
    public threshold: number,
    public cooldownMs: number,
    public seen: number,
  ) {}
}

/**
 * The endpoint gate of a single process (endpoint-gate.ts): additive increase, multiplicative
 * decrease of each endpoint's concurrency, as TCP adjusts its window, and a circuit breaker. Pure
 * arithmetic on the caller's clock, so it is tested with explicit times.
 */
export function createMemoryGate(o: MemoryGateOptions): EndpointGate {
  const states = new Map<string, EndpointState>();
  let openCount = 0;

  function stateOf(id: string, now: number): EndpointState {
    let s = states.get(id);
    if (s === undefined) {
      s = new EndpointState(o.initial, o.max, o.openMs, now);
      states.set(id, s);
    }
    return s;
  }

  function move(id: string, s: EndpointState, to: CircuitState): void {
    if (s.state === 'open') openCount--;
    if (to === 'open') openCount++;
    s.state = to;
    o.onTransition?.(id, to);
  }

  function open(id: string, s: EndpointState, now: number, ms: number, by: 'failures' | 'retry_after'): void {
    s.openUntil = now + Math.min(ms, o.maxOpenMs);
    s.openedBy = by;
    s.threshold = Math.max(1, Math.floor(s.limit / 2));
    s.epoch++;
    move(id, s, 'open');
  }

  /** The probe answered: closed again, starting from one attempt at a time and growing back. */
  function close(id: string, s: EndpointState): void {
    s.failures = 0;
    s.cooldownMs = o.openMs;
    s.limit = 1;
    move(id, s, 'closed');
  }

  function grow(s: EndpointState): void {
    s.limit = Math.min(o.max, s.limit < s.threshold ? s.limit + 1 : s.limit + 1 / s.limit);
  }

  function shrink(s: EndpointState): void {
    s.threshold = Math.max(1, Math.floor(s.limit / 2));
    s.limit = s.threshold;
    s.epoch++;
  }

  function allowance(id: string, now: number): number {
    const s = states.get(id);
    if (s === undefined) return o.initial;
    if (s.state === 'open') {
      if (now < s.openUntil) return 0;
      move(id, s, 'half_open');
    }
    return s.state === 'half_open' ? 1 : Math.floor(s.limit);
  }

  function report(id: string, r: AttemptReport, now: number): void {
    const s = stateOf(id, now);
    s.seen = now;
    s.slow = r.slow;
    const current = r.epoch >= s.epoch;
    if (s.state !== 'closed') {
      // Attempts started before the circuit opened say nothing about it now; the probe decides.
      if (!current || s.state === 'open') return;
      if (r.verdict === 'answered') close(id, s);
      else {
        s.failures++;
        s.cooldownMs = Math.min(o.maxOpenMs, s.cooldownMs * 2);
        const wait = r.verdict === 'slow_down' && r.retryAfterMs !== undefined ? r.retryAfterMs : s.cooldownMs;
        open(id, s, now, wait, r.verdict === 'slow_down' && r.retryAfterMs !== undefined ? 'retry_after' : 'failures');
      }
      return;
    }
    if (r.verdict === 'answered') {
      s.failures = 0;
      // Only a prompt answer earns a slot: a slow one (a body trickling in for seconds) holds its own.
      if (!r.slow) grow(s);
      return;
    }
    s.failures++;
    if (r.verdict === 'slow_down' && r.retryAfterMs !== undefined && r.retryAfterMs > 0) {
      open(id, s, now, r.retryAfterMs, 'retry_after');
    } else if (s.failures >= o.failureThreshold) {
      open(id, s, now, s.cooldownMs, 'failures');
    } else if (current) {
      shrink(s);
    }
  }

  /**
   * Forgets an endpoint not heard of for `idleMs` (and not open): memory stays bounded by the
   * endpoints in use, and one that comes back starts afresh, as TCP restarts an idle connection.
   */
  function idle(s: EndpointState, now: number): boolean {
    return s.state !== 'open' && now - Math.max(s.seen, s.openUntil) >= o.idleMs;
  }

  return {
    initialAllowance: o.initial,
    allowance,
    allowances(now) {
      const out = new Map<string, number>();
      for (const [id, s] of states) {
        if (idle(s, now)) {
          states.delete(id);
          continue;
        }
        const a = allowance(id, now);
        if (a !== o.initial) out.set(id, a);
      }
      return out;
    },
    epoch: (id) => states.get(id)?.epoch ?? 0,
    report,
    slow: (id) => states.get(id)?.slow === true,
    nextOpeningAt() {
      if (openCount === 0) return undefined;
      let at = Number.POSITIVE_INFINITY;
      for (const s of states.values()) if (s.state === 'open' && s.openUntil < at) at = s.openUntil;
      return at;
    },
    circuit(id, now): CircuitView {
      const s = states.get(id);
      const concurrencyLimit = allowance(id, now);
      if (s === undefined) return { state: 'closed', concurrencyLimit, consecutiveFailures: 0, slow: false };
      const view: CircuitView = { state: s.state, concurrencyLimit, consecutiveFailures: s.failures, slow: s.slow };
      if (s.state === 'open') {
        view.openUntil = s.openUntil;
        view.openedBy = s.openedBy;
      }
      return view;
    },
    census(now) {
      const c: CircuitCensus = { closed: 0, open: 0, halfOpen: 0, reduced: 0 };
      for (const [id, s] of states) {
        allowance(id, now);
        if (s.state === 'open') c.open++;
        else if (s.state === 'half_open') c.halfOpen++;
        else {
          c.closed++;
          if (s.limit < o.initial) c.reduced++;
        }
      }
      return c;
    },
  };
}
