import type { FastifyInstance } from 'fastify';
import type { Routes } from '../context.ts';
import { appUsageStatsIn } from '../schemas.ts';
import { taskOut } from '../views.ts';

/** Svix's usage statistics (services/statistics.ts), each answered as a finished task. */
export function statisticsRoutes(api: FastifyInstance, { services }: Routes): void {
  const config = { action: 'statistics.read' } as const;

  api.post<{ Body: { appIds?: string[] | null; since: string; until: string } }>(
    '/api/v1/stats/usage/app',
    { schema: { body: appUsageStatsIn }, config },
    async (req, reply) => {
      const { task, unresolvedAppIds } = await services.statistics.usage(req.caller, {
        appIds: req.body.appIds,
        since: Date.parse(req.body.since),
        until: Date.parse(req.body.until),
      });
      return reply.code(202).send({ ...taskOut(task), unresolvedAppIds });
    },
  );

  api.put('/api/v1/stats/usage/event-types', { config }, async (req, reply) =>
    reply.code(202).send(taskOut(await services.statistics.eventTypeUsage(req.caller))),
  );
}
