import type { FastifyInstance } from 'fastify';
import { OPERATIONAL_APP_ID } from '../../operational.ts';
import type { ApplicationRow } from '../../store/types.ts';
import { type ApiDeps, allPages, invalidField, requireAdmin } from '../context.ts';
import { appUsageStatsIn } from '../schemas.ts';
import { finishedTask } from './background-tasks.ts';

/**
 * Svix's usage statistics. `statistics.aggregateAppStats`: how many deliveries (message ×
 * endpoint) each application's messages of a window made, for billing a platform's customers. Run
 * as a task, as Svix does, and finished before the answer; its `data.appStats` holds the counts.
 */
export function statisticsRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  api.post<{ Body: { appIds?: string[] | null; since: string; until: string } }>(
    '/api/v1/stats/usage/app',
    { schema: { body: appUsageStatsIn } },
    async (req, reply) => {
      requireAdmin(req);
      const since = Date.parse(req.body.since);
      const until = Date.parse(req.body.until);
      if (until <= since) throw invalidField(['body', 'until'], 'must be after since');
      const apps: ApplicationRow[] = [];
      const unresolvedAppIds: string[] = [];
      if (req.body.appIds) {
        for (const idOrUid of new Set(req.body.appIds)) {
          const app = await store.getApplication(idOrUid);
          if (app && app.id !== OPERATIONAL_APP_ID) apps.push(app);
          else unresolvedAppIds.push(idOrUid);
        }
      } else {
        apps.push(...(await allPages((page) => store.listApplications({ ...page, exceptId: OPERATIONAL_APP_ID }))));
      }
      // One store call per application: claims are answered between them.
      const appStats = [];
      for (const app of apps) {
        const messageDestinations = await store.countMessageDestinations(app.id, since, until);
        appStats.push({ appId: app.id, appUid: app.uid, messageDestinations });
      }
      const task = await finishedTask(deps, null, 'application.stats', {
        since: new Date(since).toISOString(),
        until: new Date(until).toISOString(),
        appStats,
      });
      return reply.code(202).send({ ...task, unresolvedAppIds });
    },
  );

  // Svix's aggregateEventTypes: for each application, the event types its endpoints name and
  // whether one of them takes every type (no filter). Endpoints count whether enabled or not: it
  // is what each application is set up to receive.
  api.put('/api/v1/stats/usage/event-types', async (req, reply) => {
    requireAdmin(req);
    const apps = await allPages((page) => store.listApplications({ ...page, exceptId: OPERATIONAL_APP_ID }));
    const eventTypes = [];
    for (const app of apps) {
      const endpoints = await allPages((page) => store.listEndpoints(app.id, page));
      const named = new Set(endpoints.flatMap((e) => e.filterTypes ?? []));
      eventTypes.push({
        appId: app.id,
        explicitlySubscribedEventTypes: [...named].sort(),
        hasCatchAllEndpoint: endpoints.some((e) => e.filterTypes === null),
      });
    }
    const task = await finishedTask(deps, null, 'event-type.aggregate', { event_types: eventTypes });
    return reply.code(202).send(task);
  });
}
