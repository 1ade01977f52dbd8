import { serverError } from '../errors.ts';
import type { ApplicationRow } from '../store/types.ts';
import type { Caller } from './actor.ts';
import { authorize } from './actor.ts';
import type { CheckTarget, ServiceDeps } from './context.ts';
import type { Endpoints } from './endpoints.ts';

/**
 * Checks running at once in this process, whoever asked: each opens up to 8 TLS connections at a
 * time to a host the caller chose, so without a bound one application token could make the platform
 * open hundreds of connections at once.
 */
export const MAX_CHECKS_IN_FLIGHT = 4;
/** Seconds a refused caller is told to wait: about one check's duration. */
export const CHECK_RETRY_AFTER_S = 15;

/** Slots for checks in flight: a process-wide count, and at most one per target. */
class CheckSlots {
  private readonly running = new Set<string>();
  constructor(private readonly limit: number) {}

  /** A release function, or why no slot is free. */
  take(key: string): (() => void) | string {
    if (this.running.has(key)) return 'a check of this endpoint is already running; wait for its report';
    if (this.running.size >= this.limit) {
      return `${this.limit} checks are already running on this server; try again shortly`;
    }
    this.running.add(key);
    return () => this.running.delete(key);
  }
}

const slots = new CheckSlots(MAX_CHECKS_IN_FLIGHT);

export type Checks = ReturnType<typeof checkService>;

/**
 * The endpoint checker: the same report as `hookwarden check`. The operator may check any URL (the
 * SSRF policy still applies: the report says which addresses are refused and never dials them); an
 * application actor its own endpoints, as a delivery to them would meet them.
 */
export function checkService(deps: ServiceDeps, endpoints: Endpoints) {
  /** HW_CHECK_BUSY (429) when no slot is free; the caller tells when to try again. */
  async function run(key: string, target: CheckTarget): Promise<unknown> {
    if (!deps.check) throw serverError('HW_CHECK_UNAVAILABLE');
    const release = slots.take(key);
    if (typeof release === 'string') throw serverError('HW_CHECK_BUSY', release);
    try {
      return await deps.check(target);
    } finally {
      release();
    }
  }

  async function url(c: Caller, target: { url: string; serverCaPem?: string; timeoutMs?: number }): Promise<unknown> {
    authorize(c.actor, 'check.url');
    return run(`url:${target.url}`, target);
  }

  async function endpoint(
    c: Caller,
    app: ApplicationRow,
    idOrUid: string,
    o: { timeoutMs?: number } = {},
  ): Promise<unknown> {
    const ep = await endpoints.find(c, app, idOrUid, 'endpoint.check');
    return run(`endpoint:${ep.id}`, {
      url: ep.url,
      endpoint: ep,
      ...(ep.serverCaPem ? { serverCaPem: ep.serverCaPem } : {}),
      ...(o.timeoutMs ? { timeoutMs: o.timeoutMs } : {}),
    });
  }

  return { url, endpoint };
}
