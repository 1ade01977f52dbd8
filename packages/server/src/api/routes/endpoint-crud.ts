import type { FastifyInstance, FastifyRequest } from 'fastify';
import { DeliveryError } from '../../delivery/errors.ts';
import { isConnectionHeader } from '../../delivery/headers.ts';
import { notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import type { OperationalEvent } from '../../operational.ts';
import { newEndpoint } from '../../store/new-endpoint.ts';
import type { ApplicationRow, EndpointRow } from '../../store/types.ts';
import { endpointOf, invalidField, type RouteDeps } from '../context.ts';
import { endpointIn, endpointPatch, headersIn, headersPatch, query, secretRotateIn } from '../schemas.ts';
import { endpointOut, listOut } from '../views.ts';
import { applyEndpointBody, checkUrl, type EndpointBody, endpointSecret } from './endpoint-input.ts';

type P = { endpoint_id: string };
type ListQuery = { limit: number; iterator?: string | null; order?: 'ascending' | 'descending' };

/** Header names that carry a credential: their values are never read back. */
export const SENSITIVE_HEADER =
  /^(cookie|x-api-key)$|auth|token|secret|passw|api[-_]?key|session|credential|signature/i;
/** An endpoint id of ours (`ep_` and 26 base-32 digits). */
const ENDPOINT_ID = /^ep_[0-9A-Z]{26}$/;
/** How long a rotated-out secret keeps signing, so receivers can switch without dropping events. */
const DEFAULT_ROTATION_GRACE_SECONDS = 24 * 3600;
/**
 * Header names the signature scheme (Standard Webhooks, Svix) and the JSON body own (a
 * Content-Encoding would tell the receiver to decode a body that is plain JSON); refused on endpoints.
 */
const SIGNED_HEADERS = /^(webhook-|svix-|content-)/i;

/**
 * Where a set of endpoint routes is mounted: under each application (`/api/v1/app/:app_id/endpoint`)
 * or under the operator's own (`/api/v1/operational-webhook/endpoint`). The same handlers serve both.
 */
export interface EndpointMount {
  /** The collection's path. */
  base: string;
  /** The collection's path-parameter schema, if it has parameters. */
  collectionSchema: { params?: object };
  /** The schema of one endpoint's path parameters. */
  oneParams: object;
  /** The application the request acts on, once the caller may act on it. */
  appOf(req: FastifyRequest): Promise<ApplicationRow>;
  /** Whether changes raise operational events (not for the operator's own endpoints). */
  operationalEvents: boolean;
}

/** List, create, read, change and delete endpoints, their secrets and their headers. */
export function endpointCrudRoutes(api: FastifyInstance, deps: RouteDeps, m: EndpointMount): void {
  const { store } = deps;

  async function endpointFor(req: FastifyRequest<{ Params: P }>): Promise<EndpointRow> {
    return endpointOf(deps, await m.appOf(req), req.params.endpoint_id);
  }

  /** Stores a change, and tells the dispatcher, whose claimed rows must go out as it now is. */
  async function save(e: EndpointRow, now: number): Promise<EndpointRow> {
    const stored = await store.updateEndpoint(e, now);
    deps.onEndpointChanged?.(stored);
    return stored;
  }

  /** Queues an operational event. The change it tells of is stored already: a failure is logged. */
  async function tell(req: FastifyRequest, e: OperationalEvent): Promise<void> {
    if (!m.operationalEvents) return;
    try {
      await deps.operational.emit(e);
    } catch (err) {
      req.log.error({ err, event: e.type }, 'operational event not queued');
    }
  }

  async function checkTarget(req: FastifyRequest, e: EndpointRow): Promise<void> {
    if (e.signing === 'ed25519' && !deps.ed25519Available) {
      throw invalidField(['body', 'signatureScheme'], 'v1a needs an Ed25519 signing key, and this server has none');
    }
    checkUrl(e.url);
    try {
      await deps.checkEndpointUrl(e.url, { allowHttp: e.allowHttp });
    } catch (err) {
      // The answer leaves out what the caller may not learn (where an internal name points); the
      // operator's log keeps it.
      if (!(err instanceof DeliveryError)) throw err;
      if (err.logDetail) req.log.info({ code: err.code, logDetail: err.logDetail }, 'endpoint URL refused');
      throw err.status === 422 ? invalidField(['body', 'url'], err.message, err.code) : err;
    }
  }

  function checkHeaders(headers: Record<string, string | null>): void {
    for (const [name, value] of Object.entries(headers)) {
      // Removing is always allowed: an endpoint stored before a name was refused can drop it.
      if (value === null) continue;
      // The delivery client's own list: it would refuse every attempt that carried this header.
      if (isConnectionHeader(name)) {
        throw invalidField(
          ['body', 'headers', name],
          'is reserved: a connection header the delivery client sets itself',
        );
      }
      if (SIGNED_HEADERS.test(name)) throw invalidField(['body', 'headers', name], 'is reserved');
    }
  }

  api.get<{ Params: Record<string, string>; Querystring: ListQuery }>(
    m.base,
    { schema: { ...m.collectionSchema, querystring: query.list } },
    async (req) => {
      const app = await m.appOf(req);
      return listOut(await store.listEndpoints(app.id, req.query), endpointOut);
    },
  );

  /** A new endpoint of `app` from a create body, told to the operator's endpoints. */
  async function create(req: FastifyRequest, app: ApplicationRow, body: EndpointBody): Promise<EndpointRow> {
    const now = deps.now();
    if (body.headers) checkHeaders(body.headers);
    const blank: EndpointRow = {
      ...newEndpoint({
        id: newId('ep', now),
        appId: app.id,
        url: body.url as string,
        secret: endpointSecret(body.secret, ['body', 'secret']),
      }),
      headers: body.headers ?? {},
      failingSince: null,
      createdAt: now,
      updatedAt: now,
    };
    const e = applyEndpointBody(blank, body, false);
    await checkTarget(req, e);
    const created = await store.createEndpoint(e, now);
    await tell(req, { type: 'endpoint.created', app, endpoint: created });
    return created;
  }

  api.post<{ Params: Record<string, string>; Body: EndpointBody }>(
    m.base,
    { schema: { ...m.collectionSchema, body: endpointIn } },
    async (req, reply) => reply.code(201).send(endpointOut(await create(req, await m.appOf(req), req.body))),
  );

  /**
   * Svix's upsert (1.x SDKs' update): a PUT naming no endpoint creates it, with the path as its uid.
   * A path shaped like an endpoint id names one that is missing, not a uid to create (404).
   */
  async function upsert(req: FastifyRequest<{ Params: P; Body: EndpointBody }>, app: ApplicationRow) {
    const path = req.params.endpoint_id;
    if (ENDPOINT_ID.test(path)) throw notFound('endpoint');
    if (req.body.uid != null && req.body.uid !== path) {
      throw invalidField(['body', 'uid'], 'must be the uid the path names');
    }
    return create(req, app, { ...req.body, uid: path });
  }

  api.get<{ Params: P }>(`${m.base}/:endpoint_id`, { schema: { params: m.oneParams } }, async (req) =>
    endpointOut(await endpointFor(req)),
  );

  for (const [method, replace] of [
    ['put', true],
    ['patch', false],
  ] as const) {
    api[method]<{ Params: P; Body: EndpointBody }>(
      `${m.base}/:endpoint_id`,
      { schema: { params: m.oneParams, body: replace ? endpointIn : endpointPatch } },
      async (req, reply) => {
        const app = await m.appOf(req);
        const ep = await store.getEndpoint(app.id, req.params.endpoint_id);
        if (!ep) {
          if (replace) return reply.code(201).send(endpointOut(await upsert(req, app)));
          throw notFound('endpoint');
        }
        const next = applyEndpointBody(ep, req.body, replace, ep.uid === req.params.endpoint_id ? ep.uid : undefined);
        if (next.url !== ep.url || next.allowHttp !== ep.allowHttp || next.signing !== ep.signing)
          await checkTarget(req, next);
        // Re-enabling starts a fresh failure window.
        if (ep.disabled && !next.disabled) next.failingSince = null;
        const updated = await save(next, deps.now());
        await tell(req, { type: 'endpoint.updated', app, endpoint: updated });
        if (!ep.disabled && updated.disabled)
          await tell(req, { type: 'endpoint.disabled', app, endpoint: updated, trigger: 'manual' });
        return endpointOut(updated);
      },
    );
  }

  api.delete<{ Params: P }>(`${m.base}/:endpoint_id`, { schema: { params: m.oneParams } }, async (req, reply) => {
    const app = await m.appOf(req);
    const ep = await endpointOf(deps, app, req.params.endpoint_id);
    await store.deleteEndpoint(ep.appId, ep.id);
    deps.onWithdrawn?.({ endpointId: ep.id });
    await tell(req, { type: 'endpoint.deleted', app, endpoint: ep });
    return reply.code(204).send();
  });

  api.get<{ Params: P }>(`${m.base}/:endpoint_id/secret`, { schema: { params: m.oneParams } }, async (req) => {
    const ep = await endpointFor(req);
    const current = ep.secrets.find((s) => s.expiresAt === null) ?? ep.secrets[ep.secrets.length - 1];
    return { key: current?.key ?? '' };
  });

  api.post<{ Params: P; Body: { key?: string | null; gracePeriodSeconds?: number | null } }>(
    `${m.base}/:endpoint_id/secret/rotate`,
    { schema: { params: m.oneParams, body: secretRotateIn } },
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
      await save({ ...ep, secrets: [{ key, expiresAt: null }, ...kept].slice(0, 8) }, now);
      return reply.code(204).send();
    },
  );

  api.get<{ Params: P }>(`${m.base}/:endpoint_id/headers`, { schema: { params: m.oneParams } }, async (req) => {
    const ep = await endpointFor(req);
    // Svix's EndpointHeadersOut: credential-like headers are left out of `headers` and named in
    // `sensitive` (a PATCH that does not name them keeps them).
    const sensitive = Object.keys(ep.headers).filter((name) => SENSITIVE_HEADER.test(name));
    const shown = Object.fromEntries(Object.entries(ep.headers).filter(([name]) => !sensitive.includes(name)));
    return { headers: shown, sensitive };
  });

  api.put<{ Params: P; Body: { headers: Record<string, string> } }>(
    `${m.base}/:endpoint_id/headers`,
    { schema: { params: m.oneParams, body: headersIn } },
    async (req, reply) => {
      const ep = await endpointFor(req);
      checkHeaders(req.body.headers);
      await save({ ...ep, headers: req.body.headers }, deps.now());
      return reply.code(204).send();
    },
  );

  api.patch<{ Params: P; Body: { headers: Record<string, string | null>; deleteHeaders?: string[] } }>(
    `${m.base}/:endpoint_id/headers`,
    { schema: { params: m.oneParams, body: headersPatch } },
    async (req, reply) => {
      const ep = await endpointFor(req);
      checkHeaders(req.body.headers);
      const headers = { ...ep.headers };
      for (const [k, v] of Object.entries(req.body.headers)) {
        if (v === null) delete headers[k];
        else headers[k] = v;
      }
      for (const k of req.body.deleteHeaders ?? []) delete headers[k];
      await save({ ...ep, headers }, deps.now());
      return reply.code(204).send();
    },
  );
}
