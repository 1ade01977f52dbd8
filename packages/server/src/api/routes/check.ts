import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { ServerError } from '../../errors.ts';
import type { EndpointRow } from '../../store/types.ts';
import { type ApiDeps, appFor, endpointOf, requireAdmin } from '../context.ts';
import { params } from '../schemas.ts';

/** What the endpoint checker is asked to test; the server fills in the platform's identity and policy. */
export interface CheckTarget {
  url: string;
  serverCaPem?: string;
  /** The endpoint's own signing and TLS settings, so the check meets what a delivery would meet. */
  endpoint?: EndpointRow;
  timeoutMs?: number;
}

const checkIn = {
  type: 'object',
  additionalProperties: false,
  required: ['url'],
  properties: {
    url: { type: 'string', minLength: 1, maxLength: 65536 },
    serverCa: { type: 'string', minLength: 1, maxLength: 65536, 'x-hookwarden': true },
    timeoutMs: { type: 'integer', minimum: 1000, maximum: 60000 },
  },
} as const;

const endpointCheckIn = {
  type: ['object', 'null'],
  additionalProperties: false,
  properties: { timeoutMs: checkIn.properties.timeoutMs },
} as const;

/**
 * Checks running at once in this process, whoever asked: each opens up to 8 TLS connections at a
 * time to a host the caller chose, so without a bound one application token could make the platform
 * open hundreds of connections at once.
 */
export const MAX_CHECKS_IN_FLIGHT = 4;
/** Seconds a refused caller is told to wait: about one check's duration. */
const RETRY_AFTER_S = 15;

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

/**
 * The endpoint checker over HTTP: the same report as `hookwarden check`. Admins may check any URL
 * (the SSRF policy still applies: the report says which addresses are refused and never dials them);
 * an application token may check its own endpoints.
 */
export function checkRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const check = async (key: string, target: CheckTarget, reply: FastifyReply) => {
    if (!deps.check)
      throw new ServerError('HW_CHECK_UNAVAILABLE', 'the endpoint checker is not configured', { status: 503 });
    const release = slots.take(key);
    if (typeof release === 'string') {
      reply.header('retry-after', String(RETRY_AFTER_S));
      throw new ServerError('HW_CHECK_BUSY', release, { status: 429 });
    }
    try {
      return await deps.check(target);
    } finally {
      release();
    }
  };

  api.post<{ Body: { url: string; serverCa?: string; timeoutMs?: number } }>(
    '/api/v1/check',
    { schema: { body: checkIn } },
    async (req, reply) => {
      requireAdmin(req);
      return check(
        `url:${req.body.url}`,
        {
          url: req.body.url,
          ...(req.body.serverCa ? { serverCaPem: req.body.serverCa } : {}),
          ...(req.body.timeoutMs ? { timeoutMs: req.body.timeoutMs } : {}),
        },
        reply,
      );
    },
  );

  api.post<{ Params: { app_id: string; endpoint_id: string }; Body: { timeoutMs?: number } | null }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/check',
    { schema: { params: params.endpoint, body: endpointCheckIn } },
    async (
      req: FastifyRequest<{ Params: { app_id: string; endpoint_id: string }; Body: { timeoutMs?: number } | null }>,
      reply: FastifyReply,
    ) => {
      const app = await appFor(deps, req, req.params.app_id);
      const endpoint = await endpointOf(deps, app, req.params.endpoint_id);
      return check(
        `endpoint:${endpoint.id}`,
        {
          url: endpoint.url,
          endpoint,
          ...(endpoint.serverCaPem ? { serverCaPem: endpoint.serverCaPem } : {}),
          ...(req.body?.timeoutMs ? { timeoutMs: req.body.timeoutMs } : {}),
        },
        reply,
      );
    },
  );
}
