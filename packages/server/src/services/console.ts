import type { DeliveryTimeline, EndpointStats, TroubledEndpoint } from '../store/types.ts';
import type { TrustDocument } from '../trust.ts';
import { authorize, type Caller } from './actor.ts';
import type { ServiceDeps } from './context.ts';

/** How many troubled endpoints the console lists. */
const TROUBLED_LIMIT = 50;

/**
 * An endpoint's circuit breaker as the endpoint statistics report it. The statistics carry it once
 * the dispatcher has a breaker; until then it is absent and the console says it is not reported.
 */
export type CircuitState = { state: string } & Record<string, unknown>;

export interface ConsoleOverview {
  timeline: DeliveryTimeline;
  bucketMs: number;
  troubled: (TroubledEndpoint & { circuit?: CircuitState })[];
  trust: TrustDocument | undefined;
  now: number;
}

export type Console = ReturnType<typeof consoleService>;

/** The operator's console: the queue and deliveries over the last hours, endpoints in trouble, certificates. */
export function consoleService(deps: ServiceDeps) {
  async function overview(c: Caller, o: { hours: number; buckets: number }): Promise<ConsoleOverview> {
    authorize(c.actor, 'console.read');
    const now = deps.now();
    const bucketMs = Math.max(60_000, Math.ceil((o.hours * 3_600_000) / o.buckets / 60_000) * 60_000);
    // Whole buckets ending with the current one.
    const until = Math.ceil((now + 1) / bucketMs) * bucketMs;
    const since = until - bucketMs * o.buckets;
    const [timeline, troubled, trust] = await Promise.all([
      deps.store.deliveryTimeline({ since, until, bucketMs }),
      deps.store.troubledEndpoints(TROUBLED_LIMIT),
      deps.trust(),
    ]);
    const withCircuit = await Promise.all(
      troubled.map(async (t) => {
        const stats: EndpointStats & { circuit?: CircuitState } = await deps.store.endpointStats(
          t.endpoint.id,
          {},
          now,
        );
        return stats.circuit ? { ...t, circuit: stats.circuit } : t;
      }),
    );
    return { timeline, bucketMs, troubled: withCircuit, trust, now };
  }

  return { overview };
}
