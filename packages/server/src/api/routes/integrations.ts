import type { FastifyInstance } from 'fastify';
import { appOf, type Routes } from '../context.ts';
import { integrationIn, params, query } from '../schemas.ts';
import { integrationOut, listOut } from '../views.ts';

type A = { app_id: string };
type P = { app_id: string; integ_id: string };
type Body = { name: string; featureFlags?: string[] };
type ListQuery = { limit: number; iterator?: string | null; order?: 'ascending' | 'descending' };
const config = { action: 'integration.manage' } as const;

/** Svix's integrations (services/integrations.ts), for the admin token only. */
export function integrationRoutes(api: FastifyInstance, { services }: Routes): void {
  const integrations = services.integrations;
  const base = '/api/v1/app/:app_id/integration';
  const one = `${base}/:integ_id`;

  api.get<{ Params: A; Querystring: ListQuery }>(
    base,
    { schema: { params: params.app, querystring: query.list }, config },
    async (req) => listOut(await integrations.list(req.caller, await appOf(services, req), req.query), integrationOut),
  );

  api.post<{ Params: A; Body: Body }>(
    base,
    { schema: { params: params.app, body: integrationIn }, config },
    async (req, reply) =>
      reply.code(201).send(integrationOut(await integrations.create(req.caller, await appOf(services, req), req.body))),
  );

  api.get<{ Params: P }>(one, { schema: { params: params.integration }, config }, async (req) =>
    integrationOut(await integrations.get(req.caller, await appOf(services, req), req.params.integ_id)),
  );

  api.put<{ Params: P; Body: Body }>(
    one,
    { schema: { params: params.integration, body: integrationIn }, config },
    async (req) =>
      integrationOut(await integrations.update(req.caller, await appOf(services, req), req.params.integ_id, req.body)),
  );

  api.delete<{ Params: P }>(one, { schema: { params: params.integration }, config }, async (req, reply) => {
    await integrations.remove(req.caller, await appOf(services, req), req.params.integ_id);
    return reply.code(204).send();
  });

  // Svix 1.x's getKey: the key is handed out again (svix 2 only rotates).
  api.get<{ Params: P }>(`${one}/key`, { schema: { params: params.integration }, config }, async (req) => ({
    key: (await integrations.get(req.caller, await appOf(services, req), req.params.integ_id)).key,
  }));

  // The previous key stops working at once. Never replayed for an Idempotency-Key: it is a credential.
  api.post<{ Params: P }>(
    `${one}/key/rotate`,
    { schema: { params: params.integration }, config: { ...config, credential: true } },
    async (req) => ({ key: await integrations.rotateKey(req.caller, await appOf(services, req), req.params.integ_id) }),
  );
}
