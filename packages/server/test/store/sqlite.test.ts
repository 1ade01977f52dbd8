import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { storeConformance } from './conformance.ts';

storeConformance('sqlite', async () => {
  const dir = tempDir();
  return { store: openSqliteStore(join(dir.path, 'hookwarden.db')), cleanup: async () => dir.cleanup() };
});

test('every foreign key column leads an index, so a cascading delete never scans a whole table', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'hookwarden.db');
  const store = openSqliteStore(path);
  await store.close();
  const db = new Database(path, { readonly: true });
  try {
    const tables = (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table'").all() as { name: string }[]).map(
      (t) => t.name,
    );
    const unindexed: string[] = [];
    for (const table of tables) {
      const leading = new Set<string>();
      for (const index of db.pragma(`index_list(${table})`) as { name: string }[]) {
        const columns = db.pragma(`index_info(${index.name})`) as { seqno: number; name: string }[];
        const first = columns.find((c) => c.seqno === 0);
        if (first) leading.add(first.name);
      }
      // An INTEGER PRIMARY KEY is the table's own key.
      for (const c of db.pragma(`table_info(${table})`) as { name: string; pk: number }[]) {
        if (c.pk === 1) leading.add(c.name);
      }
      for (const fk of db.pragma(`foreign_key_list(${table})`) as { from: string }[]) {
        if (!leading.has(fk.from)) unindexed.push(`${table}.${fk.from}`);
      }
    }
    assert.deepEqual(unindexed, []);
  } finally {
    db.close();
    dir.cleanup();
  }
});
