import { randomBytes } from 'node:crypto';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { IntegrationRow } from '../../store/types.ts';
import { hashToken } from '../auth.ts';
import { type ApiDeps, appFor, requireAdmin } from '../context.ts';
import { integrationIn, params, query } from '../schemas.ts';
import { integrationOut, listOut } from '../views.ts';

type P = { app_id: string; integ_id: string };
type Body = { name: string; featureFlags?: string[] };
type ListQuery = { limit: number; iterator?: string | null; order?: 'ascending' | 'descending' };

/** A new key, shown to the caller and kept; requests find it by its digest, as tokens are. */
function newKey(): { key: string; hash: string } {
  const key = `integsk_${randomBytes(32).toString('base64url')}`;
  return { key, hash: hashToken(key).toString('hex') };
}

/**
 * Svix's integrations: named keys that act on one application as an application token without
 * capabilities does, seeing the flagged event types their feature flags name. The admin's only: a
 * portal token that could mint a key would outlive its own expiry and `expire-all`.
 */
export function integrationRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;
  const base = '/api/v1/app/:app_id/integration';
  const one = `${base}/:integ_id`;

  async function integrationFor(req: FastifyRequest<{ Params: P }>): Promise<IntegrationRow> {
    requireAdmin(req);
    const app = await appFor(deps, req, req.params.app_id);
    const found = await store.getIntegration(app.id, req.params.integ_id);
    if (!found) throw notFound('integration');
    return found;
  }

  api.get<{ Params: { app_id: string }; Querystring: ListQuery }>(
    base,
    { schema: { params: params.app, querystring: query.list } },
    async (req) => {
      requireAdmin(req);
      const app = await appFor(deps, req, req.params.app_id);
      return listOut(await store.listIntegrations(app.id, req.query), integrationOut);
    },
  );

  api.post<{ Params: { app_id: string }; Body: Body }>(
    base,
    { schema: { params: params.app, body: integrationIn } },
    async (req, reply) => {
      requireAdmin(req);
      const app = await appFor(deps, req, req.params.app_id);
      const { key, hash } = newKey();
      const created = await store.createIntegration(
        {
          id: newId('integ', deps.now()),
          appId: app.id,
          name: req.body.name,
          featureFlags: req.body.featureFlags ?? null,
          key,
        },
        hash,
        deps.now(),
      );
      return reply.code(201).send(integrationOut(created));
    },
  );

  api.get<{ Params: P }>(one, { schema: { params: params.integration } }, async (req) =>
    integrationOut(await integrationFor(req)),
  );

  api.put<{ Params: P; Body: Body }>(
    one,
    { schema: { params: params.integration, body: integrationIn } },
    async (req) => {
      const i = await integrationFor(req);
      const change = { name: req.body.name, featureFlags: req.body.featureFlags ?? null };
      const updated = await store.updateIntegration(i.appId, i.id, change, deps.now());
      if (!updated) throw notFound('integration');
      return integrationOut(updated);
    },
  );

  api.delete<{ Params: P }>(one, { schema: { params: params.integration } }, async (req, reply) => {
    const i = await integrationFor(req);
    if (!(await store.deleteIntegration(i.appId, i.id))) throw notFound('integration');
    return reply.code(204).send();
  });

  // Svix 1.x's getKey: the key is handed out again (svix 2 only rotates).
  api.get<{ Params: P }>(`${one}/key`, { schema: { params: params.integration } }, async (req) => ({
    key: (await integrationFor(req)).key,
  }));

  // The previous key stops working at once. Never replayed for an Idempotency-Key: it is a credential.
  api.post<{ Params: P }>(
    `${one}/key/rotate`,
    { schema: { params: params.integration }, config: { credential: true } },
    async (req) => {
      const i = await integrationFor(req);
      const { key, hash } = newKey();
      if (!(await store.rotateIntegrationKey(i.appId, i.id, key, hash, deps.now()))) throw notFound('integration');
      return { key };
    },
  );
}
