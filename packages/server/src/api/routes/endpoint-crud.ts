import type { FastifyInstance, FastifyRequest } from 'fastify';
import type { Action } from '../../services/actor.ts';
import type { EndpointBody } from '../../services/endpoint-input.ts';
import type { ApplicationRow } from '../../store/types.ts';
import type { Routes } from '../context.ts';
import { endpointIn, endpointPatch, headersIn, headersPatch, query, secretRotateIn } from '../schemas.ts';
import { endpointOut, listOut } from '../views.ts';

type P = { endpoint_id: string };
type ListQuery = { limit: number; iterator?: string | null; order?: 'ascending' | 'descending' };

/**
 * Where a set of endpoint routes is mounted: under each application (`/api/v1/app/:app_id/endpoint`)
 * or under the operator's own (`/api/v1/operational-webhook/endpoint`). The same handlers serve both.
 */
export interface EndpointMount {
  /** The collection's path. */
  base: string;
  /** The collection's path-parameter schema, if it has parameters. */
  collectionSchema: { params?: object };
  /** The schema of one endpoint's path parameters. */
  oneParams: object;
  /** The application the request acts on, once the caller may act on it. */
  appOf(req: FastifyRequest): Promise<ApplicationRow>;
  /** The action a mount requires instead of each route's own (the operator's endpoints). */
  action?: Action;
}

/** List, create, read, change and delete endpoints, their secrets and their headers. */
export function endpointCrudRoutes(api: FastifyInstance, { services }: Routes, m: EndpointMount): void {
  const eps = services.endpoints;
  const config = (action: Action) => ({ action: m.action ?? action });
  const one = `${m.base}/:endpoint_id`;
  const ep = (req: FastifyRequest) => (req.params as P).endpoint_id;

  api.get<{ Querystring: ListQuery }>(
    m.base,
    { schema: { ...m.collectionSchema, querystring: query.list }, config: config('endpoint.read') },
    async (req) => listOut(await eps.list(req.caller, await m.appOf(req), req.query), endpointOut),
  );

  api.post<{ Body: EndpointBody }>(
    m.base,
    { schema: { ...m.collectionSchema, body: endpointIn }, config: config('endpoint.manage') },
    async (req, reply) => reply.code(201).send(endpointOut(await eps.create(req.caller, await m.appOf(req), req.body))),
  );

  api.get<{ Params: P }>(one, { schema: { params: m.oneParams }, config: config('endpoint.read') }, async (req) =>
    endpointOut(await eps.get(req.caller, await m.appOf(req), ep(req))),
  );

  // Svix's upsert (1.x SDKs' update): a PUT naming no endpoint creates it, with the path as its uid.
  api.put<{ Params: P; Body: EndpointBody }>(
    one,
    { schema: { params: m.oneParams, body: endpointIn }, config: config('endpoint.manage') },
    async (req, reply) => {
      const { endpoint, created } = await eps.put(req.caller, await m.appOf(req), ep(req), req.body);
      return reply.code(created ? 201 : 200).send(endpointOut(endpoint));
    },
  );

  api.patch<{ Params: P; Body: EndpointBody }>(
    one,
    { schema: { params: m.oneParams, body: endpointPatch }, config: config('endpoint.manage') },
    async (req) => endpointOut(await eps.patch(req.caller, await m.appOf(req), ep(req), req.body)),
  );

  api.delete<{ Params: P }>(
    one,
    { schema: { params: m.oneParams }, config: config('endpoint.manage') },
    async (req, reply) => {
      await eps.remove(req.caller, await m.appOf(req), ep(req));
      return reply.code(204).send();
    },
  );

  api.get<{ Params: P }>(
    `${one}/secret`,
    { schema: { params: m.oneParams }, config: config('endpoint.secret.read') },
    async (req) => ({ key: await eps.secret(req.caller, await m.appOf(req), ep(req)) }),
  );

  api.post<{ Params: P; Body: { key?: string | null; gracePeriodSeconds?: number | null } }>(
    `${one}/secret/rotate`,
    { schema: { params: m.oneParams, body: secretRotateIn }, config: config('endpoint.secret.rotate') },
    async (req, reply) => {
      await eps.rotateSecret(req.caller, await m.appOf(req), ep(req), req.body ?? {});
      return reply.code(204).send();
    },
  );

  api.get<{ Params: P }>(
    `${one}/headers`,
    { schema: { params: m.oneParams }, config: config('endpoint.headers.read') },
    async (req) => eps.headers(req.caller, await m.appOf(req), ep(req)),
  );

  api.put<{ Params: P; Body: { headers: Record<string, string> } }>(
    `${one}/headers`,
    { schema: { params: m.oneParams, body: headersIn }, config: config('endpoint.headers.write') },
    async (req, reply) => {
      await eps.changeHeaders(req.caller, await m.appOf(req), ep(req), req.body.headers, { replace: true });
      return reply.code(204).send();
    },
  );

  api.patch<{ Params: P; Body: { headers: Record<string, string | null>; deleteHeaders?: string[] } }>(
    `${one}/headers`,
    { schema: { params: m.oneParams, body: headersPatch }, config: config('endpoint.headers.write') },
    async (req, reply) => {
      const b = req.body;
      await eps.changeHeaders(req.caller, await m.appOf(req), ep(req), b.headers, {
        replace: false,
        ...(b.deleteHeaders ? { remove: b.deleteHeaders } : {}),
      });
      return reply.code(204).send();
    },
  );
}
