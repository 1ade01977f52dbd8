import { type Postgres, startPostgres } from '@hookwarden/testkit';
import pg from 'pg';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import type { Store } from '../../src/store/types.ts';

/**
 * Fresh databases on one throwaway cluster per test file: each is a copy of a template that was
 * migrated once (CREATE DATABASE … TEMPLATE copies its files, far cheaper than migrating again).
 */
export interface Databases {
  pg: Postgres;
  /** A new, empty, migrated database; `drop` removes it. */
  fresh(): Promise<{ url: string; drop: () => Promise<void> }>;
  /** A new database with nothing in it, not even the schema. */
  empty(): Promise<{ url: string; drop: () => Promise<void> }>;
  /** A fresh store on a fresh database, as the conformance suite's factory gives it. */
  store(): Promise<{ store: Store; cleanup: () => Promise<void> }>;
  /** Stops the cluster and removes it. */
  destroy(): Promise<void>;
}

const TEMPLATE = 'hookwarden_template';
/**
 * Databases made ahead, side by side: one CREATE DATABASE takes ~200 ms on its own (it checkpoints),
 * several at once ~60 ms each; a test then finds its database ready.
 */
const AHEAD = 3;

export async function startDatabases(): Promise<Databases> {
  const cluster = await startPostgres();
  const admin = new pg.Pool({ connectionString: cluster.url(), max: AHEAD + 1 });
  admin.on('error', () => {});
  let n = 0;
  const dropping = new Set<Promise<unknown>>();
  const create = async (from: string | null) => {
    const name = `hw_test_${++n}`;
    await admin.query(`CREATE DATABASE ${name}${from ? ` TEMPLATE ${from} STRATEGY FILE_COPY` : ''}`);
    return {
      url: cluster.url(name),
      // In the background (the cluster goes at the end anyway). FORCE: a failed test may have left
      // its pool open.
      drop: async () => {
        const done = admin.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch(() => {});
        dropping.add(done);
        void done.then(() => dropping.delete(done));
      },
    };
  };
  try {
    await admin.query(`CREATE DATABASE ${TEMPLATE}`);
    const migrated = await openPostgresStore({ url: cluster.url(TEMPLATE) });
    await migrated.close();
  } catch (err) {
    await admin.end();
    await cluster.destroy();
    throw err;
  }
  const ahead: ReturnType<typeof create>[] = [];
  const fresh = () => {
    while (ahead.length < AHEAD + 1) {
      const next = create(TEMPLATE);
      next.catch(() => {}); // awaited by the test that takes it
      ahead.push(next);
    }
    return ahead.shift() as ReturnType<typeof create>;
  };
  return {
    pg: cluster,
    fresh,
    empty: () => create(null),
    async store() {
      const db = await fresh();
      const store = await openPostgresStore({ url: db.url });
      return { store, cleanup: db.drop };
    },
    async destroy() {
      await Promise.allSettled([...ahead, ...dropping]);
      await admin.end().catch(() => {});
      await cluster.destroy();
    },
  };
}
