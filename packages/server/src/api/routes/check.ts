import type { FastifyInstance } from 'fastify';
import { appOf, type Routes } from '../context.ts';
import { params } from '../schemas.ts';

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

/** The endpoint checker over HTTP: the same report as `hookwarden check` (services/checks.ts). */
export function checkRoutes(api: FastifyInstance, { services }: Routes): void {
  api.post<{ Body: { url: string; serverCa?: string; timeoutMs?: number } }>(
    '/api/v1/check',
    { schema: { body: checkIn }, config: { action: 'check.url' } },
    async (req) =>
      services.checks.url(req.caller, {
        url: req.body.url,
        ...(req.body.serverCa ? { serverCaPem: req.body.serverCa } : {}),
        ...(req.body.timeoutMs ? { timeoutMs: req.body.timeoutMs } : {}),
      }),
  );

  api.post<{ Params: { app_id: string; endpoint_id: string }; Body: { timeoutMs?: number } | null }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/check',
    { schema: { params: params.endpoint, body: endpointCheckIn }, config: { action: 'endpoint.check' } },
    async (req) =>
      services.checks.endpoint(req.caller, await appOf(services, req), req.params.endpoint_id, {
        ...(req.body?.timeoutMs ? { timeoutMs: req.body.timeoutMs } : {}),
      }),
  );
}
