import type { FastifyRequest } from 'fastify';
import type { OperationalEvents } from '../operational.ts';
import type { Action, Caller } from '../services/actor.ts';
import type { ServiceDeps } from '../services/context.ts';
import type { Services } from '../services/index.ts';
import type { StorageFault } from '../store/faults.ts';
import type { ApplicationRow } from '../store/types.ts';

/** Everything the API needs from the rest of the server; injected so tests build it alone. */
export interface ApiDeps extends Omit<ServiceDeps, 'operational'> {
  /** Prometheus text exposition, served at /metrics. */
  metrics?: () => Promise<{ contentType: string; body: string }>;
  bodyLimit?: number;
  /**
   * The storage fault that refuses writes now, if any (storage-health.ts): the health route answers
   * 503 with it. Absent: health answers 204 whenever the API answers.
   */
  storageFault?: () => StorageFault | undefined;
  /** Operational webhooks; by default built on `store`. */
  operational?: OperationalEvents;
}

declare module 'fastify' {
  interface FastifyContextConfig {
    /** Answered without a token. */
    public?: boolean;
    /** What the route does, in the services' terms: the actor must be allowed it (services/actor.ts). */
    action?: Action;
  }
  interface FastifyRequest {
    /** Who calls, once authenticated, and the request's log. */
    caller: Caller;
  }
}

/** What the route handlers are built with. */
export interface Routes {
  deps: ApiDeps;
  services: Services;
}

/** The application the path's `app_id` names, if the caller may act on it. */
export const appOf = (s: Services, req: FastifyRequest): Promise<ApplicationRow> =>
  s.applications.resolve(req.caller, (req.params as { app_id: string }).app_id);

export function parseTime(value: string | undefined): number | undefined {
  return value === undefined ? undefined : Date.parse(value);
}

export function splitList(value: string | undefined): string[] | undefined {
  if (value === undefined) return undefined;
  const items = value.split(',').filter((s) => s.length > 0);
  return items.length > 0 ? items : undefined;
}

export { invalidField } from '../services/context.ts';
