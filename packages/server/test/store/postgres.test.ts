import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { needPostgres } from '@hookwarden/testkit';
import pg from 'pg';
import { newId } from '../../src/ids.ts';
import { Db } from '../../src/store/postgres/db.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';
import { migrate } from '../../src/store/postgres/migrate.ts';
import { MIGRATIONS } from '../../src/store/postgres/schema.ts';
import { CLAIM } from '../../src/store/postgres/sql/claim.ts';
import type { ClaimedDelivery, Store } from '../../src/store/types.ts';
import { storeConformance } from './conformance.ts';
import { consoleConformance } from './console-conformance.ts';
import { newEndpoint, newMessage } from './fixtures.ts';
import { type Databases, startDatabases } from './pg-databases.ts';

const skip = needPostgres();
const T0 = 1_700_000_000_000;
let databases: Databases;

if (!skip) {
  before(async () => {
    databases = await startDatabases();
  });
  after(async () => {
    await databases?.destroy();
  });
  storeConformance('postgres', () => databases.store());
  consoleConformance('postgres', () => databases.store());
}

/** A store on a fresh database, and a plain connection to the same database for what tests set up in bulk. */
async function fixture(): Promise<{ store: Store; sql: pg.Client; url: string; done: () => Promise<void> }> {
  const db = await databases.fresh();
  const store = await openPostgresStore({ url: db.url });
  const sql = new pg.Client({ connectionString: db.url });
  await sql.connect();
  return {
    store,
    sql,
    url: db.url,
    done: async () => {
      await sql.end();
      await store.close();
      await db.drop();
    },
  };
}

async function appWithEndpoints(store: Store, n: number): Promise<{ appId: string; endpointIds: string[] }> {
  const app = await store.createApplication(
    { id: newId('app'), uid: null, name: 'a', metadata: {}, rateLimit: null },
    T0,
  );
  const endpointIds: string[] = [];
  for (let i = 0; i < n; i++) endpointIds.push((await store.createEndpoint(newEndpoint(app.id, newId('ep')), T0)).id);
  return { appId: app.id, endpointIds };
}

/** `count` messages for the endpoint, due from `dueFrom` on, one a millisecond, written in one statement. */
async function backlog(sql: pg.Client, appId: string, endpointId: string, count: number, dueFrom: number) {
  await sql.query(
    `WITH m AS (
       INSERT INTO messages (id, app_id, event_type, payload, created_at)
       SELECT $1 || lpad(i::text, 8, '0'), $2, 'user.created', '{}', $4 FROM generate_series(1, $3::int) i
       RETURNING id, created_at)
     INSERT INTO deliveries (msg_id, endpoint_id, app_id, status, next_attempt_at, created_at, updated_at)
     SELECT id, $5, $2, 1, $4 + row_number() OVER (ORDER BY id), created_at, created_at FROM m`,
    [`msg_${endpointId}_`, appId, count, dueFrom, endpointId],
  );
}

describe('postgres: the queue under many writers', { skip }, () => {
  test('two stores (two pools, as two processes) racing for the same rows never hold one row twice', async () => {
    const f = await fixture();
    const other = await openPostgresStore({ url: f.url });
    try {
      const { appId, endpointIds } = await appWithEndpoints(f.store, 8);
      for (const id of endpointIds) await backlog(f.sql, appId, id, 60, T0 - 1000);
      const holder = new Map<number, string>();
      const twice: number[] = [];
      // Four claim loops per store, all at the same instant, until nothing is left to claim.
      const loop = async (store: Store, name: string) => {
        for (;;) {
          const batch: ClaimedDelivery[] = await store.claimDeliveries({
            workerId: name,
            now: T0,
            leaseMs: 60_000,
            limit: 7,
            perEndpointLimit: 3,
          });
          if (batch.length === 0) return;
          for (const c of batch) {
            if (holder.has(c.id)) twice.push(c.id);
            holder.set(c.id, name);
          }
        }
      };
      await Promise.all(
        [f.store, other].flatMap((store, s) => [0, 1, 2, 3].map((l) => loop(store, `store${s}-loop${l}`))),
      );
      assert.deepEqual(twice, []);
      assert.equal(holder.size, 8 * 60, 'every row was claimed');
      const byStore = new Set([...holder.values()].map((w) => w.slice(0, 6)));
      assert.deepEqual([...byStore].sort(), ['store0', 'store1'], 'both stores claimed');
    } finally {
      await other.close();
      await f.done();
    }
  });

  test('one endpoint with a large backlog does not starve the others, and costs the claim its quota only', async () => {
    const f = await fixture();
    try {
      const { appId, endpointIds } = await appWithEndpoints(f.store, 6);
      const [busy, ...small] = endpointIds as [string, ...string[]];
      // The busy endpoint's 20,000 rows are all due before any of the others'.
      await backlog(f.sql, appId, busy, 20_000, T0 - 100_000);
      for (const id of small) await backlog(f.sql, appId, id, 3, T0 - 10);
      // Idle endpoints (no rows) around them.
      await appWithEndpoints(f.store, 200);
      await f.sql.query('ANALYZE');

      const claims: ClaimedDelivery[][] = [];
      for (let i = 0; i < 3; i++) {
        claims.push(
          await f.store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 60_000, limit: 10, perEndpointLimit: 4 }),
        );
      }
      const counts = (batch: ClaimedDelivery[]) =>
        batch.reduce((m, c) => m.set(c.endpoint.id, (m.get(c.endpoint.id) ?? 0) + 1), new Map<string, number>());
      for (const batch of claims) {
        for (const n of counts(batch).values()) assert.ok(n <= 4, 'no endpoint gets more than its quota in a claim');
      }
      // Two claims of 10 in turn reach all six endpoints: the small ones got every row they had...
      assert.deepEqual(
        claims.slice(0, 2).map((b) => b.length),
        [10, 10],
      );
      const firstTwo = counts(claims.slice(0, 2).flat());
      for (const id of small) assert.equal(firstTwo.get(id), 3, `endpoint ${id}`);
      // ...and then the busy one, its quota per claim.
      assert.deepEqual([...counts(claims[2] as ClaimedDelivery[])], [[busy, 4]]);

      // What the claim reads follows what it takes, not the backlog or the idle endpoints: the index
      // entries and rows of `deliveries` that the plan touched, in a claim that is rolled back.
      await f.sql.query('BEGIN');
      const explained = await f.sql.query(`EXPLAIN (ANALYZE, FORMAT JSON) ${CLAIM}`, [
        T0,
        T0 + 60_000,
        'w',
        10,
        4,
        '',
        [],
        [],
        [],
        [],
      ]);
      await f.sql.query('ROLLBACK');
      const read = rowsRead(explained.rows[0]['QUERY PLAN'][0].Plan, 'deliveries');
      assert.ok(read > 0 && read < 200, `the claim read ${read} rows of deliveries, with 20,000 due`);
    } finally {
      await f.done();
    }
  });
});

/** Rows that the plan's nodes on `table` produced (or, for index scans, fetched), over all their loops. */
function rowsRead(plan: PlanNode, table: string): number {
  const own = plan['Relation Name'] === table ? plan['Actual Rows'] * plan['Actual Loops'] : 0;
  return own + (plan.Plans ?? []).reduce((sum, p) => sum + rowsRead(p, table), 0);
}
interface PlanNode {
  'Relation Name'?: string;
  'Actual Rows': number;
  'Actual Loops': number;
  Plans?: PlanNode[];
}

describe('postgres: migrations', { skip }, () => {
  test('stores opened at once on an empty database migrate it once, one after the other', async () => {
    const db = await databases.empty();
    try {
      const opened = await Promise.allSettled([1, 2, 3, 4, 5].map(() => openPostgresStore({ url: db.url })));
      const stores = opened.flatMap((o) => (o.status === 'fulfilled' ? [o.value] : []));
      const failures = opened.flatMap((o) => (o.status === 'rejected' ? [String(o.reason)] : []));
      if (failures.length > 0) await Promise.all(stores.map((s) => s.close()));
      assert.deepEqual(failures, []);
      const [first, second] = stores as [Store, Store];
      const app = await first.createApplication(
        { id: newId('app'), uid: 'u', name: 'a', metadata: {}, rateLimit: null },
        T0,
      );
      assert.deepEqual(await second.getApplication('u'), app);
      await Promise.all(stores.map((s) => s.close()));
      const sql = new pg.Client({ connectionString: db.url });
      await sql.connect();
      const versions = await sql.query('SELECT version FROM hookwarden_migrations ORDER BY version');
      await sql.end();
      assert.deepEqual(
        versions.rows.map((r) => r.version),
        MIGRATIONS.map((_, i) => i + 1),
      );
    } finally {
      await db.drop();
    }
  });

  test('a database migrated by a newer version is refused, with a stable code', async () => {
    const f = await fixture();
    try {
      await f.sql.query('INSERT INTO hookwarden_migrations (version) VALUES ($1)', [MIGRATIONS.length + 1]);
      await assert.rejects(openPostgresStore({ url: f.url }), {
        code: 'HW_SCHEMA_TOO_NEW',
        message: new RegExp(
          `version ${MIGRATIONS.length + 1}, newer than this Hookwarden knows \\(${MIGRATIONS.length}\\)`,
        ),
      });
    } finally {
      await f.done();
    }
  });

  test('a migration that fails leaves the schema as it was', async () => {
    const f = await fixture();
    const db = new Db({ url: f.url, max: 1, connectTimeoutMs: 5000, applicationName: 'test' });
    try {
      await assert.rejects(
        migrate(db, [...MIGRATIONS, 'CREATE TABLE half_done (id int); SELECT 1 / 0']),
        /division by zero/,
      );
      const left = await f.sql.query(
        "SELECT to_regclass('half_done') AS half, (SELECT max(version) FROM hookwarden_migrations) AS version",
      );
      assert.deepEqual(left.rows[0], { half: null, version: MIGRATIONS.length });
    } finally {
      await db.close();
      await f.done();
    }
  });
});

describe('postgres: schema', { skip }, () => {
  test('every foreign key leads an index, so a cascading delete never scans a whole table', async () => {
    const f = await fixture();
    try {
      const r = await f.sql.query(
        `SELECT c.conrelid::regclass::text AS tbl, a.attname AS col
         FROM pg_constraint c JOIN pg_attribute a ON a.attrelid = c.conrelid AND a.attnum = c.conkey[1]
         WHERE c.contype = 'f' AND NOT EXISTS (
           SELECT 1 FROM pg_index i WHERE i.indrelid = c.conrelid AND i.indkey[0] = c.conkey[1] AND i.indpred IS NULL)
         ORDER BY 1, 2`,
      );
      assert.deepEqual(r.rows, []);
      const fks = await f.sql.query("SELECT count(*)::int AS n FROM pg_constraint WHERE contype = 'f'");
      assert.ok(fks.rows[0].n >= 8, 'the check saw the foreign keys');
    } finally {
      await f.done();
    }
  });
});

describe('postgres: what PostgreSQL cannot store', { skip }, () => {
  test('a NUL character in a name is refused as invalid input; in what a receiver answered, it is replaced', async () => {
    const f = await fixture();
    try {
      await assert.rejects(
        f.store.createApplication({ id: newId('app'), uid: null, name: 'a\0b', metadata: {}, rateLimit: null }, T0),
        { code: 'HW_VALIDATION_FAILED', status: 422 },
      );
      const { appId, endpointIds } = await appWithEndpoints(f.store, 1);
      const m = (await f.store.createMessage(newMessage(appId, T0), {})).message;
      const [c] = await f.store.claimDeliveries({ workerId: 'w', now: T0, leaseMs: 1000, limit: 10 });
      assert.ok(c);
      const attempt = {
        id: newId('atmpt'),
        msgId: m.id,
        endpointId: endpointIds[0] as string,
        appId,
        url: c.endpoint.url,
        status: 2,
        statusCode: 500,
        response: 'bin\0ary',
        durationMs: 1,
        failureKind: 'http_status',
        failureMessage: null,
        tls: null,
        triggerType: 0,
        createdAt: T0,
      } as const;
      await f.store.recordOutcomes([{ deliveryId: c.id, attempt }], T0);
      assert.equal((await f.store.getAttempt(appId, m.id, attempt.id))?.response, 'bin\uFFFDary');
    } finally {
      await f.done();
    }
  });
});
