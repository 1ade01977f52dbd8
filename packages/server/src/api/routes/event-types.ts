import type { FastifyInstance } from 'fastify';
import { notFound, ServerError } from '../../errors.ts';
import type { EventTypeRow, NewEventType, Store } from '../../store/types.ts';
import { type ApiDeps, allPages, requireAdmin } from '../context.ts';
import { eventTypesFromOpenApi, specOf } from '../event-type-import.ts';
import { eventTypeImportIn, eventTypeIn, eventTypePatch, eventTypeUpdate, params, query } from '../schemas.ts';
import { eventTypeOut, listOut } from '../views.ts';

interface EventTypeBody {
  name?: string;
  description?: string;
  archived?: boolean;
  deprecated?: boolean;
  groupName?: string | null;
  schemas?: unknown;
}
type Q = {
  limit: number;
  iterator?: string | null;
  order?: 'ascending' | 'descending';
  include_archived?: boolean;
  with_content?: boolean;
};

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

  api.get<{ Querystring: Q }>('/api/v1/event-type', { schema: { querystring: query.eventTypes } }, async (req) => {
    const page = await store.listEventTypes({ ...req.query, includeArchived: req.query.include_archived ?? false });
    return listOut(page, (t) => eventTypeOut(t, req.query.with_content ?? false));
  });

  api.post<{ Body: EventTypeBody }>('/api/v1/event-type', { schema: { body: eventTypeIn } }, async (req, reply) => {
    requireAdmin(req);
    const b = req.body;
    const existing = await store.getEventType(b.name as string);
    // Svix revives an archived type on create; a live one is a conflict.
    if (existing && !existing.archived) {
      throw new ServerError('HW_EVENT_TYPE_EXISTS', 'an event type with this name already exists', { status: 409 });
    }
    const row = {
      name: b.name as string,
      description: b.description ?? '',
      archived: b.archived ?? false,
      deprecated: b.deprecated ?? false,
      groupName: b.groupName ?? null,
      schemas: b.schemas ?? null,
    };
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
      // A document without a schema for a type leaves the one it had.
      await putEventTypes(store, found, now, (t, existing) => ({
        ...t,
        archived: false,
        schemas: t.schemas ?? existing?.schemas ?? null,
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
    async (req) => {
      const t = await store.getEventType(req.params.event_type_name);
      if (!t) throw notFound('event type');
      return eventTypeOut(t);
    },
  );

  const update = (partial: boolean) => async (req: { params: { event_type_name: string }; body: EventTypeBody }) => {
    const t = await store.getEventType(req.params.event_type_name);
    if (!t) throw notFound('event type');
    const b = req.body;
    const updated = await store.updateEventType(
      {
        ...t,
        description: b.description ?? t.description,
        archived: b.archived ?? (partial ? t.archived : false),
        deprecated: b.deprecated ?? (partial ? t.deprecated : false),
        groupName: b.groupName === undefined ? (partial ? t.groupName : null) : b.groupName,
        schemas: b.schemas === undefined ? (partial ? t.schemas : null) : b.schemas,
      },
      deps.now(),
    );
    return eventTypeOut(updated);
  };

  api.put<{ Params: { event_type_name: string }; Body: EventTypeBody }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType, body: eventTypeUpdate } },
    async (req) => {
      requireAdmin(req);
      return update(false)(req);
    },
  );
  api.patch<{ Params: { event_type_name: string }; Body: EventTypeBody }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType, body: eventTypePatch } },
    async (req) => {
      requireAdmin(req);
      return update(true)(req);
    },
  );

  // Deleting archives, as Svix does: messages already sent keep naming a type that still exists.
  api.delete<{ Params: { event_type_name: string } }>(
    '/api/v1/event-type/:event_type_name',
    { schema: { params: params.eventType } },
    async (req, reply) => {
      requireAdmin(req);
      const t = await store.getEventType(req.params.event_type_name);
      if (!t) throw notFound('event type');
      await store.updateEventType({ ...t, archived: true }, deps.now());
      return reply.code(204).send();
    },
  );
}
