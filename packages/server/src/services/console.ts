import type { DeliveryTimeline, TroubledEndpoint } from '../store/types.ts';
import type { TrustDocument } from '../trust.ts';
import { authorize, type Caller } from './actor.ts';
import type { ServiceDeps } from './context.ts';
import { type CircuitOut, circuitOut } from './endpoints.ts';

/** How many troubled endpoints the console lists. */
const TROUBLED_LIMIT = 50;

export interface ConsoleOverview {
  timeline: DeliveryTimeline;
  bucketMs: number;
  troubled: (TroubledEndpoint & { circuit?: CircuitOut })[];
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
    // The circuit as this node's dispatcher applies it; absent without one (the console says so).
    const withCircuit = troubled.map((t) => {
      const circuit = deps.circuitOf?.(t.endpoint.id);
      return circuit ? { ...t, circuit: circuitOut(circuit) } : t;
    });
    return { timeline, bucketMs, troubled: withCircuit, trust, now };
  }

  return { overview };
}
