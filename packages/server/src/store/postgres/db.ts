import pg from 'pg';
import { ServerError } from '../../errors.ts';
import { storageFault } from '../faults.ts';

export type Row = Record<string, unknown>;

/**
 * bigint columns (milliseconds, delivery ids, counts) as JavaScript numbers: every one stays far
 * below 2^53. Per pool, so that the `pg` module's global parsers stay as other users expect them.
 */
const INT8 = 20;
const types = {
  getTypeParser: ((oid: number, format?: 'text' | 'binary') =>
    oid === INT8 && format !== 'binary'
      ? Number
      : pg.types.getTypeParser(oid, format)) as typeof pg.types.getTypeParser,
};

// Deadlock, serialisation failure: the statement was rolled back whole and may simply run again.
const RETRIED_STATES = new Set(['40P01', '40001']);
const RETRIES = 3;

// 22021: a NUL character (PostgreSQL text cannot hold one); 22P05: jsonb's \u0000.
const UNSTORABLE_STATES = new Set(['22021', '22P05']);

/** A driver error as the store's callers see it (faults.ts); anything unexpected is passed on unchanged. */
export function storeError(err: unknown): unknown {
  if (err instanceof ServerError) return err;
  const fault = storageFault(err);
  if (fault) return fault;
  if (UNSTORABLE_STATES.has((err as { code?: string })?.code ?? '')) {
    return new ServerError('HW_VALIDATION_FAILED', 'a text value holds a NUL character, which cannot be stored', {
      status: 422,
      cause: err,
    });
  }
  return err;
}

/** The SQLSTATE of a driver error, and for a unique violation the constraint it broke. */
export function violated(err: unknown): string | undefined {
  const e = err as { code?: string; constraint?: string };
  return e?.code === '23505' ? e.constraint : undefined;
}

export interface DbOptions {
  url: string;
  max: number;
  connectTimeoutMs: number;
  applicationName: string;
}

/**
 * The pool and the one way statements are run. Every statement is sent unnamed and on its own (no
 * session state, no explicit transaction unless asked for), so that the store works through
 * PgBouncer in transaction mode.
 */
export class Db {
  readonly pool: pg.Pool;
  private closed = false;

  constructor(o: DbOptions) {
    this.pool = new pg.Pool({
      connectionString: o.url,
      max: o.max,
      connectionTimeoutMillis: o.connectTimeoutMs,
      application_name: o.applicationName,
      keepAlive: true,
      types,
    });
    // An idle connection that dies (the server restarted) is dropped by the pool and replaced on
    // the next query; without a listener its error would end the process.
    this.pool.on('error', () => {});
  }

  async query(sql: string, params: readonly unknown[] = []): Promise<pg.QueryResult<Row>> {
    if (this.closed) throw new ServerError('HW_STORE_CLOSED', 'the store is closed');
    for (let attempt = 1; ; attempt++) {
      try {
        return await this.pool.query<Row>(sql, params as unknown[]);
      } catch (err) {
        const state = (err as { code?: string }).code ?? '';
        if (attempt < RETRIES && RETRIED_STATES.has(state)) continue;
        throw storeError(err);
      }
    }
  }

  async rows(sql: string, params?: readonly unknown[]): Promise<Row[]> {
    return (await this.query(sql, params)).rows;
  }

  async row(sql: string, params?: readonly unknown[]): Promise<Row | undefined> {
    return (await this.query(sql, params)).rows[0];
  }

  /** How many rows the statement changed. */
  async changes(sql: string, params?: readonly unknown[]): Promise<number> {
    return (await this.query(sql, params)).rowCount ?? 0;
  }

  /** Runs `work` in one transaction on one connection (migrations only: every operation is one statement). */
  async transaction<T>(work: (client: pg.PoolClient) => Promise<T>): Promise<T> {
    let client: pg.PoolClient;
    try {
      client = await this.pool.connect();
    } catch (err) {
      throw storeError(err);
    }
    try {
      await client.query('BEGIN');
      const result = await work(client);
      await client.query('COMMIT');
      client.release();
      return result;
    } catch (err) {
      // A connection whose rollback fails is broken: the pool discards it rather than reuse it.
      const broken = await client.query('ROLLBACK').then(
        () => undefined,
        (e: Error) => e,
      );
      client.release(broken);
      throw storeError(err);
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pool.end();
  }
}
