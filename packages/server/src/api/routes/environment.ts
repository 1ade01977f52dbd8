import type { FastifyInstance } from 'fastify';
import type { EventTypeBody } from '../../services/event-types.ts';
import type { Routes } from '../context.ts';
import { environmentIn } from '../schemas.ts';
import { eventTypeOut } from '../views.ts';

interface EnvironmentBody {
  eventTypes?: (EventTypeBody & { name: string })[];
  connectors?: unknown[] | null;
  settings?: unknown;
}

/**
 * Svix's environment export and import: the event catalogue, so that it moves between a Svix
 * environment and Hookwarden (or between servers) in one call each way. Admin token only.
 */
export function environmentRoutes(api: FastifyInstance, { services }: Routes): void {
  const config = { action: 'environment.manage' } as const;

  api.post('/api/v1/environment/export', { config }, async (req) => ({
    createdAt: new Date(services.deps.now()).toISOString(),
    version: 1,
    eventTypes: (await services.eventTypes.exportAll(req.caller)).map((t) => eventTypeOut(t)),
    connectors: [],
    settings: null,
  }));

  // `settings` (Svix's dashboard and portal preferences) have no equivalent; they change nothing
  // that is delivered and are not kept.
  api.post<{ Body: EnvironmentBody }>(
    '/api/v1/environment/import',
    { schema: { body: environmentIn }, config },
    async (req, reply) => {
      const b = req.body;
      await services.eventTypes.importEnvironment(req.caller, b.eventTypes ?? [], b.connectors?.length ?? 0);
      return reply.code(204).send();
    },
  );
}
