import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { OPERATIONAL_APP_ID } from '../../operational.ts';
import { type ApiDeps, appFor, checkUid, requireAdmin, throttleOf } from '../context.ts';
import { applicationIn, applicationPatch, params, query } from '../schemas.ts';
import { applicationOut, listOut } from '../views.ts';

interface AppBody {
  name?: string;
  uid?: string | null;
  metadata?: Record<string, string>;
  rateLimit?: number | null;
  throttleRate?: number | null;
}
type ListQuery = { limit: number; iterator?: string | null; order?: 'ascending' | 'descending' };

export function applicationRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  api.get<{ Querystring: ListQuery }>('/api/v1/app', { schema: { querystring: query.list } }, async (req) => {
    requireAdmin(req);
    // The operator's own application (operational webhooks) is not one of the customers': left out
    // by the query (filtered from a fetched page, it left an empty page and an iterator on itself).
    const page = await store.listApplications({ ...req.query, exceptId: OPERATIONAL_APP_ID });
    return listOut(page, applicationOut);
  });

  api.post<{ Body: AppBody; Querystring: { get_if_exists?: boolean } }>(
    '/api/v1/app',
    { schema: { body: applicationIn, querystring: query.createApp } },
    async (req, reply) => {
      requireAdmin(req);
      const b = req.body;
      checkUid(b.uid, ['body', 'uid']);
      if (req.query.get_if_exists && b.uid) {
        const existing = await store.getApplication(b.uid);
        if (existing) return reply.code(200).send(applicationOut(existing));
      }
      const app = await store.createApplication(
        {
          id: newId('app', deps.now()),
          uid: b.uid ?? null,
          name: b.name as string,
          metadata: b.metadata ?? {},
          rateLimit: throttleOf(b) ?? null,
        },
        deps.now(),
      );
      return reply.code(201).send(applicationOut(app));
    },
  );

  api.get<{ Params: { app_id: string } }>('/api/v1/app/:app_id', { schema: { params: params.app } }, async (req) =>
    applicationOut(await appFor(deps, req, req.params.app_id)),
  );

  api.put<{ Params: { app_id: string }; Body: AppBody }>(
    '/api/v1/app/:app_id',
    { schema: { params: params.app, body: applicationIn } },
    async (req) => {
      // The admin's: a tenant renaming its application, or taking a uid the admin will use for
      // another customer, would receive that customer's messages.
      requireAdmin(req);
      const app = await appFor(deps, req, req.params.app_id);
      const b = req.body;
      checkUid(b.uid, ['body', 'uid']);
      const updated = await store.updateApplication(
        {
          ...app,
          name: b.name as string,
          uid: b.uid ?? null,
          metadata: b.metadata ?? {},
          rateLimit: throttleOf(b) ?? null,
        },
        deps.now(),
      );
      return applicationOut(updated);
    },
  );

  api.patch<{ Params: { app_id: string }; Body: AppBody }>(
    '/api/v1/app/:app_id',
    { schema: { params: params.app, body: applicationPatch } },
    async (req) => {
      // The admin's: a tenant renaming its application, or taking a uid the admin will use for
      // another customer, would receive that customer's messages.
      requireAdmin(req);
      const app = await appFor(deps, req, req.params.app_id);
      const b = req.body;
      checkUid(b.uid, ['body', 'uid']);
      const rate = throttleOf(b);
      const updated = await store.updateApplication(
        {
          ...app,
          name: b.name ?? app.name,
          uid: b.uid === undefined ? app.uid : b.uid,
          metadata: b.metadata ?? app.metadata,
          rateLimit: rate === undefined ? app.rateLimit : rate,
        },
        deps.now(),
      );
      return applicationOut(updated);
    },
  );

  api.delete<{ Params: { app_id: string } }>(
    '/api/v1/app/:app_id',
    { schema: { params: params.app } },
    async (req, reply) => {
      requireAdmin(req);
      const app = await appFor(deps, req, req.params.app_id);
      if (!(await store.deleteApplication(app.id))) throw notFound('application');
      deps.onWithdrawn?.({ appId: app.id });
      return reply.code(204).send();
    },
  );
}
