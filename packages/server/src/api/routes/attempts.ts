import type { FastifyInstance } from 'fastify';
import type { AttemptFilter, AttemptRow, StatusCode } from '../../store/types.ts';
import { appOf, parseTime, type Routes, splitList } from '../context.ts';
import { params, query } from '../schemas.ts';
import { attemptOut, endpointMessageOut, listOut, messageEndpointOut, messageOut } from '../views.ts';

type Q = {
  limit: number;
  iterator?: string | null;
  status?: number;
  status_code_class?: number;
  channel?: string;
  tag?: string;
  before?: string;
  after?: string;
  event_types?: string;
  endpoint_id?: string;
  with_msg?: boolean;
  with_content?: boolean;
};
type M = { app_id: string; msg_id: string };
type E = { app_id: string; endpoint_id: string };

/** An attempt as listed: without what the receiver answered when `with_content=false` (Svix's `{}`). */
const listedAttempt = (q: Q) => (a: AttemptRow) => attemptOut(q.with_content === false ? { ...a, response: '{}' } : a);

function filterOf(q: Q): AttemptFilter {
  return {
    limit: q.limit,
    iterator: q.iterator ?? null,
    // Canceled (4) never happens here; Pending/Sending attempts are not stored rows.
    status: q.status === undefined ? undefined : (q.status as StatusCode),
    statusCodeClass: q.status_code_class,
    eventTypes: splitList(q.event_types),
    channel: q.channel,
    tag: q.tag,
    before: parseTime(q.before),
    after: parseTime(q.after),
  };
}

export function attemptRoutes(api: FastifyInstance, { services }: Routes): void {
  const attempts = services.attempts;
  const read = { action: 'attempt.read' } as const;

  api.get<{ Params: M; Querystring: Q }>(
    '/api/v1/app/:app_id/attempt/msg/:msg_id',
    { schema: { params: params.msg, querystring: query.attempts }, config: read },
    async (req) => {
      const f = { ...filterOf(req.query), ...(req.query.endpoint_id ? { endpoint: req.query.endpoint_id } : {}) };
      const page = await attempts.byMessage(req.caller, await appOf(services, req), req.params.msg_id, f);
      return listOut(page, listedAttempt(req.query));
    },
  );

  api.get<{ Params: M; Querystring: { limit: number; iterator?: string | null; order?: 'ascending' | 'descending' } }>(
    '/api/v1/app/:app_id/msg/:msg_id/endpoint',
    { schema: { params: params.msg, querystring: query.list }, config: read },
    async (req) => {
      const q = { limit: req.query.limit, iterator: req.query.iterator ?? null, order: req.query.order };
      const page = await attempts.destinations(req.caller, await appOf(services, req), req.params.msg_id, q);
      return listOut(page, messageEndpointOut);
    },
  );

  api.get<{ Params: E; Querystring: Q }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/msg',
    { schema: { params: params.endpoint, querystring: query.endpointMessages }, config: { action: 'message.read' } },
    async (req) => {
      const q = req.query;
      const page = await attempts.endpointMessages(
        req.caller,
        await appOf(services, req),
        req.params.endpoint_id,
        filterOf(q),
      );
      return listOut(page, (em) => endpointMessageOut(em, q.with_content ?? true));
    },
  );

  api.get<{ Params: E; Querystring: Q }>(
    '/api/v1/app/:app_id/attempt/endpoint/:endpoint_id',
    { schema: { params: params.endpoint, querystring: query.attempts }, config: read },
    async (req) => {
      const app = await appOf(services, req);
      const withMsg = req.query.with_msg ?? false;
      const { page, messages } = await attempts.byEndpoint(
        req.caller,
        app,
        req.params.endpoint_id,
        filterOf(req.query),
        withMsg,
      );
      const listed = listedAttempt(req.query);
      if (!withMsg) return listOut(page, listed);
      // `msg` carries the message with its payload.
      return listOut(page, (a) => {
        const m = messages.get(a.msgId);
        return { ...listed(a), msg: m ? messageOut(m) : null };
      });
    },
  );

  api.get<{ Params: M & { attempt_id: string } }>(
    '/api/v1/app/:app_id/msg/:msg_id/attempt/:attempt_id',
    { schema: { params: params.attempt }, config: read },
    async (req) =>
      attemptOut(await attempts.get(req.caller, await appOf(services, req), req.params.msg_id, req.params.attempt_id)),
  );

  api.delete<{ Params: M & { attempt_id: string } }>(
    '/api/v1/app/:app_id/msg/:msg_id/attempt/:attempt_id/content',
    { schema: { params: params.attempt }, config: { action: 'attempt.expunge' } },
    async (req, reply) => {
      await attempts.expungeResponse(req.caller, await appOf(services, req), req.params.msg_id, req.params.attempt_id);
      return reply.code(204).send();
    },
  );

  api.post<{ Params: M & { endpoint_id: string } }>(
    '/api/v1/app/:app_id/msg/:msg_id/endpoint/:endpoint_id/resend',
    { schema: { params: params.msgEndpoint }, config: { action: 'message.resend' } },
    async (req, reply) => {
      const app = await appOf(services, req);
      await services.messages.resend(req.caller, app, req.params.msg_id, req.params.endpoint_id);
      return reply.code(202).send({});
    },
  );
}
