import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@hookwarden/testkit';

const BIN = fileURLToPath(new URL('../bin/hookwarden.js', import.meta.url));
const UNREAPED = fileURLToPath(new URL('./helpers/unreaped.mjs', import.meta.url));
const TOKEN = 'restart-test-admin-token-0123456789';
const dir = tempDir();
const children: ChildProcess[] = [];

after(() => {
  for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
  dir.cleanup();
});

/**
 * `hookwarden serve` on the shared data directory, under a parent that leaves it unreaped once
 * killed (helpers/unreaped.mjs). Resolves with the server's pid and URL once it listens; rejects with
 * what it wrote if it exits first.
 */
async function serve(): Promise<{ parent: ChildProcess; pid: number; url: string }> {
  const parent = spawn(process.execPath, [UNREAPED, BIN, 'serve', '--port', '0', '--data', dir.path], {
    env: { ...process.env, HOOKWARDEN_ADMIN_TOKEN: TOKEN, HOOKWARDEN_LOG_LEVEL: 'info' },
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  children.push(parent);
  let out = '';
  let err = '';
  parent.stderr?.on('data', (c: Buffer) => {
    err += c.toString();
  });
  const listening = await new Promise<{ pid: number; url: string }>((resolve, reject) => {
    parent.stdout?.on('data', (c: Buffer) => {
      out += c.toString();
      const m = /"pid":(\d+)[^\n]*"url":"(http:\/\/[^"]+)"[^\n]*"msg":"hookwarden listening"/.exec(out);
      if (m) resolve({ pid: Number(m[1]), url: m[2] as string });
    });
    parent.once('exit', () => reject(new Error(`serve stopped before listening: ${err}${out.slice(-2000)}`)));
  });
  parent.stdout?.resume();
  return { parent, ...listening };
}

/** The process state letter from /proc (Z: exited, not yet reaped). */
const stateOf = (pid: number) => readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]?.[0];

test('kill -9 of serve and an immediate restart, with the killed one still unreaped: 10 times in a row', {
  // Eleven starts of the real CLI (about a second each on a quiet 2-core machine).
  timeout: 170_000,
}, async () => {
  let current = await serve();
  for (let round = 0; round < 10; round++) {
    // SIGKILL, and the next one starts at once, without waiting for anything.
    current.parent.kill('SIGUSR2');
    const next = await serve();
    assert.equal(stateOf(current.pid), 'Z', `round ${round}: the killed server is a zombie, its pid still taken`);
    assert.equal((await fetch(`${next.url}/api/v1/health`)).status, 204, `round ${round}: the new server answers`);
    current.parent.stdin?.write('r');
    await once(current.parent, 'exit');
    current = next;
  }
  process.kill(current.pid, 'SIGTERM');
  const [code] = await once(current.parent, 'exit');
  assert.equal(code, 0, 'the last one stops cleanly');
});
