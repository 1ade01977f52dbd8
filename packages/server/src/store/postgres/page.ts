import { type Cursor, cursorOf, toPage } from '../sqlite/page.ts';
import type { Page, PageQuery } from '../types.ts';
import type { Db, Row } from './db.ts';

/** Positional parameters for a statement built in pieces: `add` answers the placeholder. */
export class Params {
  readonly values: unknown[] = [];
  add(value: unknown): string {
    this.values.push(value);
    return `$${this.values.length}`;
  }
}

/**
 * One keyset page (pagination as the SQLite store has it: page.ts there) of `from` rows matching
 * `where`, ordered by `key` (a unique, byte-ordered column), mapped by `map`.
 */
export async function paged<T>(
  db: Db,
  q: {
    from: string;
    where: string;
    params: Params;
    page: PageQuery;
    defaultOrder: 'ascending' | 'descending';
    map: (r: Row) => T;
    key?: string;
    cursor?: Cursor;
    iteratorOf?: (key: string) => string;
  },
): Promise<Page<T>> {
  const { anchor, backwards } = q.cursor ?? cursorOf(q.page.iterator);
  const key = q.key ?? 'id';
  const descending = (q.page.order ?? q.defaultOrder) === 'descending';
  // Reading backwards flips the scan direction; toPage reverses the rows afterwards.
  const scanDescending = descending !== backwards;
  const after = anchor === undefined ? '' : ` AND ${key} ${scanDescending ? '<' : '>'} ${q.params.add(anchor)}`;
  const limit = q.params.add(q.page.limit + 1);
  const rows = await db.rows(
    `SELECT * FROM ${q.from} WHERE ${q.where}${after} ORDER BY ${key} ${scanDescending ? 'DESC' : 'ASC'} LIMIT ${limit}`,
    q.params.values,
  );
  return toPage(
    key === 'id' ? (rows as (Row & { id: string })[]) : rows.map((r) => ({ ...r, id: r[key] as string })),
    q.page,
    backwards,
    // One argument: the mappers take a column prefix second, where Array.map passes an index.
    (r) => q.map(r),
    q.iteratorOf,
  );
}
