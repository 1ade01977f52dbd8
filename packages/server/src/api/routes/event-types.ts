import type { FastifyInstance } from 'fastify';
import type { EventTypeBody } from '../../services/event-types.ts';
import type { Routes } from '../context.ts';
import { eventTypesFromOpenApi, specOf } from '../event-type-import.ts';
import { eventTypeImportIn, eventTypeIn, eventTypePatch, eventTypeUpdate, params, query } from '../schemas.ts';
import { eventTypeOut, listOut } from '../views.ts';

type Q = {
  limit: number;
  iterator?: string | null;
  order?: 'ascending' | 'descending';
  include_archived?: boolean;
  with_content?: boolean;
};
type N = { Params: { event_type_name: string } };
const manage = { action: 'event-type.manage' } as const;

export function eventTypeRoutes(api: FastifyInstance, { services }: Routes): void {
  const types = services.eventTypes;

  api.get<{ Querystring: Q }>(
    '/api/v1/event-type',
    { schema: { querystring: query.eventTypes }, config: { action: 'event-type.read' } },
    async (req) => {
      const { include_archived, with_content, ...page } = req.query;
      const found = await types.list(req.caller, { ...page, includeArchived: include_archived ?? false });
      return listOut(found, (t) => eventTypeOut(t, with_content ?? false));
    },
  );

  api.post<{ Body: EventTypeBody }>(
    '/api/v1/event-type',
    { schema: { body: eventTypeIn }, config: manage },
    async (req, reply) => reply.code(201).send(eventTypeOut(await types.create(req.caller, req.body))),
  );

  // Event types from an OpenAPI document's webhooks (Svix's importOpenapi).
  api.post<{ Body: { dryRun?: boolean; replaceAll?: boolean; spec?: unknown; specRaw?: string | null } }>(
    '/api/v1/event-type/import/openapi',
    { schema: { body: eventTypeImportIn }, config: manage },
    async (req) => {
      const found = eventTypesFromOpenApi(specOf(req.body));
      if (req.body.dryRun) return { data: { modified: [], to_modify: found } };
      await types.importTypes(req.caller, found, req.body.replaceAll ?? false);
      return { data: { modified: found.map((t) => t.name), to_modify: null } };
    },
  );

  api.get<N>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType }, config: { action: 'event-type.read' } },
    async (req) => eventTypeOut(await types.get(req.caller, req.params.event_type_name)),
  );

  api.put<N & { Body: EventTypeBody }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType, body: eventTypeUpdate }, config: manage },
    async (req, reply) => {
      const { type, created } = await types.put(req.caller, req.params.event_type_name, req.body);
      return reply.code(created ? 201 : 200).send(eventTypeOut(type));
    },
  );

  api.patch<N & { Body: EventTypeBody }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType, body: eventTypePatch }, config: manage },
    async (req) => eventTypeOut(await types.patch(req.caller, req.params.event_type_name, req.body)),
  );

  // Deleting archives, as Svix does; `expunge=true` deletes it for good.
  api.delete<N & { Querystring: { expunge?: boolean } }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType, querystring: query.eventTypeDelete }, config: manage },
    async (req, reply) => {
      await types.remove(req.caller, req.params.event_type_name, req.query.expunge ?? false);
      return reply.code(204).send();
    },
  );
}
