import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import Database from 'better-sqlite3';
import fc from 'fast-check';
import { errorReply } from '../../src/api/errors.ts';
import { SERVER_CODES, ServerError, serverError } from '../../src/errors.ts';
import {
  STORAGE_FAULT_CODES,
  STORAGE_RETRY_AFTER_SECONDS,
  StorageFault,
  type StorageFaultCode,
  storageFault,
} from '../../src/store/faults.ts';
import { packError, unpackError } from '../../src/store/sqlite/wire.ts';

/** A driver's error as better-sqlite3 or pg raise it: an Error with a `code`. */
const driverError = (code: string | undefined, message = 'driver words') =>
  Object.assign(new Error(message), code === undefined ? {} : { code });

const MAPPED: [string, StorageFaultCode][] = [
  ['SQLITE_FULL', 'HW_STORE_FULL'],
  ['SQLITE_READONLY', 'HW_STORE_READ_ONLY'],
  ['SQLITE_READONLY_DBMOVED', 'HW_STORE_READ_ONLY'],
  ['SQLITE_READONLY_DIRECTORY', 'HW_STORE_READ_ONLY'],
  ['SQLITE_IOERR', 'HW_STORE_UNAVAILABLE'],
  ['SQLITE_IOERR_WRITE', 'HW_STORE_UNAVAILABLE'],
  ['SQLITE_IOERR_FSYNC', 'HW_STORE_UNAVAILABLE'],
  ['SQLITE_CANTOPEN', 'HW_STORE_UNAVAILABLE'],
  ['SQLITE_BUSY', 'HW_STORE_BUSY'],
  ['SQLITE_BUSY_SNAPSHOT', 'HW_STORE_BUSY'],
  ['SQLITE_LOCKED', 'HW_STORE_BUSY'],
  // PostgreSQL's SQLSTATEs.
  ['53100', 'HW_STORE_FULL'],
  ['25006', 'HW_STORE_READ_ONLY'],
  ['53300', 'HW_STORE_BUSY'],
  ['55P03', 'HW_STORE_BUSY'],
  ['57P01', 'HW_STORE_UNAVAILABLE'],
  ['57P02', 'HW_STORE_UNAVAILABLE'],
  ['57P03', 'HW_STORE_UNAVAILABLE'],
  ['08000', 'HW_STORE_UNAVAILABLE'],
  ['08001', 'HW_STORE_UNAVAILABLE'],
  ['08006', 'HW_STORE_UNAVAILABLE'],
  ['08P01', 'HW_STORE_UNAVAILABLE'],
  // The network's, as pg passes them on.
  ['ECONNREFUSED', 'HW_STORE_UNAVAILABLE'],
  ['ECONNRESET', 'HW_STORE_UNAVAILABLE'],
  ['ETIMEDOUT', 'HW_STORE_UNAVAILABLE'],
  ['EHOSTUNREACH', 'HW_STORE_UNAVAILABLE'],
  ['ENETUNREACH', 'HW_STORE_UNAVAILABLE'],
  ['ENOTFOUND', 'HW_STORE_UNAVAILABLE'],
  ['EAI_AGAIN', 'HW_STORE_UNAVAILABLE'],
  ['EPIPE', 'HW_STORE_UNAVAILABLE'],
];

test('each SQLite code and PostgreSQL SQLSTATE that is a storage fault maps to its code, 503, the driver words kept', () => {
  for (const [driverCode, code] of MAPPED) {
    const err = driverError(driverCode, 'what the driver said');
    const fault = storageFault(err);
    assert.ok(fault instanceof StorageFault, driverCode);
    assert.equal(fault.code, code, driverCode);
    assert.equal(fault.status, 503, driverCode);
    assert.equal(fault.detail, SERVER_CODES[code].message, driverCode);
    assert.equal(fault.reason, `${driverCode}: what the driver said`, driverCode);
    assert.equal(fault.cause, err, driverCode);
    assert.ok(fault.message.includes('what the driver said'), 'the message (log, CLI) keeps the driver words');
  }
});

test('pg’s own words for a lost or unobtainable connection (no code) are unavailable', () => {
  for (const message of [
    'Connection terminated unexpectedly',
    'Connection terminated due to connection timeout',
    'timeout exceeded when trying to connect',
    'Client has encountered a connection error and is not queryable',
  ]) {
    assert.equal(storageFault(driverError(undefined, message))?.code, 'HW_STORE_UNAVAILABLE', message);
  }
});

test('anything else is no storage fault: it stays internal', () => {
  const others: unknown[] = [
    driverError('SQLITE_CONSTRAINT_UNIQUE'),
    driverError('SQLITE_ERROR'),
    driverError('SQLITE_CORRUPT'),
    driverError('SQLITE_FULLISH'),
    driverError('23505'),
    driverError('42P01'),
    driverError('22021'),
    driverError('40P01'),
    driverError('ENOENT'),
    // Codes that name prototype members of a lookup table.
    driverError('toString'),
    driverError('valueOf'),
    driverError('constructor'),
    driverError('__proto__'),
    driverError(undefined, 'something else broke'),
    // A code with pg's words: the code decides.
    driverError('XX000', 'Connection terminated unexpectedly'),
    new Error('SQLITE_FULL'),
    new TypeError('x is not a function'),
    serverError('HW_NOT_FOUND'),
    serverError('HW_STORE_CLOSED'),
    null,
    undefined,
    'SQLITE_FULL',
    42,
    { code: 17 },
  ];
  for (const err of others) {
    assert.equal(storageFault(err), undefined, String((err as { code?: unknown })?.code ?? err));
    // The API answers it as internal (500, nothing told), or as the ServerError it is.
    if (!(err instanceof ServerError)) assert.equal(errorReply(err, 1024), undefined);
  }
});

/** The error `fn` throws. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (err) {
    return err;
  }
  assert.fail('no error thrown');
}

test('real driver errors: SQLite at its page limit is full, a read-only file is read-only', () => {
  const dir = tempDir();
  try {
    const path = join(dir.path, 'faults.db');
    const db = new Database(path);
    db.exec('CREATE TABLE t (x BLOB)');
    db.pragma(`max_page_count = ${db.pragma('page_count', { simple: true })}`);
    assert.equal(
      storageFault(thrown(() => db.prepare('INSERT INTO t VALUES (zeroblob(100000))').run()))?.code,
      'HW_STORE_FULL',
    );
    db.close();
    const ro = new Database(path, { readonly: true });
    assert.equal(storageFault(thrown(() => ro.prepare('INSERT INTO t VALUES (1)').run()))?.code, 'HW_STORE_READ_ONLY');
    ro.close();
  } finally {
    dir.cleanup();
  }
});

test('the API answers a storage fault with its fixed detail and Retry-After, never the driver’s words', () => {
  const raw = driverError('ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.9:5432');
  for (const err of [raw, storageFault(raw)]) {
    const reply = errorReply(err, 1024);
    assert.deepEqual(reply, {
      status: 503,
      body: { code: 'HW_STORE_UNAVAILABLE', detail: SERVER_CODES.HW_STORE_UNAVAILABLE.message },
      retryAfter: STORAGE_RETRY_AFTER_SECONDS,
    });
  }
});

const faultCode = fc.constantFrom(...STORAGE_FAULT_CODES);

test('property: classification never throws, and answers a fault with a fixed detail or nothing', () => {
  const code = fc.oneof(
    fc.string(),
    fc.constantFrom(...MAPPED.map(([c]) => c)),
    fc.constantFrom(...MAPPED.map(([c]) => c)).chain((c) => fc.string().map((tail) => c + tail)),
    fc.anything(),
  );
  const error = fc.oneof(
    fc.anything(),
    fc.record({ code, message: fc.oneof(fc.string(), fc.anything()) }, { requiredKeys: [] }),
  );
  fc.assert(
    fc.property(error, (err) => {
      const fault = storageFault(err);
      if (fault === undefined) return;
      assert.ok(fault instanceof StorageFault);
      assert.ok((STORAGE_FAULT_CODES as readonly string[]).includes(fault.code));
      const reply = errorReply(err, 1024);
      assert.equal(reply?.status, 503);
      assert.equal(reply?.body.detail, SERVER_CODES[fault.code].message);
    }),
    { numRuns: 2000 },
  );
});

test('property: a storage fault crosses the SQLite thread’s boundary intact', () => {
  fc.assert(
    fc.property(faultCode, fc.string(), (code, reason) => {
      const back = unpackError(structuredClone(packError(new StorageFault(code, reason))));
      assert.ok(back instanceof StorageFault);
      assert.equal(back.code, code);
      assert.equal(back.reason, reason);
      assert.equal(back.status, 503);
    }),
  );
});
