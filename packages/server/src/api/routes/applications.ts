import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound } from '../../errors.ts';
import { newId } from '../../ids.ts';
import { OPERATIONAL_APP_ID } from '../../operational.ts';
import type { ApplicationRow, NewApplication } from '../../store/types.ts';
import { type ApiDeps, appFor, checkUid, invalidField, requireAdmin, throttleOf, uidRefusal } from '../context.ts';
import { applicationIn, applicationPatch, params, query, UID_PATTERN } from '../schemas.ts';
import { applicationOut, listOut } from '../views.ts';

/** Svix's ApplicationIn, as the schema admits it. */
export interface AppBody {
  name?: string;
  uid?: string | null;
  metadata?: Record<string, string>;
  rateLimit?: number | null;
  throttleRate?: number | null;
}

/** The row a new application is created from; `at` locates the body's fields for errors. */
function newApplication(deps: ApiDeps, b: AppBody, uid: string | null, at: string[]): NewApplication {
  return {
    id: newId('app', deps.now()),
    uid,
    name: b.name as string,
    metadata: b.metadata ?? {},
    rateLimit: throttleOf(b, at) ?? null,
  };
}

const UID = new RegExp(UID_PATTERN);

/**
 * The application the path names, created from `given` if it does not exist yet: Svix's upsert, and
 * its `application` given inline with a message or a portal-access request. Only the admin token
 * creates; the new application's uid is the path's (another uid in `given` is refused), and a path
 * that could not be a uid (shaped like an application id, or reserved) is refused with a 422.
 */
export async function appOrCreate(
  deps: ApiDeps,
  req: FastifyRequest,
  idOrUid: string,
  given: AppBody | null | undefined,
  at: string[],
): Promise<{ app: ApplicationRow; created: boolean }> {
  const exists = async () => ({ app: await appFor(deps, req, idOrUid), created: false });
  if (!given || req.scope.kind !== 'admin' || (await deps.store.getApplication(idOrUid))) {
    return exists();
  }
  if (given.uid != null && given.uid !== idOrUid) throw invalidField([...at, 'uid'], 'must be the uid the path names');
  if (!UID.test(idOrUid) || uidRefusal(idOrUid) !== undefined) {
    throw invalidField(['path', 'app_id'], 'names no application, and is not a uid one could be created with');
  }
  try {
    return {
      app: await deps.store.createApplication(newApplication(deps, given, idOrUid, at), deps.now()),
      created: true,
    };
  } catch (err) {
    // Created meanwhile by a concurrent request: that one is used.
    if ((err as { code?: string }).code === 'HW_CONFLICT') return exists();
    throw err;
  }
}
type ListQuery = {
  limit: number;
  iterator?: string | null;
  order?: 'ascending' | 'descending';
  exclude_apps_with_no_endpoints?: boolean;
  exclude_apps_with_disabled_endpoints?: boolean;
  exclude_apps_with_svix_play_endpoints?: boolean;
};

export function applicationRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  api.get<{ Querystring: ListQuery }>('/api/v1/app', { schema: { querystring: query.applications } }, async (req) => {
    requireAdmin(req);
    const q = req.query;
    // The operator's own application (operational webhooks) is not one of the customers': left out
    // by the query (filtered from a fetched page, it left an empty page and an iterator on itself),
    // as are those the exclusions name. No endpoint here is a Svix Play one: that exclusion is moot.
    const page = await store.listApplications({
      limit: q.limit,
      iterator: q.iterator,
      order: q.order,
      exceptId: OPERATIONAL_APP_ID,
      withEndpoints: q.exclude_apps_with_no_endpoints ?? false,
      withoutOnlyDisabled: q.exclude_apps_with_disabled_endpoints ?? false,
    });
    return listOut(page, applicationOut);
  });

  api.post<{ Body: AppBody; Querystring: { get_if_exists?: boolean } }>(
    '/api/v1/app',
    { schema: { body: applicationIn, querystring: query.createApp } },
    async (req, reply) => {
      requireAdmin(req);
      const b = req.body;
      checkUid(b.uid, ['body', 'uid']);
      if (req.query.get_if_exists && b.uid) {
        const existing = await store.getApplication(b.uid);
        if (existing) return reply.code(200).send(applicationOut(existing));
      }
      const app = await store.createApplication(newApplication(deps, b, b.uid ?? null, ['body']), deps.now());
      return reply.code(201).send(applicationOut(app));
    },
  );

  api.get<{ Params: { app_id: string } }>('/api/v1/app/:app_id', { schema: { params: params.app } }, async (req) =>
    applicationOut(await appFor(deps, req, req.params.app_id)),
  );

  // Svix's upsert (1.x SDKs' update): the application the path names is created when missing.
  api.put<{ Params: { app_id: string }; Body: AppBody }>(
    '/api/v1/app/:app_id',
    { schema: { params: params.app, body: applicationIn } },
    async (req, reply) => {
      // The admin's: a tenant renaming its application, or taking a uid the admin will use for
      // another customer, would receive that customer's messages.
      requireAdmin(req);
      const b = req.body;
      const { app, created } = await appOrCreate(deps, req, req.params.app_id, b, ['body']);
      if (created) return reply.code(201).send(applicationOut(app));
      checkUid(b.uid, ['body', 'uid']);
      const updated = await store.updateApplication(
        {
          ...app,
          name: b.name as string,
          // A uid the path named stays unless the body names another: upserting by it again must
          // find the same application.
          uid: b.uid === undefined && app.uid === req.params.app_id ? app.uid : (b.uid ?? null),
          metadata: b.metadata ?? {},
          rateLimit: throttleOf(b) ?? null,
        },
        deps.now(),
      );
      return applicationOut(updated);
    },
  );

  api.patch<{ Params: { app_id: string }; Body: AppBody }>(
    '/api/v1/app/:app_id',
    { schema: { params: params.app, body: applicationPatch } },
    async (req) => {
      // The admin's: a tenant renaming its application, or taking a uid the admin will use for
      // another customer, would receive that customer's messages.
      requireAdmin(req);
      const app = await appFor(deps, req, req.params.app_id);
      const b = req.body;
      checkUid(b.uid, ['body', 'uid']);
      const rate = throttleOf(b);
      const updated = await store.updateApplication(
        {
          ...app,
          name: b.name ?? app.name,
          uid: b.uid === undefined ? app.uid : b.uid,
          metadata: b.metadata ?? app.metadata,
          rateLimit: rate === undefined ? app.rateLimit : rate,
        },
        deps.now(),
      );
      return applicationOut(updated);
    },
  );

  api.delete<{ Params: { app_id: string } }>(
    '/api/v1/app/:app_id',
    { schema: { params: params.app } },
    async (req, reply) => {
      requireAdmin(req);
      const app = await appFor(deps, req, req.params.app_id);
      if (!(await store.deleteApplication(app.id))) throw notFound('application');
      deps.onWithdrawn?.({ appId: app.id });
      return reply.code(204).send();
    },
  );
}
