import { OPERATIONAL_APP_ID } from '../operational.ts';
import type { ApplicationRow, TaskRow } from '../store/types.ts';
import { authorize, type Caller } from './actor.ts';
import { allPages, type ServiceDeps, windowOf } from './context.ts';
import type { Tasks } from './tasks.ts';

export type Statistics = ReturnType<typeof statisticService>;

/** Svix's usage statistics, for billing a platform's customers: the operator's. */
export function statisticService(deps: ServiceDeps, tasks: Tasks) {
  const { store } = deps;
  const customers = () => allPages((page) => store.listApplications({ ...page, exceptId: OPERATIONAL_APP_ID }));

  /**
   * `statistics.aggregateAppStats`: how many deliveries (message × endpoint) each application's
   * messages of the window made. Run as a task, as Svix does, finished before the answer.
   */
  async function usage(
    c: Caller,
    q: { appIds?: string[] | null; since: number; until: number },
  ): Promise<{ task: TaskRow; unresolvedAppIds: string[] }> {
    authorize(c.actor, 'statistics.read');
    const { since, until } = windowOf(q, deps.now());
    const apps: ApplicationRow[] = [];
    const unresolvedAppIds: string[] = [];
    if (q.appIds) {
      for (const idOrUid of new Set(q.appIds)) {
        const app = await store.getApplication(idOrUid);
        if (app && app.id !== OPERATIONAL_APP_ID) apps.push(app);
        else unresolvedAppIds.push(idOrUid);
      }
    } else apps.push(...(await customers()));
    // One store call per application: claims are answered between them.
    const appStats = [];
    for (const app of apps) {
      const messageDestinations = await store.countMessageDestinations(app.id, since, until);
      appStats.push({ appId: app.id, appUid: app.uid, messageDestinations });
    }
    const task = await tasks.finished(null, 'application.stats', {
      since: new Date(since).toISOString(),
      until: new Date(until).toISOString(),
      appStats,
    });
    return { task, unresolvedAppIds };
  }

  /**
   * Svix's aggregateEventTypes: for each application, the event types its endpoints name and
   * whether one of them takes every type (no filter). Endpoints count whether enabled or not: it
   * is what each application is set up to receive.
   */
  async function eventTypeUsage(c: Caller): Promise<TaskRow> {
    authorize(c.actor, 'statistics.read');
    const eventTypes = [];
    for (const app of await customers()) {
      const endpoints = await allPages((page) => store.listEndpoints(app.id, page));
      const named = new Set(endpoints.flatMap((e) => e.filterTypes ?? []));
      eventTypes.push({
        appId: app.id,
        explicitlySubscribedEventTypes: [...named].sort(),
        hasCatchAllEndpoint: endpoints.some((e) => e.filterTypes === null),
      });
    }
    return tasks.finished(null, 'event-type.aggregate', { event_types: eventTypes });
  }

  return { usage, eventTypeUsage };
}
