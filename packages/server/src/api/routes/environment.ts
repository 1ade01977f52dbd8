import type { FastifyInstance } from 'fastify';
import { type ApiDeps, invalidField, requireAdmin } from '../context.ts';
import { environmentIn } from '../schemas.ts';
import { eventTypeOut } from '../views.ts';
import { allEventTypes, type EventTypeBody, eventTypeFrom, putEventTypes } from './event-types.ts';

interface EnvironmentBody {
  eventTypes?: (EventTypeBody & { name: string })[];
  connectors?: unknown[] | null;
  settings?: unknown;
}

/**
 * Svix's environment export and import: the event catalogue, so that it moves between a Svix
 * environment and Hookwarden (or between servers) in one call each way. Admin token only.
 */
export function environmentRoutes(api: FastifyInstance, deps: ApiDeps): void {
  api.post('/api/v1/environment/export', async (req) => {
    requireAdmin(req);
    const types = await allEventTypes(deps.store, true);
    return {
      createdAt: new Date(deps.now()).toISOString(),
      version: 1,
      eventTypes: types.map((t) => eventTypeOut(t)),
      connectors: [],
      settings: null,
    };
  });

  api.post<{ Body: EnvironmentBody }>(
    '/api/v1/environment/import',
    { schema: { body: environmentIn } },
    async (req, reply) => {
      requireAdmin(req);
      // Connectors (transformation templates) have no equivalent here: refused, not dropped.
      if ((req.body.connectors?.length ?? 0) > 0) {
        throw invalidField(['body', 'connectors'], 'are not supported by this server');
      }
      // `settings` (Svix's dashboard and portal preferences) have no equivalent either; they change
      // nothing that is delivered and are not kept.
      await putEventTypes(deps.store, req.body.eventTypes ?? [], deps.now(), (t, existing) => ({
        ...eventTypeFrom(t.name, t),
        schemas: t.schemas ?? existing?.schemas ?? null,
      }));
      return reply.code(204).send();
    },
  );
}
