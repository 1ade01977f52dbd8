import type { FastifyInstance } from 'fastify';
import type { CircuitView } from '../../dispatcher/endpoint-gate.ts';
import { conflict, notFound, ServerError } from '../../errors.ts';
import type { AttemptFilter, AttemptRow, MessageRow, StatusCode } from '../../store/types.ts';
import { Trigger } from '../../store/types.ts';
import { type ApiDeps, appFor, endpointOf, messageOf, parseTime, splitList } from '../context.ts';
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

export function attemptRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  api.get<{ Params: { app_id: string; msg_id: string }; Querystring: Q }>(
    '/api/v1/app/:app_id/attempt/msg/:msg_id',
    { schema: { params: params.msg, querystring: query.attempts } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      const msg = await messageOf(deps, app, req.params.msg_id);
      // The endpoint filter takes an id or a uid, and is part of the query: filtered afterwards,
      // pages came back short or empty with more to come.
      const f = filterOf(req.query);
      if (req.query.endpoint_id) {
        const ep = await store.getEndpoint(app.id, req.query.endpoint_id);
        if (!ep) return listOut({ data: [], done: true, iterator: null, prevIterator: null }, attemptOut);
        f.endpointId = ep.id;
      }
      const page = await store.listAttemptsByMessage(app.id, msg.id, f);
      return listOut(page, listedAttempt(req.query));
    },
  );

  // Svix's listAttemptedDestinations: where the message went, and how each delivery stands.
  api.get<{
    Params: { app_id: string; msg_id: string };
    Querystring: { limit: number; iterator?: string | null; order?: 'ascending' | 'descending' };
  }>(
    '/api/v1/app/:app_id/msg/:msg_id/endpoint',
    { schema: { params: params.msg, querystring: query.list } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      const msg = await messageOf(deps, app, req.params.msg_id);
      const page = await store.listMessageDestinations(
        app.id,
        msg.id,
        { limit: req.query.limit, iterator: req.query.iterator ?? null, order: req.query.order },
        deps.now(),
      );
      return listOut(page, messageEndpointOut);
    },
  );

  // Svix's listAttemptedMessages: what was sent to the endpoint, newest first, and how each stands.
  api.get<{ Params: { app_id: string; endpoint_id: string }; Querystring: Q & { with_content?: boolean } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/msg',
    { schema: { params: params.endpoint, querystring: query.endpointMessages } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      const ep = await endpointOf(deps, app, req.params.endpoint_id);
      const q = req.query;
      const page = await store.listEndpointMessages(app.id, ep.id, filterOf(q), deps.now());
      return listOut(page, (em) => endpointMessageOut(em, q.with_content ?? true));
    },
  );

  api.get<{ Params: { app_id: string; endpoint_id: string }; Querystring: { since?: string; until?: string } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/stats',
    { schema: { params: params.endpoint, querystring: query.stats } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      const ep = await endpointOf(deps, app, req.params.endpoint_id);
      const stats = await store.endpointStats(
        ep.id,
        { since: parseTime(req.query.since), until: parseTime(req.query.until) },
        deps.now(),
      );
      const circuit = deps.circuitOf?.(ep.id);
      return circuit ? { ...stats, circuit: circuitOut(circuit) } : stats;
    },
  );

  api.get<{ Params: { app_id: string; endpoint_id: string }; Querystring: Q }>(
    '/api/v1/app/:app_id/attempt/endpoint/:endpoint_id',
    { schema: { params: params.endpoint, querystring: query.attempts } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      const ep = await endpointOf(deps, app, req.params.endpoint_id);
      const page = await store.listAttemptsByEndpoint(app.id, ep.id, filterOf(req.query));
      const listed = listedAttempt(req.query);
      if (!req.query.with_msg) return listOut(page, listed);
      // `msg` carries the message with its payload, one lookup per message on the page.
      const messages = new Map<string, MessageRow | undefined>();
      for (const a of page.data) {
        if (!messages.has(a.msgId)) messages.set(a.msgId, await store.getMessage(app.id, a.msgId));
      }
      return listOut(page, (a) => {
        const m = messages.get(a.msgId);
        return { ...listed(a), msg: m ? messageOut(m) : null };
      });
    },
  );

  api.get<{ Params: { app_id: string; msg_id: string; attempt_id: string } }>(
    '/api/v1/app/:app_id/msg/:msg_id/attempt/:attempt_id',
    { schema: { params: params.attempt } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      const msg = await messageOf(deps, app, req.params.msg_id);
      const a = await store.getAttempt(app.id, msg.id, req.params.attempt_id);
      if (!a) throw notFound('attempt');
      return attemptOut(a);
    },
  );

  // Deletes what the receiver answered (an endpoint that echoed something sensitive).
  api.delete<{ Params: { app_id: string; msg_id: string; attempt_id: string } }>(
    '/api/v1/app/:app_id/msg/:msg_id/attempt/:attempt_id/content',
    { schema: { params: params.attempt } },
    async (req, reply) => {
      const app = await appFor(deps, req, req.params.app_id);
      const msg = await messageOf(deps, app, req.params.msg_id);
      if (!(await store.expungeAttemptResponse(app.id, msg.id, req.params.attempt_id))) throw notFound('attempt');
      return reply.code(204).send();
    },
  );

  api.post<{ Params: { app_id: string; msg_id: string; endpoint_id: string } }>(
    '/api/v1/app/:app_id/msg/:msg_id/endpoint/:endpoint_id/resend',
    { schema: { params: params.msgEndpoint } },
    async (req, reply) => {
      const app = await appFor(deps, req, req.params.app_id);
      const msg = await messageOf(deps, app, req.params.msg_id);
      const ep = await endpointOf(deps, app, req.params.endpoint_id);
      if (msg.expungedAt !== undefined) {
        throw new ServerError('HW_PAYLOAD_EXPUNGED', "the message's payload was deleted: it cannot be resent", {
          status: 400,
        });
      }
      await store.enqueueDelivery(msg.id, ep.id, deps.now(), Trigger.manual);
      deps.onEnqueued();
      return reply.code(202).send({});
    },
  );
}

/** The `circuit` of an endpoint's stats (a Hookwarden extension): how the dispatcher treats it now. */
function circuitOut(c: CircuitView & { inFlight: number }) {
  return {
    state: c.state,
    concurrencyLimit: c.concurrencyLimit,
    inFlight: c.inFlight,
    consecutiveFailures: c.consecutiveFailures,
    slow: c.slow,
    openUntil: c.openUntil === undefined ? null : new Date(c.openUntil).toISOString(),
    openedBy: c.openedBy ?? null,
  };
}
