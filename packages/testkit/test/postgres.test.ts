import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { needPostgres, postgresBinDir, startPostgres } from '../src/postgres.ts';

function psql(url: string, sql: string): { ok: boolean; out: string } {
  const r = spawnSync(
    join(postgresBinDir() as string, 'psql'),
    ['-X', '-A', '-t', '-v', 'ON_ERROR_STOP=1', url, '-c', sql],
    {
      encoding: 'utf8',
    },
  );
  return { ok: r.status === 0, out: (r.stdout + r.stderr).trim() };
}

test('a throwaway cluster starts on loopback, survives an immediate stop, and is removed', {
  skip: needPostgres(),
}, async () => {
  const pg = await startPostgres();
  let dataDir: string | undefined;
  try {
    assert.equal(psql(pg.url(), 'CREATE TABLE t (v int); INSERT INTO t VALUES (41);').ok, true, pg.log());
    dataDir = psql(pg.url(), 'SHOW data_directory').out;
    assert.ok(existsSync(dataDir), dataDir);
    assert.equal(psql(pg.url(), "SELECT current_setting('listen_addresses')").out, '127.0.0.1');

    await pg.stop('immediate');
    assert.equal(pg.running, false);
    assert.equal(psql(pg.url(), 'SELECT 1').ok, false, 'a stopped cluster answers nothing');

    await pg.start();
    assert.equal(pg.running, true);
    assert.equal(psql(pg.url(), 'SELECT v + 1 FROM t').out, '42', 'what was committed survives the crash');
  } finally {
    await pg.destroy();
  }
  assert.equal(pg.running, false);
  assert.equal(existsSync(dataDir as string), false, 'the data directory is gone');
});
