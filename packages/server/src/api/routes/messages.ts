import type { FastifyInstance } from 'fastify';
import type { MessageBody } from '../../services/messages.ts';
import { appOf, parseTime, type Routes, splitList } from '../context.ts';
import { bulkExpungeIn, messageIn, messagePrecheckIn, params, query } from '../schemas.ts';
import { listOut, messageJson, messageOut, taskOut } from '../views.ts';

type ListQuery = {
  limit: number;
  iterator?: string | null;
  channel?: string;
  tag?: string;
  before?: string;
  after?: string;
  with_content?: boolean;
  event_types?: string;
};
type A = { app_id: string };
type M = { app_id: string; msg_id: string };

export function messageRoutes(api: FastifyInstance, { services }: Routes): void {
  const msgs = services.messages;

  api.get<{ Params: A; Querystring: ListQuery }>(
    '/api/v1/app/:app_id/msg',
    { schema: { params: params.app, querystring: query.messages }, config: { action: 'message.read' } },
    async (req) => {
      const q = req.query;
      const page = await msgs.list(req.caller, await appOf(services, req), {
        limit: q.limit,
        iterator: q.iterator ?? null,
        eventTypes: splitList(q.event_types),
        channel: q.channel,
        tag: q.tag,
        before: parseTime(q.before),
        after: parseTime(q.after),
      });
      return listOut(page, (m) => messageOut(m, q.with_content ?? true));
    },
  );

  api.post<{ Params: A; Body: MessageBody; Querystring: { with_content?: boolean } }>(
    '/api/v1/app/:app_id/msg',
    {
      schema: { params: params.app, body: messageIn, querystring: query.withContent },
      config: { action: 'message.create' },
    },
    async (req, reply) => {
      const { message, created } = await msgs.create(req.caller, req.params.app_id, req.body);
      // A repeated eventId answers the stored message without enqueuing it again.
      return reply
        .code(created ? 202 : 200)
        .type('application/json')
        .send(messageJson(message, req.query.with_content ?? true));
    },
  );

  api.get<{ Params: M; Querystring: { with_content?: boolean } }>(
    '/api/v1/app/:app_id/msg/:msg_id',
    { schema: { params: params.msg, querystring: query.withContent }, config: { action: 'message.read' } },
    async (req) => {
      const m = await msgs.get(req.caller, await appOf(services, req), req.params.msg_id);
      return messageOut(m, req.query.with_content ?? true);
    },
  );

  api.post<{ Params: A; Body: { eventType: string; channels?: string[] | null } }>(
    '/api/v1/app/:app_id/msg/precheck/active',
    { schema: { params: params.app, body: messagePrecheckIn }, config: { action: 'message.read' } },
    async (req) => ({
      active: await msgs.precheck(
        req.caller,
        await appOf(services, req),
        req.body.eventType,
        req.body.channels ?? null,
      ),
    }),
  );

  api.post<{ Params: A }>(
    '/api/v1/app/:app_id/msg/expunge-all-contents',
    { schema: { params: params.app }, config: { action: 'application.purge' } },
    async (req, reply) => reply.code(202).send(taskOut(await msgs.expungeAll(req.caller, await appOf(services, req)))),
  );

  // Svix's bulkExpungeContent: each one's outcome is answered by the name it was given.
  api.post<{ Params: A; Body: { ids?: string[] } }>(
    '/api/v1/app/:app_id/msg/bulk-expunge',
    { schema: { params: params.app, body: bulkExpungeIn }, config: { action: 'message.expunge' } },
    async (req) => ({ results: await msgs.bulkExpunge(req.caller, await appOf(services, req), req.body?.ids ?? []) }),
  );

  api.delete<{ Params: M }>(
    '/api/v1/app/:app_id/msg/:msg_id/content',
    { schema: { params: params.msg }, config: { action: 'message.expunge' } },
    async (req, reply) => {
      await msgs.expunge(req.caller, await appOf(services, req), req.params.msg_id);
      return reply.code(204).send();
    },
  );
}
