import { notFound } from '../errors.ts';
import { newId } from '../ids.ts';
import { OPERATIONAL_APP_ID } from '../operational.ts';
import type { ApplicationRow, NewApplication, Page, PageQuery } from '../store/types.ts';
import { authorize, type Caller, forbidden, within } from './actor.ts';
import { checkUid, invalidField, type ServiceDeps, throttleOf, uidRefusal } from './context.ts';

/** Svix's ApplicationIn, as the API's schema admits it. */
export interface AppBody {
  name?: string;
  uid?: string | null;
  metadata?: Record<string, string>;
  rateLimit?: number | null;
  throttleRate?: number | null;
}

export interface ApplicationListQuery extends PageQuery {
  withEndpoints?: boolean;
  withoutOnlyDisabled?: boolean;
}

const UID = /^[a-zA-Z0-9\-_.]+$/;

export type Applications = ReturnType<typeof applicationService>;

export function applicationService(deps: ServiceDeps) {
  const { store } = deps;

  /** The row a new application is created from; `at` locates the body's fields for errors. */
  const newApplication = (b: AppBody, uid: string | null, at: string[]): NewApplication => ({
    id: newId('app', deps.now()),
    uid,
    name: b.name as string,
    metadata: b.metadata ?? {},
    rateLimit: throttleOf(b, at) ?? null,
  });

  /**
   * The application named (id or uid), if the caller may act on it: what every call on an
   * application's endpoints, messages and attempts starts with. The operator's own application
   * (operational webhooks) is reached through its own service only. An application actor is told
   * the same for another application as for one that does not exist.
   */
  async function resolve(c: Caller, idOrUid: string): Promise<ApplicationRow> {
    const found = await store.getApplication(idOrUid);
    const app = found?.id === OPERATIONAL_APP_ID ? undefined : found;
    if (!app) {
      if (c.actor.kind === 'app') throw forbidden();
      throw notFound('application');
    }
    within(c.actor, app.id);
    return app;
  }

  async function get(c: Caller, idOrUid: string): Promise<ApplicationRow> {
    authorize(c.actor, 'application.read');
    return resolve(c, idOrUid);
  }

  /**
   * The application the path names, created from `given` if it does not exist yet: Svix's upsert,
   * and its `application` given inline with a message or a portal-access request. Only the operator
   * creates; the new application's uid is the path's (another uid in `given` is refused), and a
   * path that could not be a uid (shaped like an application id, or reserved) is refused.
   */
  async function getOrCreate(
    c: Caller,
    idOrUid: string,
    given: AppBody | null | undefined,
    at: string[],
  ): Promise<{ app: ApplicationRow; created: boolean }> {
    const exists = async () => ({ app: await resolve(c, idOrUid), created: false });
    if (!given || c.actor.kind !== 'admin' || (await store.getApplication(idOrUid))) return exists();
    if (given.uid != null && given.uid !== idOrUid) {
      throw invalidField([...at, 'uid'], 'must be the uid the path names');
    }
    if (!UID.test(idOrUid) || uidRefusal(idOrUid) !== undefined) {
      throw invalidField(['path', 'app_id'], 'names no application, and is not a uid one could be created with');
    }
    try {
      return { app: await store.createApplication(newApplication(given, idOrUid, at), deps.now()), created: true };
    } catch (err) {
      // Created meanwhile by a concurrent request: that one is used.
      if ((err as { code?: string }).code === 'HW_CONFLICT') return exists();
      throw err;
    }
  }

  /** The customers' applications: the operator's own (operational webhooks) is never one of them. */
  async function list(c: Caller, q: ApplicationListQuery): Promise<Page<ApplicationRow>> {
    authorize(c.actor, 'application.list');
    // Left out by the query: filtered from a fetched page, it left an empty page and an iterator on itself.
    return store.listApplications({ ...q, exceptId: OPERATIONAL_APP_ID });
  }

  /** `getIfExists`: the application of that uid, if there is one, instead of a conflict. */
  async function create(
    c: Caller,
    b: AppBody,
    getIfExists = false,
  ): Promise<{ app: ApplicationRow; created: boolean }> {
    authorize(c.actor, 'application.create');
    checkUid(b.uid, ['body', 'uid']);
    if (getIfExists && b.uid) {
      const existing = await store.getApplication(b.uid);
      if (existing && existing.id !== OPERATIONAL_APP_ID) return { app: existing, created: false };
    }
    return {
      app: await store.createApplication(newApplication(b, b.uid ?? null, ['body']), deps.now()),
      created: true,
    };
  }

  /** Svix's upsert (1.x SDKs' update): the whole body replaces the application, created when missing. */
  async function put(c: Caller, idOrUid: string, b: AppBody): Promise<{ app: ApplicationRow; created: boolean }> {
    authorize(c.actor, 'application.update');
    const { app, created } = await getOrCreate(c, idOrUid, b, ['body']);
    if (created) return { app, created };
    checkUid(b.uid, ['body', 'uid']);
    const updated = await store.updateApplication(
      {
        ...app,
        name: b.name as string,
        // A uid the path named stays unless the body names another: upserting by it again must
        // find the same application.
        uid: b.uid === undefined && app.uid === idOrUid ? app.uid : (b.uid ?? null),
        metadata: b.metadata ?? {},
        rateLimit: throttleOf(b) ?? null,
      },
      deps.now(),
    );
    return { app: updated, created: false };
  }

  async function patch(c: Caller, idOrUid: string, b: AppBody): Promise<ApplicationRow> {
    authorize(c.actor, 'application.update');
    const app = await resolve(c, idOrUid);
    checkUid(b.uid, ['body', 'uid']);
    const rate = throttleOf(b);
    return store.updateApplication(
      {
        ...app,
        name: b.name ?? app.name,
        uid: b.uid === undefined ? app.uid : b.uid,
        metadata: b.metadata ?? app.metadata,
        rateLimit: rate === undefined ? app.rateLimit : rate,
      },
      deps.now(),
    );
  }

  async function remove(c: Caller, idOrUid: string): Promise<void> {
    authorize(c.actor, 'application.delete');
    const app = await resolve(c, idOrUid);
    if (!(await store.deleteApplication(app.id))) throw notFound('application');
    deps.onWithdrawn?.({ appId: app.id });
  }

  return { resolve, get, getOrCreate, list, create, put, patch, remove };
}
