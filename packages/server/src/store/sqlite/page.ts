import type { Page, PageQuery } from '../types.ts';

/**
 * Keyset pagination over a time-sortable id column: the iterator is the last id of a page, so a
 * page costs one index range scan however deep it is. An iterator starting with '-' asks for the
 * page before that id (Svix's prev_iterator).
 */
export interface Cursor {
  anchor: string | undefined;
  backwards: boolean;
}

export function cursorOf(iterator: string | null | undefined): Cursor {
  const backwards = iterator?.startsWith('-') ?? false;
  return { anchor: (backwards ? iterator?.slice(1) : iterator) || undefined, backwards };
}

/**
 * For rows keyed by a name (event types): a name may itself start with '-', so their iterators
 * carry it after a '~', which no name holds. A bare name, as earlier versions gave, reads as it did.
 */
export const nameIteratorOf = (name: string): string => `~${name}`;
export function nameCursorOf(iterator: string | null | undefined): Cursor {
  const backwards = iterator?.startsWith('-~') ?? false;
  if (!backwards && !iterator?.startsWith('~')) return cursorOf(iterator);
  return { anchor: iterator?.slice(backwards ? 2 : 1), backwards };
}

export function pageSql(
  page: PageQuery,
  defaultOrder: 'ascending' | 'descending',
  { anchor, backwards }: Cursor = cursorOf(page.iterator),
): { where: string; orderBy: string; limit: number; params: unknown[]; backwards: boolean } {
  const descending = (page.order ?? defaultOrder) === 'descending';
  // Reading backwards flips the scan direction; the caller reverses the rows afterwards.
  const scanDescending = descending !== backwards;
  const where = anchor ? (scanDescending ? 'id < ?' : 'id > ?') : '1 = 1';
  return {
    where,
    orderBy: `id ${scanDescending ? 'DESC' : 'ASC'}`,
    limit: page.limit + 1,
    params: anchor ? [anchor] : [],
    backwards,
  };
}

/** `iteratorOf` turns a row's key into the iterator that resumes after it (by default the key). */
export function toPage<R extends { id: string }, T>(
  rows: R[],
  page: PageQuery,
  backwards: boolean,
  map: (row: R) => T,
  iteratorOf: (key: string) => string = (key) => key,
): Page<T> {
  const more = rows.length > page.limit;
  const kept = more ? rows.slice(0, page.limit) : rows;
  if (backwards) kept.reverse();
  const first = kept[0];
  const last = kept[kept.length - 1];
  return {
    data: kept.map(map),
    // Going backwards, "done" means there is nothing further back; the forward iterator is always set.
    done: backwards ? false : !more,
    iterator: last ? iteratorOf(last.id) : (page.iterator ?? null),
    prevIterator: first ? `-${iteratorOf(first.id)}` : null,
  };
}
