import type { Page, PageQuery } from '../types.ts';

/**
 * Keyset pagination over a time-sortable id column: the iterator is the last id of a page, so a
 * page costs one index range scan however deep it is. An iterator starting with '-' asks for the
 * page before that id (Svix's prev_iterator).
 */
export function pageSql(
  page: PageQuery,
  defaultOrder: 'ascending' | 'descending',
): { where: string; orderBy: string; limit: number; params: unknown[]; backwards: boolean } {
  const descending = (page.order ?? defaultOrder) === 'descending';
  const iterator = page.iterator ?? undefined;
  const backwards = iterator?.startsWith('-') ?? false;
  const anchor = backwards ? iterator?.slice(1) : iterator;
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

export function toPage<R extends { id: string }, T>(
  rows: R[],
  page: PageQuery,
  backwards: boolean,
  map: (row: R) => T,
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
    iterator: last ? last.id : (page.iterator ?? null),
    prevIterator: first ? `-${first.id}` : null,
  };
}
