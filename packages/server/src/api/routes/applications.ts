import type { FastifyInstance } from 'fastify';
import type { AppBody } from '../../services/applications.ts';
import type { Routes } from '../context.ts';
import { applicationIn, applicationPatch, params, query } from '../schemas.ts';
import { applicationOut, listOut } from '../views.ts';

type ListQuery = {
  limit: number;
  iterator?: string | null;
  order?: 'ascending' | 'descending';
  exclude_apps_with_no_endpoints?: boolean;
  exclude_apps_with_disabled_endpoints?: boolean;
  exclude_apps_with_svix_play_endpoints?: boolean;
};
type One = { Params: { app_id: string } };

export function applicationRoutes(api: FastifyInstance, { services }: Routes): void {
  const apps = services.applications;

  api.get<{ Querystring: ListQuery }>(
    '/api/v1/app',
    { schema: { querystring: query.applications }, config: { action: 'application.list' } },
    async (req) => {
      const q = req.query;
      // No endpoint here is a Svix Play one: that exclusion is moot.
      const page = await apps.list(req.caller, {
        limit: q.limit,
        iterator: q.iterator,
        order: q.order,
        withEndpoints: q.exclude_apps_with_no_endpoints ?? false,
        withoutOnlyDisabled: q.exclude_apps_with_disabled_endpoints ?? false,
      });
      return listOut(page, applicationOut);
    },
  );

  api.post<{ Body: AppBody; Querystring: { get_if_exists?: boolean } }>(
    '/api/v1/app',
    { schema: { body: applicationIn, querystring: query.createApp }, config: { action: 'application.create' } },
    async (req, reply) => {
      const { app, created } = await apps.create(req.caller, req.body, req.query.get_if_exists ?? false);
      return reply.code(created ? 201 : 200).send(applicationOut(app));
    },
  );

  api.get<One>(
    '/api/v1/app/:app_id',
    { schema: { params: params.app }, config: { action: 'application.read' } },
    async (req) => applicationOut(await apps.get(req.caller, req.params.app_id)),
  );

  api.put<One & { Body: AppBody }>(
    '/api/v1/app/:app_id',
    { schema: { params: params.app, body: applicationIn }, config: { action: 'application.update' } },
    async (req, reply) => {
      const { app, created } = await apps.put(req.caller, req.params.app_id, req.body);
      return reply.code(created ? 201 : 200).send(applicationOut(app));
    },
  );

  api.patch<One & { Body: AppBody }>(
    '/api/v1/app/:app_id',
    { schema: { params: params.app, body: applicationPatch }, config: { action: 'application.update' } },
    async (req) => applicationOut(await apps.patch(req.caller, req.params.app_id, req.body)),
  );

  api.delete<One>(
    '/api/v1/app/:app_id',
    { schema: { params: params.app }, config: { action: 'application.delete' } },
    async (req, reply) => {
      await apps.remove(req.caller, req.params.app_id);
      return reply.code(204).send();
    },
  );
}
