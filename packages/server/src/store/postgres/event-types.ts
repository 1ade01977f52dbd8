import { conflict } from '../../errors.ts';
import { nameCursorOf, nameIteratorOf } from '../sqlite/page.ts';
import type { EventTypeRow, NewEventType, Page, PageQuery } from '../types.ts';
import { type Db, violated } from './db.ts';
import { Params, paged } from './page.ts';
import { eventTypeFromRow } from './rows.ts';

const schemasParam = (schemas: unknown): string | null =>
  schemas === null || schemas === undefined ? null : JSON.stringify(schemas);

export async function createEventType(db: Db, t: NewEventType, now: number): Promise<EventTypeRow> {
  try {
    await db.query(
      `INSERT INTO event_types (name, description, archived, deprecated, group_name, schemas, created_at, updated_at)
       VALUES ($1, $2, $3, $4, $5, $6, $7, $7)`,
      [t.name, t.description, t.archived, t.deprecated, t.groupName, schemasParam(t.schemas), now],
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
export function listEventTypes(db: Db, page: PageQuery & { includeArchived?: boolean }): Promise<Page<EventTypeRow>> {
  const p = new Params();
  return paged(db, {
    from: 'event_types',
    where: `(${p.add(page.includeArchived === true)}::boolean OR NOT archived)`,
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
       updated_at = $7 WHERE name = $1`,
    [t.name, t.description, t.archived, t.deprecated, t.groupName, schemasParam(t.schemas), now],
  );
  return { ...t, updatedAt: now };
}
