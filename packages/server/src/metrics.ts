import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';
import type { AttemptOutcome } from './delivery/types.ts';
import type { Store } from './store/types.ts';

/** Prometheus metrics of one server: a registry of its own, so tests can run several servers. */
export function createMetrics(store: Store, now: () => number) {
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
  // Queue gauges are read from the store when scraped, never kept in step by hand.
  let stats: Promise<{ depth: number; oldestDueAgeMs: number }> | undefined;
  const readStats = () => {
    stats ??= store.queueStats(now()).finally(() => {
      stats = undefined;
    });
    return stats;
  };
  new Gauge({
    name: 'hookwarden_queue_depth',
    help: 'Deliveries waiting for an attempt (due or scheduled)',
    registers: [registry],
    async collect() {
      this.set((await readStats()).depth);
    },
  });
  new Gauge({
    name: 'hookwarden_queue_oldest_due_age_seconds',
    help: 'How long the oldest due delivery has been waiting',
    registers: [registry],
    async collect() {
      this.set((await readStats()).oldestDueAgeMs / 1000);
    },
  });
  return {
    registry,
    observe(outcome: AttemptOutcome) {
      const label = outcome.ok ? 'success' : (outcome.failure?.kind ?? 'http_status');
      deliveries.inc({ outcome: label });
      latency.observe({ outcome: label }, outcome.durationMs / 1000);
    },
    async render() {
      return { contentType: registry.contentType, body: await registry.metrics() };
    },
  };
}
