import { conflict } from '../../errors.ts';
import { nameCursorOf, nameIteratorOf } from '../sqlite/page.ts';
import type { EventTypeRow, NewEventType, Page, PageQuery } from '../types.ts';
import { type Db, violated } from './db.ts';
import { Params, paged } from './page.ts';
import { eventTypeFromRow, listParam } from './rows.ts';

const schemasParam = (schemas: unknown): string | null =>
  schemas === null || schemas === undefined ? null : JSON.stringify(schemas);

export async function createEventType(db: Db, t: NewEventType, now: number): Promise<EventTypeRow> {
  try {
    await db.query(
      `INSERT INTO event_types (name, description, archived, deprecated, group_name, schemas, feature_flags,
         created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8)`,
      [
        t.name,
        t.description,
        t.archived,
        t.deprecated,
        t.groupName,
        schemasParam(t.schemas),
        listParam(t.featureFlags),
        now,
      ],
    );
  } catch (err) {
    if (violated(err) === 'event_types_name') throw conflict('an event type with this name already exists');
    throw err;
  }
  return { ...t, createdAt: now, updatedAt: now };
}

export async function getEventType(db: Db, name: string): Promise<EventTypeRow | undefined> {
  const r = await db.row('SELECT * FROM event_types WHERE name = $1', [name]);
  return r ? eventTypeFromRow(r) : undefined;
}

/** Event types are keyed by name: their iterators are names (sqlite/page.ts). */
export function listEventTypes(
  db: Db,
  page: PageQuery & { includeArchived?: boolean; featureFlags?: readonly string[] },
): Promise<Page<EventTypeRow>> {
  const p = new Params();
  // A token's flags filter in the query: filtered afterwards, pages came back short.
  const flags = page.featureFlags === undefined ? null : [...page.featureFlags];
  return paged(db, {
    from: 'event_types',
    where: `(${p.add(page.includeArchived === true)}::boolean OR NOT archived)
      AND (${p.add(flags)}::text[] IS NULL OR feature_flags IS NULL OR feature_flags && ${p.add(flags)}::text[])`,
    params: p,
    page,
    defaultOrder: 'ascending',
    map: eventTypeFromRow,
    key: 'name',
    cursor: nameCursorOf(page.iterator),
    iteratorOf: nameIteratorOf,
  });
}

export async function updateEventType(db: Db, t: EventTypeRow, now: number): Promise<EventTypeRow> {
  await db.query(
    `UPDATE event_types SET description = $2, archived = $3, deprecated = $4, group_name = $5, schemas = $6,
       feature_flags = $7, updated_at = $8 WHERE name = $1`,
    [
      t.name,
      t.description,
      t.archived,
      t.deprecated,
      t.groupName,
      schemasParam(t.schemas),
      listParam(t.featureFlags),
      now,
    ],
  );
  return { ...t, updatedAt: now };
}

export async function deleteEventType(db: Db, name: string): Promise<boolean> {
  return (await db.changes('DELETE FROM event_types WHERE name = $1', [name])) > 0;
}
