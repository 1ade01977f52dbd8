import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import { after, before, describe, test } from 'node:test';
import { openPkiStore } from '@hookwarden/pki';
import { needPostgres, type Postgres, startPostgres } from '@hookwarden/testkit';
import pg from 'pg';
import { databaseFiles, sharedSecret } from '../../src/identity/database-files.ts';
import { createSealer } from '../../src/sealing.ts';
import { openPostgresStore } from '../../src/store/postgres/index.ts';

describe('the platform identity in PostgreSQL', { skip: needPostgres() }, () => {
  let server: Postgres;
  const pools: pg.Pool[] = [];
  let db = 0;
  const masterKey = randomBytes(32);

  /** A fresh migrated database, and a pool on it per "node". */
  async function database(nodes: number): Promise<pg.Pool[]> {
    const name = `files_${++db}`;
    const admin = new pg.Pool({ connectionString: server.url() });
    await admin.query(`CREATE DATABASE ${name}`);
    await admin.end();
    const list = Array.from({ length: nodes }, () => new pg.Pool({ connectionString: server.url(name), max: 2 }));
    pools.push(...list);
    // The store's migrations make the table.
    await (await openPostgresStore({ url: server.url(name) })).close();
    return list;
  }

  before(async () => {
    server = await startPostgres();
  });
  after(async () => {
    await Promise.all(pools.map((p) => p.end()));
    await server?.destroy();
  });

  test('every node reads the identity one of them created and another rotated; keys are sealed at rest', async () => {
    const [a, b] = (await database(2)) as [pg.Pool, pg.Pool];
    const storeA = await openPkiStore(databaseFiles(a, createSealer(masterKey), 'pki/'));
    const storeB = await openPkiStore(databaseFiles(b, createSealer(masterKey), 'pki/'));
    assert.equal(storeB.exists(), false);
    const created = await storeA.init({ subject: 'CN=shared' });
    await storeB.reload();
    assert.equal(storeB.identity().keyPem, created.keyPem);
    const rotated = await storeB.rotate();
    await storeA.reload();
    assert.equal(storeA.identity().next?.fingerprints.sha256, rotated.next?.fingerprints.sha256);

    const { rows } = await a.query<{ name: string; content: string; secret: boolean }>(
      'SELECT name, content, secret FROM platform_files',
    );
    assert.ok(rows.length >= 7);
    for (const r of rows) {
      assert.ok(r.name.startsWith('pki/'));
      assert.equal(r.content.includes('PRIVATE KEY'), false, `${r.name} holds no key in clear`);
      assert.equal(r.secret, r.name.endsWith('-key.pem'), r.name);
    }
  });

  test('a node given another master key, or a secret stored unsealed, is refused with the reason', async () => {
    const [a] = (await database(1)) as [pg.Pool];
    await (await openPkiStore(databaseFiles(a, createSealer(masterKey), 'pki/'))).init({ subject: 'CN=k' });
    await assert.rejects(openPkiStore(databaseFiles(a, createSealer(randomBytes(32)), 'pki/')), {
      code: 'HW_MASTER_KEY_MISMATCH',
      message: /sealed with master key .* give every node the same master key/,
    });
    await a.query("UPDATE platform_files SET secret = false, content = 'x' WHERE name LIKE '%-key.pem'");
    await assert.rejects(openPkiStore(databaseFiles(a, createSealer(masterKey), 'pki/')), {
      code: 'HW_PKI_STORE_PERMISSIONS',
    });
  });

  test('a database that does not answer is told as such, never as a store to restore', async () => {
    const [a] = (await database(1)) as [pg.Pool];
    await (await openPkiStore(databaseFiles(a, createSealer(masterKey), 'pki/'))).init({ subject: 'CN=k' });
    const gone = new pg.Pool({ connectionString: server.url('no_such_database') });
    pools.push(gone);
    await assert.rejects(openPkiStore(databaseFiles(gone, createSealer(masterKey), 'pki/')), {
      code: 'HW_PKI_STORE_UNAVAILABLE',
      message: /^the database did not answer: database "no_such_database" does not exist/,
    });
  });

  test('nodes starting at once on an empty database end with one identity and one admin token', async () => {
    const nodes = await database(3);
    const stores = await Promise.all(nodes.map((p) => openPkiStore(databaseFiles(p, createSealer(masterKey), 'pki/'))));
    const inits = await Promise.allSettled(stores.map((s, i) => s.init({ subject: `CN=node-${i}` })));
    assert.equal(inits.filter((r) => r.status === 'fulfilled').length, 1);
    for (const r of inits) if (r.status === 'rejected') assert.equal(r.reason.code, 'HW_PKI_STORE_EXISTS');
    for (const s of stores) await s.reload();
    assert.equal(new Set(stores.map((s) => s.identity().certPem)).size, 1);

    const tokens = await Promise.all(
      nodes.map((p, i) =>
        sharedSecret(databaseFiles(p, createSealer(masterKey), ''), 'admin-token', () => `token-${i}`),
      ),
    );
    assert.equal(new Set(tokens.map((t) => t.value)).size, 1, 'every node accepts the same token');
    assert.equal(tokens.filter((t) => t.created).length, 1, 'one node created it (and prints it)');
  });
});
