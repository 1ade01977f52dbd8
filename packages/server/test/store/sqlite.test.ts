import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import Database from 'better-sqlite3';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { MIGRATIONS } from '../../src/store/sqlite/schema.ts';
import { storeConformance } from './conformance.ts';
import { consoleConformance } from './console-conformance.ts';

const open = async () => {
  const dir = tempDir();
  return { store: openSqliteStore(join(dir.path, 'hookwarden.db')), cleanup: async () => dir.cleanup() };
};
storeConformance('sqlite', open);
consoleConformance('sqlite', open);

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

test('migrating a database keeps its rows: task records survive the rebuild that lets them have no application', async () => {
  const dir = tempDir();
  const path = join(dir.path, 'hookwarden.db');
  // A database as the migration that added task records left it.
  const old = new Database(path);
  for (const [v, sql] of MIGRATIONS.slice(0, 8).entries()) {
    old.exec(sql);
    old.pragma(`user_version = ${v + 1}`);
  }
  old
    .prepare(
      "INSERT INTO applications (id, uid, name, metadata, created_at, updated_at) VALUES ('app_1', NULL, 'a', '{}', 1, 1)",
    )
    .run();
  old
    .prepare(
      "INSERT INTO background_tasks VALUES ('qtask_1', 'app_1', 'endpoint.recover', 'finished', '{\"messages\":2}', 5, 99)",
    )
    .run();
  old.close();

  const store = openSqliteStore(path);
  try {
    assert.deepEqual(await store.getTask('qtask_1'), {
      id: 'qtask_1',
      appId: 'app_1',
      task: 'endpoint.recover',
      status: 'finished',
      data: { messages: 2 },
      updatedAt: 5,
    });
    const environmentWide = {
      id: 'qtask_2',
      appId: null,
      task: 'application.stats',
      status: 'finished',
      data: {},
      updatedAt: 6,
    } as const;
    await store.putTask(environmentWide, 99);
    assert.deepEqual(await store.getTask('qtask_2'), environmentWide);
    // Still deleted with their application.
    await store.deleteApplication('app_1');
    assert.equal(await store.getTask('qtask_1'), undefined);
  } finally {
    await store.close();
    dir.cleanup();
  }
});
