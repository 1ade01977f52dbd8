import assert from 'node:assert/strict';
import { test } from 'node:test';
import type Database from 'better-sqlite3';
import { SERVER_CODES } from '../../src/errors.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import { startApi } from '../api/harness.ts';
import { customerOf, PortalClient } from './client.ts';

const READ_ONLY = SERVER_CODES.HW_STORE_READ_ONLY.message;

test('a database refusing writes: the API and the portal answer 503 with the fixed detail and Retry-After, logging no error', async () => {
  let db!: Database.Database;
  const store = openSqliteStore(':memory:', {
    connection: (c) => {
      db = c as Database.Database;
    },
  });
  const h = await startApi({ store, publicUrl: 'http://127.0.0.1' }, { log: true, portal: {} });
  try {
    const { app, url } = await customerOf(h);
    const c = new PortalClient(h.url);
    const page = await c.get('/portal/login');
    // Every write on the store's connection now fails with SQLITE_READONLY.
    db.pragma('query_only = ON');

    const api = await h.request('POST', '/api/v1/app', { name: 'refused' });
    assert.equal(api.status, 503);
    assert.equal(api.headers.get('retry-after'), '5');
    assert.deepEqual(api.body, { code: 'HW_STORE_READ_ONLY', detail: READ_ONLY });
    assert.equal((await h.request('GET', `/api/v1/app/${app.id}`)).status, 200, 'reads still work');

    // Signing in stores the session: refused, with the detail a person can act on.
    const signIn = await c.post('/portal/login', {
      _csrf: PortalClient.token(page.text),
      key: url.split('#key=')[1] as string,
    });
    assert.equal(signIn.status, 503);
    assert.equal(signIn.res.headers.get('retry-after'), '5');
    assert.ok(signIn.text.includes(READ_ONLY.replace(/'/g, '&#39;')), signIn.text);
    assert.doesNotMatch(signIn.text, /readonly database|SQLITE_/, 'never the driver’s words');
    assert.doesNotMatch(h.logged(), /"level":50/, 'no error line per refused request');
  } finally {
    await h.close();
    await store.close();
  }
});
