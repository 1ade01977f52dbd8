import type { FastifyInstance, FastifyRequest } from 'fastify';
import { notFound, ServerError } from '../../errors.ts';
import type { EventTypeRow, NewEventType, Store } from '../../store/types.ts';
import { type ApiDeps, aliased, allPages, requireAdmin } from '../context.ts';
import { eventTypesFromOpenApi, specOf } from '../event-type-import.ts';
import { eventTypeImportIn, eventTypeIn, eventTypePatch, eventTypeUpdate, params, query } from '../schemas.ts';
import { eventTypeOut, listOut } from '../views.ts';

/** Svix's EventTypeIn (EventTypeUpsertIn and EventTypePatch without a name), as the schema admits it. */
export interface EventTypeBody {
  name?: string;
  description?: string;
  archived?: boolean;
  deprecated?: boolean;
  groupName?: string | null;
  /** Svix's earlier, single flag: `featureFlags` with one item. */
  featureFlag?: string | null;
  featureFlags?: string[] | null;
  schemas?: unknown;
}
type Q = {
  limit: number;
  iterator?: string | null;
  order?: 'ascending' | 'descending';
  include_archived?: boolean;
  with_content?: boolean;
};

/**
 * An event type's feature flags: `featureFlags`, or the older single `featureFlag`. A null
 * `featureFlag` beside `featureFlags` says nothing (our own answers carry it so beside two flags).
 */
function featureFlagsOf(b: EventTypeBody): string[] | null | undefined {
  const single = b.featureFlag == null ? (b.featureFlags === undefined ? b.featureFlag : undefined) : [b.featureFlag];
  return aliased(b.featureFlags, single, ['body', 'featureFlags'], 'featureFlag');
}

/** The event type `name` as a whole body describes it (create, PUT, import): what it omits is reset. */
export function eventTypeFrom(name: string, b: EventTypeBody): NewEventType {
  return {
    name,
    description: b.description ?? '',
    archived: b.archived ?? false,
    deprecated: b.deprecated ?? false,
    groupName: b.groupName ?? null,
    schemas: b.schemas ?? null,
    featureFlags: featureFlagsOf(b) ?? null,
  };
}

/** `t` with what a PATCH body names changed. */
function patched(t: EventTypeRow, b: EventTypeBody): EventTypeRow {
  const flags = featureFlagsOf(b);
  return {
    ...t,
    description: b.description ?? t.description,
    archived: b.archived ?? t.archived,
    deprecated: b.deprecated ?? t.deprecated,
    groupName: b.groupName === undefined ? t.groupName : b.groupName,
    schemas: b.schemas === undefined ? t.schemas : b.schemas,
    featureFlags: flags === undefined ? t.featureFlags : flags,
  };
}

/**
 * The feature flags an application token holds, which limit the event types it sees (Svix: a type
 * with flags is shown only to tokens holding one of them); undefined for the admin, who sees all.
 */
const flagsOf = (req: FastifyRequest): readonly string[] | undefined =>
  req.scope.kind === 'app' ? req.scope.featureFlags : undefined;

const visible = (t: EventTypeRow, flags: readonly string[] | undefined): boolean =>
  flags === undefined || t.featureFlags === null || t.featureFlags.some((f) => flags.includes(f));

/** Every event type (archived ones too, when asked). */
export const allEventTypes = (store: Store, includeArchived: boolean): Promise<EventTypeRow[]> =>
  allPages((page) => store.listEventTypes({ ...page, includeArchived }));

/** Creates each type, or updates the one of that name with what `merge` makes of the two. */
export async function putEventTypes<T extends { name: string }>(
  store: Store,
  types: readonly T[],
  now: number,
  merge: (t: T, existing: EventTypeRow | undefined) => NewEventType,
): Promise<void> {
  for (const t of types) {
    const existing = await store.getEventType(t.name);
    const row = merge(t, existing);
    if (existing) await store.updateEventType({ ...existing, ...row }, now);
    else await store.createEventType(row, now);
  }
}

export function eventTypeRoutes(api: FastifyInstance, deps: ApiDeps): void {
  const { store } = deps;

  /** The event type a request may see, by name; 404 if there is none. */
  async function eventTypeFor(req: FastifyRequest, name: string): Promise<EventTypeRow> {
    const t = await store.getEventType(name);
    if (!t || !visible(t, flagsOf(req))) throw notFound('event type');
    return t;
  }

  api.get<{ Querystring: Q }>('/api/v1/event-type', { schema: { querystring: query.eventTypes } }, async (req) => {
    const q = req.query;
    const flags = flagsOf(req);
    const page = await store.listEventTypes({
      ...q,
      includeArchived: q.include_archived ?? false,
      ...(flags === undefined ? {} : { featureFlags: flags }),
    });
    return listOut(page, (t) => eventTypeOut(t, q.with_content ?? false));
  });

  api.post<{ Body: EventTypeBody }>('/api/v1/event-type', { schema: { body: eventTypeIn } }, async (req, reply) => {
    requireAdmin(req);
    const row = eventTypeFrom(req.body.name as string, req.body);
    const existing = await store.getEventType(row.name);
    // Svix revives an archived type on create; a live one is a conflict.
    if (existing && !existing.archived) {
      throw new ServerError('HW_EVENT_TYPE_EXISTS', 'an event type with this name already exists', { status: 409 });
    }
    const created = existing
      ? await store.updateEventType({ ...existing, ...row }, deps.now())
      : await store.createEventType(row, deps.now());
    return reply.code(201).send(eventTypeOut(created));
  });

  // Event types from an OpenAPI document's webhooks (Svix's importOpenapi): created, or updated and
  // revived if they exist; with replaceAll, those the document does not name are archived.
  api.post<{ Body: { dryRun?: boolean; replaceAll?: boolean; spec?: unknown; specRaw?: string | null } }>(
    '/api/v1/event-type/import/openapi',
    { schema: { body: eventTypeImportIn } },
    async (req) => {
      requireAdmin(req);
      const found = eventTypesFromOpenApi(specOf(req.body));
      if (req.body.dryRun) return { data: { modified: [], to_modify: found } };
      const now = deps.now();
      // A document without a schema for a type leaves the one it had; documents carry no flags.
      await putEventTypes(store, found, now, (t, existing) => ({
        ...t,
        archived: false,
        schemas: t.schemas ?? existing?.schemas ?? null,
        featureFlags: existing?.featureFlags ?? null,
      }));
      if (req.body.replaceAll) {
        const named = new Set(found.map((t) => t.name));
        const stale = (await allEventTypes(store, false)).filter((t) => !named.has(t.name));
        for (const t of stale) await store.updateEventType({ ...t, archived: true }, now);
      }
      return { data: { modified: found.map((t) => t.name), to_modify: null } };
    },
  );

  api.get<{ Params: { event_type_name: string } }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType } },
    async (req) => eventTypeOut(await eventTypeFor(req, req.params.event_type_name)),
  );

  // Svix's upsert (1.x SDKs' update): the body replaces the type, which is created if missing.
  api.put<{ Params: { event_type_name: string }; Body: EventTypeBody }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType, body: eventTypeUpdate } },
    async (req, reply) => {
      requireAdmin(req);
      const row = eventTypeFrom(req.params.event_type_name, req.body);
      const t = await store.getEventType(row.name);
      if (!t) return reply.code(201).send(eventTypeOut(await store.createEventType(row, deps.now())));
      return eventTypeOut(await store.updateEventType({ ...t, ...row }, deps.now()));
    },
  );

  api.patch<{ Params: { event_type_name: string }; Body: EventTypeBody }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType, body: eventTypePatch } },
    async (req) => {
      requireAdmin(req);
      const t = await eventTypeFor(req, req.params.event_type_name);
      return eventTypeOut(await store.updateEventType(patched(t, req.body), deps.now()));
    },
  );

  // Deleting archives, as Svix does: messages already sent keep naming a type that still exists.
  // `expunge=true` deletes it for good.
  api.delete<{ Params: { event_type_name: string }; Querystring: { expunge?: boolean } }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType, querystring: query.eventTypeDelete } },
    async (req, reply) => {
      requireAdmin(req);
      const t = await eventTypeFor(req, req.params.event_type_name);
      if (req.query.expunge) await store.deleteEventType(t.name);
      else await store.updateEventType({ ...t, archived: true }, deps.now());
      return reply.code(204).send();
    },
  );
}
