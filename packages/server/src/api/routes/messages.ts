import type { FastifyInstance } from 'fastify';
import { notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { type ApiDeps, appFor, parseTime, splitList } from '../context.ts';
import { messageIn, params, query } from '../schemas.ts';
import { listOut, messageJson, messageOut } from '../views.ts';

interface MessageBody {
  eventType: string;
  eventId?: string | null;
  payload: unknown;
  channels?: string[] | null;
  tags?: string[] | null;
  deliverAt?: string | null;
}
type ListQuery = {
  limit: number;
  iterator?: string | null;
  channel?: string;
  before?: string;
  after?: string;
  with_content?: boolean;
  event_types?: string;
};

export function messageRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  api.get<{ Params: { app_id: string }; Querystring: ListQuery }>(
    '/api/v1/app/:app_id/msg',
    { schema: { params: params.app, querystring: query.messages } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      const q = req.query;
      const page = await store.listMessages(app.id, {
        limit: q.limit,
        iterator: q.iterator ?? null,
        eventTypes: splitList(q.event_types),
        channel: q.channel,
        before: parseTime(q.before),
        after: parseTime(q.after),
      });
      return listOut(page, (m) => messageOut(m, q.with_content ?? true));
    },
  );

  api.post<{ Params: { app_id: string }; Body: MessageBody; Querystring: { with_content?: boolean } }>(
    '/api/v1/app/:app_id/msg',
    { schema: { params: params.app, body: messageIn, querystring: query.withContent } },
    async (req, reply) => {
      const app = await appFor(deps, req, req.params.app_id);
      const now = deps.now();
      const b = req.body;
      const { message, created, deliveries } = await store.createMessage(
        {
          id: newId('msg', now),
          appId: app.id,
          eventType: b.eventType,
          eventId: b.eventId ?? null,
          channels: b.channels ?? null,
          tags: b.tags ?? null,
          // Serialised once, here: these exact bytes are signed and delivered.
          payload: JSON.stringify(b.payload),
          createdAt: now,
        },
        { deliverAt: b.deliverAt ? Math.max(now, Date.parse(b.deliverAt)) : undefined },
      );
      if (deliveries > 0) deps.onEnqueued();
      // A repeated eventId answers the stored message without enqueuing it again.
      return reply
        .code(created ? 202 : 200)
        .type('application/json')
        .send(messageJson(message, req.query.with_content ?? true));
    },
  );

  api.get<{ Params: { app_id: string; msg_id: string }; Querystring: { with_content?: boolean } }>(
    '/api/v1/app/:app_id/msg/:msg_id',
    { schema: { params: params.msg, querystring: query.withContent } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      const m = await store.getMessage(app.id, req.params.msg_id);
      if (!m) throw notFound('message');
      return messageOut(m, req.query.with_content ?? true);
    },
  );
}
