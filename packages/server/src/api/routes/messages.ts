import type { FastifyInstance } from 'fastify';
import { newId } from '../../ids.ts';
import { type ApiDeps, appFor, messageOf, parseTime, requireAdmin, retentionMs, splitList } from '../context.ts';
import { bulkExpungeIn, messageIn, messagePrecheckIn, params, query } from '../schemas.ts';
import { listOut, messageJson, messageOut } from '../views.ts';
import { type AppBody, appOrCreate } from './applications.ts';
import { finishedTask } from './background-tasks.ts';

interface MessageBody {
  application?: AppBody | null;
  eventType: string;
  eventId?: string | null;
  payloadRetentionPeriod?: number | null;
  payloadRetentionHours?: number | null;
  payload: unknown;
  channels?: string[] | null;
  tags?: string[] | null;
  deliverAt?: string | null;
}
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

/** Messages expunged per store call when a whole application's payloads go. */
const PURGE_BATCH = 500;

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
        tag: q.tag,
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
      const b = req.body;
      // Svix's MessageIn.application: the application is created first if the path names none yet.
      const { app } = await appOrCreate(deps, req, req.params.app_id, b.application, ['body', 'application']);
      const now = deps.now();
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
        {
          deliverAt: b.deliverAt ? Math.max(now, Date.parse(b.deliverAt)) : undefined,
          payloadExpiresAt: now + retentionMs(b),
        },
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
      const m = await messageOf(deps, app, req.params.msg_id);
      return messageOut(m, req.query.with_content ?? true);
    },
  );

  // Whether a message would go anywhere, so a sender can skip building one nobody receives.
  api.post<{ Params: { app_id: string }; Body: { eventType: string; channels?: string[] | null } }>(
    '/api/v1/app/:app_id/msg/precheck/active',
    { schema: { params: params.app, body: messagePrecheckIn } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      return { active: await deps.store.hasActiveEndpoint(app.id, req.body.eventType, req.body.channels ?? null) };
    },
  );

  // Every payload of the application (its customer leaves, say), in batches so that deliveries'
  // claims are answered between them. The admin's call: it cannot be undone.
  api.post<{ Params: { app_id: string } }>(
    '/api/v1/app/:app_id/msg/expunge-all-contents',
    { schema: { params: params.app } },
    async (req, reply) => {
      requireAdmin(req);
      const app = await appFor(deps, req, req.params.app_id);
      const now = deps.now();
      let after: string | null = null;
      do after = await deps.store.expungeApplicationPayloads(app.id, after, PURGE_BATCH, now);
      while (after !== null);
      deps.onWithdrawn?.({ appId: app.id });
      return reply.code(202).send(await finishedTask(deps, app.id, 'application.purge_content', {}));
    },
  );

  // Svix's bulkExpungeContent: the payloads of the messages named (ids or eventIds), each as
  // `DELETE …/content` deletes one; each one's outcome is answered by the name it was given.
  api.post<{ Params: { app_id: string }; Body: { ids?: string[] } }>(
    '/api/v1/app/:app_id/msg/bulk-expunge',
    { schema: { params: params.app, body: bulkExpungeIn } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      const results: Record<string, 'expunged' | 'not-found'> = {};
      for (const name of req.body?.ids ?? []) {
        const m = await deps.store.getMessage(app.id, name);
        if (m) {
          await deps.store.expungeMessage(app.id, m.id, deps.now());
          deps.onWithdrawn?.({ msgId: m.id });
        }
        results[name] = m ? 'expunged' : 'not-found';
      }
      return { results };
    },
  );

  // Deletes the payload (sent by mistake with something sensitive): it becomes `{}`, and the
  // message is delivered, retried and resent no more.
  api.delete<{ Params: { app_id: string; msg_id: string } }>(
    '/api/v1/app/:app_id/msg/:msg_id/content',
    { schema: { params: params.msg } },
    async (req, reply) => {
      const app = await appFor(deps, req, req.params.app_id);
      const m = await messageOf(deps, app, req.params.msg_id);
      await deps.store.expungeMessage(app.id, m.id, deps.now());
      deps.onWithdrawn?.({ msgId: m.id });
      return reply.code(204).send();
    },
  );
}
