import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AttemptOutcome } from './delivery/types.ts';
import type { DispatcherStats } from './dispatcher/dispatcher.ts';
import type { CircuitState } from './dispatcher/endpoint-gate.ts';
import type { StorageFaultCode } from './store/faults.ts';
import type { Store } from './store/types.ts';

/** The storage states, as the gauge labels them: `ok`, or the fault (HW_STORE_FULL: `full`). */
const STORAGE_STATES = ['ok', 'full', 'read_only', 'unavailable', 'busy'] as const;
const stateOf = (code: StorageFaultCode | undefined): string =>
  code === undefined ? 'ok' : code.slice('HW_STORE_'.length).toLowerCase();

/**
 * Prometheus metrics of one server: a registry of its own, so tests can run several servers.
 * `dispatch` reads the dispatcher's slots and circuits when scraped, `storage` the storage fault of
 * now (storage-health.ts).
 */
export function createMetrics(
  store: Store,
  now: () => number,
  dispatch?: () => DispatcherStats,
  storage?: () => StorageFaultCode | undefined,
) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry });
  const deliveries = new Counter({
    name: 'hookwarden_deliveries_total',
    help: 'Delivery attempts by outcome (success, or the failure kind)',
    labelNames: ['outcome'],
    registers: [registry],
  });
  const latency = new Histogram({
    name: 'hookwarden_delivery_duration_seconds',
    help: 'Duration of delivery attempts, connect to response',
    labelNames: ['outcome'],
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
    registers: [registry],
  });
  // Queue gauges are read from the store when scraped, never kept in step by hand. A database that
  // cannot be read leaves them as they were: the scrape still answers, with the storage state.
  let stats: Promise<{ depth: number; oldestDueAgeMs: number } | undefined> | undefined;
  const readStats = () => {
    stats ??= store
      .queueStats(now())
      .catch(() => undefined)
      .finally(() => {
        stats = undefined;
      });
    return stats;
  };
  new Gauge({
    name: 'hookwarden_queue_depth',
    help: 'Deliveries waiting for an attempt (due or scheduled)',
    registers: [registry],
    async collect() {
      const s = await readStats();
      if (s) this.set(s.depth);
    },
  });
  new Gauge({
    name: 'hookwarden_queue_oldest_due_age_seconds',
    help: 'How long the oldest due delivery has been waiting',
    registers: [registry],
    async collect() {
      const s = await readStats();
      if (s) this.set(s.oldestDueAgeMs / 1000);
    },
  });
  new Gauge({
    name: 'hookwarden_storage_state',
    help: 'Whether the store takes writes: 1 for the state it is in (ok, full, read_only, unavailable, busy), 0 for the others',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const current = stateOf(storage?.());
      for (const state of STORAGE_STATES) this.set({ state }, state === current ? 1 : 0);
    },
  });
  const refused = new Counter({
    name: 'hookwarden_storage_refused_writes_total',
    help: 'Writes the store refused with a storage fault (API requests, claims and outcomes), by state',
    labelNames: ['state'],
    registers: [registry],
  });
  const timeouts = new Counter({
    name: 'hookwarden_delivery_timeouts_total',
    help: 'Delivery attempts cut by a timeout, by phase (dns, connect, tls, headers, response)',
    labelNames: ['phase'],
    registers: [registry],
  });
  const transitions = new Counter({
    name: 'hookwarden_endpoint_circuit_transitions_total',
    help: 'Endpoint circuits that changed state, by the state they entered (open, half_open, closed)',
    labelNames: ['to'],
    registers: [registry],
  });
  if (dispatch) registerDispatchGauges(registry, dispatch);
  return {
    registry,
    observe(outcome: AttemptOutcome) {
      const label = outcome.ok ? 'success' : (outcome.failure?.kind ?? 'http_status');
      deliveries.inc({ outcome: label });
      latency.observe({ outcome: label }, outcome.durationMs / 1000);
      const phase = outcome.failure?.phase;
      if (phase !== undefined) timeouts.inc({ phase });
    },
    circuit(to: CircuitState) {
      transitions.inc({ to });
    },
    refused(code: StorageFaultCode) {
      refused.inc({ state: stateOf(code) });
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}

/** The dispatcher's slots and its endpoints' circuits, read when scraped. */
function registerDispatchGauges(registry: Registry, dispatch: () => DispatcherStats): void {
  const gauge = (name: string, help: string, read: (s: DispatcherStats) => number) =>
    new Gauge({
      name,
      help,
      registers: [registry],
      collect() {
        this.set(read(dispatch()));
      },
    });
  gauge('hookwarden_deliveries_in_flight', 'Delivery attempts in flight', (s) => s.inFlight);
  gauge(
    'hookwarden_deliveries_in_flight_slow',
    'Delivery attempts in flight to endpoints that are slow now (capped by slowConcurrency)',
    (s) => s.slowInFlight,
  );
  gauge('hookwarden_deliveries_waiting', 'Claimed deliveries waiting to start', (s) => s.waiting);
  gauge(
    'hookwarden_endpoints_concurrency_reduced',
    'Endpoints whose adaptive concurrency was cut below its initial value (timeouts, failures, 429/503)',
    (s) => s.circuits.reduced,
  );
  new Gauge({
    name: 'hookwarden_endpoint_circuits',
    help: 'Endpoints with recent attempts, by circuit state',
    labelNames: ['state'],
    registers: [registry],
    collect() {
      const c = dispatch().circuits;
      this.set({ state: 'closed' }, c.closed);
      this.set({ state: 'open' }, c.open);
      this.set({ state: 'half_open' }, c.halfOpen);
    },
  });
}
