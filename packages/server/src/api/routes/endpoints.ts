import type { FastifyInstance } from 'fastify';
import type { BulkReplayFilter } from '../../services/endpoints.ts';
import type { StatusCode } from '../../store/types.ts';
import { appOf, parseTime, type Routes } from '../context.ts';
import { bulkReplayIn, eventExampleIn, params, query, recoverIn } from '../schemas.ts';
import { messageOut, taskOut } from '../views.ts';
import { endpointCrudRoutes } from './endpoint-crud.ts';

type P = { app_id: string; endpoint_id: string };

interface BulkReplayBody {
  since: string;
  until?: string | null;
  eventTypes?: string[] | null;
  channel?: string | null;
  tag?: string | null;
  status?: StatusCode | null;
  statusCodeClass?: number | null;
}

/** The [since, until) of a recover or replay body; `until` defaults to now. */
const windowOf = (b: { since: string; until?: string | null }) => ({
  since: Date.parse(b.since),
  ...(b.until ? { until: Date.parse(b.until) } : {}),
});

export function endpointRoutes(api: FastifyInstance, r: Routes): void {
  const { services } = r;
  const eps = services.endpoints;
  const one = '/api/v1/app/:app_id/endpoint/:endpoint_id';

  endpointCrudRoutes(api, r, {
    base: '/api/v1/app/:app_id/endpoint',
    collectionSchema: { params: params.app },
    oneParams: params.endpoint,
    appOf: (req) => appOf(services, req),
  });

  // Recover (failed deliveries again) and replay-missing (messages never sent to it): one window,
  // one store call each.
  for (const [path, run, action] of [
    ['recover', eps.recover, 'endpoint.recover'],
    ['replay-missing', eps.replayMissing, 'endpoint.replay'],
  ] as const) {
    api.post<{ Params: P; Body: { since: string; until?: string | null } }>(
      `${one}/${path}`,
      { schema: { params: params.endpoint, body: recoverIn }, config: { action } },
      async (req, reply) => {
        const task = await run(req.caller, await appOf(services, req), req.params.endpoint_id, windowOf(req.body));
        return reply.code(202).send(taskOut(task));
      },
    );
  }

  api.post<{ Params: P; Body: BulkReplayBody }>(
    `${one}/bulk-replay`,
    { schema: { params: params.endpoint, body: bulkReplayIn }, config: { action: 'endpoint.replay' } },
    async (req, reply) => {
      const b = req.body;
      const f: BulkReplayFilter = {
        ...windowOf(b),
        ...(b.eventTypes ? { eventTypes: b.eventTypes } : {}),
        ...(b.channel ? { channel: b.channel } : {}),
        ...(b.tag ? { tag: b.tag } : {}),
        ...(b.status != null ? { status: b.status } : {}),
        ...(b.statusCodeClass != null ? { statusCodeClass: b.statusCodeClass } : {}),
      };
      const task = await eps.bulkReplay(req.caller, await appOf(services, req), req.params.endpoint_id, f);
      return reply.code(202).send(taskOut(task));
    },
  );

  api.post<{ Params: P; Body: { eventType: string; exampleIndex?: number } }>(
    `${one}/send-example`,
    { schema: { params: params.endpoint, body: eventExampleIn }, config: { action: 'endpoint.send-example' } },
    async (req, reply) => {
      const message = await eps.sendExample(req.caller, await appOf(services, req), req.params.endpoint_id, req.body);
      return reply.code(202).send(messageOut(message));
    },
  );

  api.get<{ Params: P; Querystring: { since?: string; until?: string } }>(
    `${one}/stats`,
    { schema: { params: params.endpoint, querystring: query.stats }, config: { action: 'endpoint.read' } },
    async (req) => {
      const w = { since: parseTime(req.query.since), until: parseTime(req.query.until) };
      return eps.stats(req.caller, await appOf(services, req), req.params.endpoint_id, w);
    },
  );
}
