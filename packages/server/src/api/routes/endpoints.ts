import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { EndpointRow, StatusCode } from '../../store/types.ts';
import { Trigger } from '../../store/types.ts';
import { type ApiDeps, appFor, endpointOf, invalidField, retentionMs } from '../context.ts';
import {
  bulkReplayIn,
  endpointIn,
  endpointPatch,
  eventExampleIn,
  headersIn,
  headersPatch,
  params,
  query,
  recoverIn,
  secretRotateIn,
} from '../schemas.ts';
import { endpointOut, listOut, messageOut } from '../views.ts';
import { finishedTask } from './background-tasks.ts';
import { applyEndpointBody, checkUrl, type EndpointBody, endpointSecret } from './endpoint-input.ts';

type P = { app_id: string; endpoint_id: string };
type ListQuery = { limit: number; iterator?: string | null; order?: 'ascending' | 'descending' };

/** How long a rotated-out secret keeps signing, so receivers can switch without dropping events. */
const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;
/** Header names Svix keeps for itself or that would break delivery; refused on endpoints. */
const RESERVED_HEADERS = /^(webhook-|svix-|host$|content-length$|content-type$|transfer-encoding$|connection$)/i;

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

export function endpointRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  async function endpointFor(req: FastifyRequest<{ Params: P }>): Promise<EndpointRow> {
    return endpointOf(deps, await appFor(deps, req, req.params.app_id), req.params.endpoint_id);
  }

  async function checkTarget(e: EndpointRow): Promise<void> {
    if (e.signing === 'ed25519' && !deps.ed25519Available) {
      throw invalidField(['body', 'signatureScheme'], 'v1a needs an Ed25519 signing key, and this server has none');
    }
    checkUrl(e.url);
    await deps.checkEndpointUrl(e.url, { allowHttp: e.allowHttp });
  }

  function checkHeaders(headers: Record<string, string | null>): void {
    for (const name of Object.keys(headers)) {
      if (RESERVED_HEADERS.test(name)) throw invalidField(['body', 'headers', name], 'is reserved');
    }
  }

  api.get<{ Params: { app_id: string }; Querystring: ListQuery }>(
    '/api/v1/app/:app_id/endpoint',
    { schema: { params: params.app, querystring: query.list } },
    async (req) => {
      const app = await appFor(deps, req, req.params.app_id);
      return listOut(await store.listEndpoints(app.id, req.query), endpointOut);
    },
  );

  api.post<{ Params: { app_id: string }; Body: EndpointBody }>(
    '/api/v1/app/:app_id/endpoint',
    { schema: { params: params.app, body: endpointIn } },
    async (req, reply) => {
      const app = await appFor(deps, req, req.params.app_id);
      const now = deps.now();
      if (req.body.headers) checkHeaders(req.body.headers);
      const blank: EndpointRow = {
        id: newId('ep', now),
        appId: app.id,
        uid: null,
        url: req.body.url as string,
        description: '',
        disabled: false,
        filterTypes: null,
        channels: null,
        metadata: {},
        headers: req.body.headers ?? {},
        rateLimit: null,
        version: 1,
        secrets: [{ key: endpointSecret(req.body.secret, ['body', 'secret']), expiresAt: null }],
        signing: 'hmac',
        serverCaPem: null,
        clientCertPem: null,
        clientKeyPem: null,
        allowHttp: false,
        tlsPolicy: null,
        failingSince: null,
        createdAt: now,
        updatedAt: now,
      };
      const e = applyEndpointBody(blank, req.body, false);
      await checkTarget(e);
      const created = await store.createEndpoint(e, now);
      return reply.code(201).send(endpointOut(created));
    },
  );

  api.get<{ Params: P }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id',
    { schema: { params: params.endpoint } },
    async (req) => endpointOut(await endpointFor(req)),
  );

  for (const [method, replace] of [
    ['put', true],
    ['patch', false],
  ] as const) {
    api[method]<{ Params: P; Body: EndpointBody }>(
      '/api/v1/app/:app_id/endpoint/:endpoint_id',
      { schema: { params: params.endpoint, body: replace ? endpointIn : endpointPatch } },
      async (req) => {
        const ep = await endpointFor(req);
        const next = applyEndpointBody(ep, req.body, replace);
        if (next.url !== ep.url || next.allowHttp !== ep.allowHttp || next.signing !== ep.signing)
          await checkTarget(next);
        // Re-enabling starts a fresh failure window.
        if (ep.disabled && !next.disabled) next.failingSince = null;
        return endpointOut(await store.updateEndpoint(next, deps.now()));
      },
    );
  }

  api.delete<{ Params: P }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id',
    { schema: { params: params.endpoint } },
    async (req, reply) => {
      const ep = await endpointFor(req);
      await store.deleteEndpoint(ep.appId, ep.id);
      return reply.code(204).send();
    },
  );

  api.get<{ Params: P }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/secret',
    { schema: { params: params.endpoint } },
    async (req) => {
      const ep = await endpointFor(req);
      const current = ep.secrets.find((s) => s.expiresAt === null) ?? ep.secrets[ep.secrets.length - 1];
      return { key: current?.key ?? '' };
    },
  );

  api.post<{ Params: P; Body: { key?: string | null; gracePeriodSeconds?: number | null } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/secret/rotate',
    { schema: { params: params.endpoint, body: secretRotateIn } },
    async (req, reply) => {
      const ep = await endpointFor(req);
      const now = deps.now();
      const grace = (req.body?.gracePeriodSeconds ?? DEFAULT_ROTATION_GRACE_SECONDS) * 1000;
      const key = endpointSecret(req.body?.key, ['body', 'key']);
      // Old secrets keep signing during the grace period: receivers verify against either.
      const kept = ep.secrets
        .filter((s) => s.expiresAt === null || s.expiresAt > now)
        .map((s) => ({ key: s.key, expiresAt: s.expiresAt ?? now + grace }))
        .filter((s) => s.expiresAt > now);
      await store.updateEndpoint({ ...ep, secrets: [{ key, expiresAt: null }, ...kept].slice(0, 8) }, now);
      return reply.code(204).send();
    },
  );

  api.get<{ Params: P }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/headers',
    { schema: { params: params.endpoint } },
    async (req) => {
      const ep = await endpointFor(req);
      return { headers: ep.headers, sensitive: [] };
    },
  );

  api.put<{ Params: P; Body: { headers: Record<string, string> } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/headers',
    { schema: { params: params.endpoint, body: headersIn } },
    async (req, reply) => {
      const ep = await endpointFor(req);
      checkHeaders(req.body.headers);
      await store.updateEndpoint({ ...ep, headers: req.body.headers }, deps.now());
      return reply.code(204).send();
    },
  );

  api.patch<{ Params: P; Body: { headers: Record<string, string | null>; deleteHeaders?: string[] } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/headers',
    { schema: { params: params.endpoint, body: headersPatch } },
    async (req, reply) => {
      const ep = await endpointFor(req);
      checkHeaders(req.body.headers);
      const headers = { ...ep.headers };
      for (const [k, v] of Object.entries(req.body.headers)) {
        if (v === null) delete headers[k];
        else headers[k] = v;
      }
      for (const k of req.body.deleteHeaders ?? []) delete headers[k];
      await store.updateEndpoint({ ...ep, headers }, deps.now());
      return reply.code(204).send();
    },
  );

  api.post<{ Params: P; Body: { since: string; until?: string | null } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/recover',
    { schema: { params: params.endpoint, body: recoverIn } },
    async (req, reply) => {
      const ep = await endpointFor(req);
      const now = deps.now();
      const { since, until } = windowOf(req.body, now);
      const messages = await store.recoverEndpoint(ep.id, since, until, now);
      if (messages > 0) deps.onEnqueued();
      return reply
        .code(202)
        .send(await finishedTask(deps, ep.appId, 'endpoint.recover', { endpointId: ep.id, messages }));
    },
  );

  api.post<{ Params: P; Body: { since: string; until?: string | null } }>(
    '/api/v1/app/:app_id/endpoint/:endpoint_id/replay-missing',
    { schema: { params: params.endpoint, body: recoverIn } },
    async (req, reply) => {
      const ep = await endpointFor(req);
      const now = deps.now();
      const { since, until } = windowOf(req.body, now);
      const messages = await store.replayMissing(ep.id, since, until, now);
      if (messages > 0) deps.onEnqueued();
      return reply
        .code(202)
        .send(await finishedTask(deps, ep.appId, 'endpoint.replay', { endpointId: ep.id, messages }));
    },
  );

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
