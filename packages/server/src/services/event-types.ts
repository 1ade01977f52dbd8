import { notFound, serverError } from '../errors.ts';
import type { EventTypeRow, NewEventType, Page, PageQuery, Store } from '../store/types.ts';
import { authorize, type Caller } from './actor.ts';
import { aliased, allPages, invalidField, type ServiceDeps } from './context.ts';

/** Svix's EventTypeIn (EventTypeUpsertIn and EventTypePatch without a name), as the API's schema admits it. */
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
 * The feature flags an application actor holds, which limit the event types it sees (Svix: a type
 * with flags is shown only to tokens holding one of them); undefined for the operator, who sees all.
 */
const flagsOf = (c: Caller): readonly string[] | undefined =>
  c.actor.kind === 'app' ? c.actor.featureFlags : undefined;

const visible = (t: EventTypeRow, flags: readonly string[] | undefined): boolean =>
  flags === undefined || t.featureFlags === null || t.featureFlags.some((f) => flags.includes(f));

/** Every event type (archived ones too, when asked). */
export const allEventTypes = (store: Store, includeArchived: boolean): Promise<EventTypeRow[]> =>
  allPages((page) => store.listEventTypes({ ...page, includeArchived }));

/** Creates each type, or updates the one of that name with what `merge` makes of the two. */
async function putAll<T extends { name: string }>(
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

export type EventTypes = ReturnType<typeof eventTypeService>;

/** The event catalogue: one for the environment, read by every application, written by the operator. */
export function eventTypeService(deps: ServiceDeps) {
  const { store } = deps;

  /** The event type the caller may see, by name; 404 if there is none. */
  async function get(c: Caller, name: string): Promise<EventTypeRow> {
    authorize(c.actor, 'event-type.read');
    const t = await store.getEventType(name);
    if (!t || !visible(t, flagsOf(c))) throw notFound('event type');
    return t;
  }

  async function list(c: Caller, q: PageQuery & { includeArchived?: boolean }): Promise<Page<EventTypeRow>> {
    authorize(c.actor, 'event-type.read');
    const flags = flagsOf(c);
    return store.listEventTypes({ ...q, ...(flags === undefined ? {} : { featureFlags: flags }) });
  }

  /** Svix revives an archived type on create; a live one is a conflict. */
  async function create(c: Caller, b: EventTypeBody): Promise<EventTypeRow> {
    authorize(c.actor, 'event-type.manage');
    const row = eventTypeFrom(b.name as string, b);
    const existing = await store.getEventType(row.name);
    if (existing && !existing.archived) throw serverError('HW_EVENT_TYPE_EXISTS');
    return existing
      ? store.updateEventType({ ...existing, ...row }, deps.now())
      : store.createEventType(row, deps.now());
  }

  /** Svix's upsert (1.x SDKs' update): the body replaces the type, which is created if missing. */
  async function put(c: Caller, name: string, b: EventTypeBody): Promise<{ type: EventTypeRow; created: boolean }> {
    authorize(c.actor, 'event-type.manage');
    const row = eventTypeFrom(name, b);
    const t = await store.getEventType(row.name);
    if (!t) return { type: await store.createEventType(row, deps.now()), created: true };
    return { type: await store.updateEventType({ ...t, ...row }, deps.now()), created: false };
  }

  async function patch(c: Caller, name: string, b: EventTypeBody): Promise<EventTypeRow> {
    authorize(c.actor, 'event-type.manage');
    return store.updateEventType(patched(await get(c, name), b), deps.now());
  }

  /** Deleting archives, as Svix does: messages already sent keep naming a type that still exists. */
  async function remove(c: Caller, name: string, expunge: boolean): Promise<void> {
    authorize(c.actor, 'event-type.manage');
    const t = await get(c, name);
    if (expunge) await store.deleteEventType(t.name);
    else await store.updateEventType({ ...t, archived: true }, deps.now());
  }

  /**
   * Event types from an OpenAPI document's webhooks (Svix's importOpenapi): created, or updated
   * and revived if they exist; with `replaceAll`, those the document does not name are archived.
   */
  async function importTypes(
    c: Caller,
    found: readonly Omit<NewEventType, 'archived' | 'featureFlags'>[],
    replaceAll: boolean,
  ): Promise<void> {
    authorize(c.actor, 'event-type.manage');
    const now = deps.now();
    // A document without a schema for a type leaves the one it had; documents carry no flags.
    await putAll(store, found, now, (t, existing) => ({
      ...t,
      archived: false,
      schemas: t.schemas ?? existing?.schemas ?? null,
      featureFlags: existing?.featureFlags ?? null,
    }));
    if (!replaceAll) return;
    const named = new Set(found.map((t) => t.name));
    const stale = (await allEventTypes(store, false)).filter((t) => !named.has(t.name));
    for (const t of stale) await store.updateEventType({ ...t, archived: true }, now);
  }

  /** Svix's environment export: the whole catalogue, archived types included. */
  async function exportAll(c: Caller): Promise<EventTypeRow[]> {
    authorize(c.actor, 'environment.manage');
    return allEventTypes(store, true);
  }

  /**
   * Svix's environment import. Connectors (transformation templates) have no equivalent here:
   * refused, not dropped.
   */
  async function importEnvironment(
    c: Caller,
    types: readonly (EventTypeBody & { name: string })[],
    connectors: number,
  ): Promise<void> {
    authorize(c.actor, 'environment.manage');
    if (connectors > 0) throw invalidField(['body', 'connectors'], 'are not supported by this server');
    await putAll(store, types, deps.now(), (t, existing) => ({
      ...eventTypeFrom(t.name, t),
      schemas: t.schemas ?? existing?.schemas ?? null,
    }));
  }

  return { get, list, create, put, patch, remove, importTypes, exportAll, importEnvironment };
}
