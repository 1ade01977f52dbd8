import type { FastifyInstance, FastifyRequest } from 'fastify';
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
 * The endpoint checker over HTTP: the same report as `hookwarden check`. Admins may check any URL
 * (the SSRF policy still applies: the report says which addresses are refused and never dials them);
 * an application token may check its own endpoints.
 */
export function checkRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const check = (target: CheckTarget) => {
    if (!deps.check)
      throw new ServerError('HW_CHECK_UNAVAILABLE', 'the endpoint checker is not configured', { status: 503 });
    return deps.check(target);
  };

  api.post<{ Body: { url: string; serverCa?: string; timeoutMs?: number } }>(
    '/api/v1/check',
    { schema: { body: checkIn } },
    async (req) => {
      requireAdmin(req);
      return check({
        url: req.body.url,
        ...(req.body.serverCa ? { serverCaPem: req.body.serverCa } : {}),
        ...(req.body.timeoutMs ? { timeoutMs: req.body.timeoutMs } : {}),
      });
    },
  );

  api.post<{ Params: { app_id: string; endpoint_id: string }; Body: { timeoutMs?: number } | null }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/check',
    { schema: { params: params.endpoint, body: endpointCheckIn } },
    async (
      req: FastifyRequest<{ Params: { app_id: string; endpoint_id: string }; Body: { timeoutMs?: number } | null }>,
    ) => {
      const app = await appFor(deps, req, req.params.app_id);
      const endpoint = await endpointOf(deps, app, req.params.endpoint_id);
      return check({
        url: endpoint.url,
        endpoint,
        ...(endpoint.serverCaPem ? { serverCaPem: endpoint.serverCaPem } : {}),
        ...(req.body?.timeoutMs ? { timeoutMs: req.body.timeoutMs } : {}),
      });
    },
  );
}
