import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { EndpointRow, StatusCode } from '../../store/types.ts';
import { Trigger } from '../../store/types.ts';
import { appFor, endpointOf, invalidField, type RouteDeps, retentionMs } from '../context.ts';
import { bulkReplayIn, eventExampleIn, params, recoverIn } from '../schemas.ts';
import { messageOut } from '../views.ts';
import { finishedTask } from './background-tasks.ts';
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
function windowOf(body: { since: string; until?: string | null }, now: number): { since: number; until: number } {
  const since = Date.parse(body.since);
  const until = body.until ? Date.parse(body.until) : now + 1;
  if (until <= since) throw invalidField(['body', 'until'], 'must be after since');
  return { since, until };
}

export function endpointRoutes(api: FastifyInstance, deps: RouteDeps): void {
  const { store } = deps;

  endpointCrudRoutes(api, deps, {
    base: '/api/v1/app/:app_id/endpoint',
    collectionSchema: { params: params.app },
    oneParams: params.endpoint,
    appOf: (req) => appFor(deps, req, (req.params as { app_id: string }).app_id),
    operationalEvents: true,
  });

  async function endpointFor(req: FastifyRequest<{ Params: P }>): Promise<EndpointRow> {
    return endpointOf(deps, await appFor(deps, req, req.params.app_id), req.params.endpoint_id);
  }

  // Recover (failed deliveries again) and replay-missing (messages never sent to it): one window,
  // one store call each.
  for (const [path, task, requeue] of [
    ['recover', 'endpoint.recover', store.recoverEndpoint],
    ['replay-missing', 'endpoint.replay', store.replayMissing],
  ] as const) {
    api.post<{ Params: P; Body: { since: string; until?: string | null } }>(
      `/api/v1/app/:app_id/endpoint/:endpoint_id/${path}`,
      { schema: { params: params.endpoint, body: recoverIn } },
      async (req, reply) => {
        const ep = await endpointFor(req);
        const now = deps.now();
        const { since, until } = windowOf(req.body, now);
        const messages = await requeue.call(store, ep.id, since, until, now);
        if (messages > 0) deps.onEnqueued();
        return reply.code(202).send(await finishedTask(deps, ep.appId, task, { endpointId: ep.id, messages }));
      },
    );
  }

  api.post<{ Params: P; Body: BulkReplayBody }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/bulk-replay',
    { schema: { params: params.endpoint, body: bulkReplayIn } },
    async (req, reply) => {
      const ep = await endpointFor(req);
      const now = deps.now();
      const b = req.body;
      const replayed = await store.bulkReplay(
        ep.id,
        {
          ...windowOf(b, now),
          ...(b.eventTypes ? { eventTypes: b.eventTypes } : {}),
          ...(b.channel ? { channel: b.channel } : {}),
          ...(b.tag ? { tag: b.tag } : {}),
          ...(b.status != null ? { status: b.status } : {}),
          ...(b.statusCodeClass != null ? { statusCodeClass: b.statusCodeClass } : {}),
        },
        now,
      );
      if (replayed > 0) deps.onEnqueued();
      return reply
        .code(202)
        .send(await finishedTask(deps, ep.appId, 'endpoint.bulk-replay', { endpointId: ep.id, messages: replayed }));
    },
  );

  api.post<{ Params: P; Body: { eventType: string; exampleIndex?: number } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/send-example',
    { schema: { params: params.endpoint, body: eventExampleIn } },
    async (req, reply) => {
      const ep = await endpointFor(req);
      const now = deps.now();
      const type = await store.getEventType(req.body.eventType);
      if (!type) throw notFound('event type');
      const examples = (type.schemas as { '1'?: { examples?: unknown[] } } | null)?.['1']?.examples;
      const example = examples?.[req.body.exampleIndex ?? 0] ?? { type: type.name, data: { example: true } };
      const { message } = await store.createMessage(
        {
          id: newId('msg', now),
          appId: ep.appId,
          eventType: type.name,
          eventId: null,
          channels: null,
          tags: null,
          payload: JSON.stringify(example),
          createdAt: now,
        },
        { fanOut: false, payloadExpiresAt: now + retentionMs({}) },
      );
      await store.enqueueDelivery(message.id, ep.id, now, Trigger.manual);
      deps.onEnqueued();
      return reply.code(202).send(messageOut(message));
    },
  );
}
