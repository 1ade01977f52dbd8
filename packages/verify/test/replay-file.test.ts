import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { once } from 'node:events';
import { chmodSync, readdirSync, utimesSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { after, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { tempDir } from '@hookwarden/testkit';
import { FileReplayStore } from '../src/replay-file.ts';

const dirs: { cleanup(): void }[] = [];
after(() => {
  for (const d of dirs) d.cleanup();
});
function freshDir(): string {
  const d = tempDir('hw-replay-');
  dirs.push(d);
  return join(d.path, 'replay');
}

const STORE = fileURLToPath(new URL('../src/replay-file.ts', import.meta.url));

/**
 * A separate Node process holding its own FileReplayStore on `dir`. It reads commands from stdin
 * (`remember <key> <expiresAtMs>` answers `true`/`false`; `go <n> <expiresAtMs>` remembers keys
 * k0..k<n-1> and answers with the ones it won) and answers one line each.
 */
function storeProcess(dir: string): {
  child: ChildProcess;
  ready: Promise<string>;
  ask(line: string): Promise<string>;
} {
  const script = `
    import { createInterface } from 'node:readline';
    const { FileReplayStore } = await import(${JSON.stringify(STORE)});
    const store = new FileReplayStore({ dir: ${JSON.stringify(dir)} });
    process.stdout.write('ready\\n');
    for await (const line of createInterface({ input: process.stdin })) {
      const [cmd, a, b] = line.split(' ');
      if (cmd === 'remember') process.stdout.write(String(await store.remember(a, Number(b))) + '\\n');
      if (cmd === 'go') {
        const won = [];
        await Promise.all(Array.from({ length: Number(a) }, async (_, i) => {
          if (await store.remember('k' + i, Number(b))) won.push(i);
        }));
        process.stdout.write(JSON.stringify(won) + '\\n');
      }
    }
  `;
  const child = spawn(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! });
  const waiting: ((line: string) => void)[] = [];
  const early: string[] = [];
  lines.on('line', (line) => {
    const w = waiting.shift();
    if (w) w(line);
    else early.push(line);
  });
  const next = () =>
    new Promise<string>((resolve) => {
      const line = early.shift();
      if (line !== undefined) resolve(line);
      else waiting.push(resolve);
    });
  const ready = next();
  return {
    child,
    ready,
    async ask(line: string) {
      assert.equal(await ready, 'ready');
      child.stdin!.write(`${line}\n`);
      return next();
    },
  };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGKILL');
  await exited;
}

describe('FileReplayStore', () => {
  test('a key is refused until it expires, then accepted again', async () => {
    let now = 1_000;
    const store = new FileReplayStore({ dir: freshDir(), now: () => now });
    assert.equal(await store.remember('msg_1.1700000000', 2_000), true);
    assert.equal(await store.remember('msg_1.1700000000', 2_000), false);
    assert.equal(await store.remember('msg_2.1700000000', 2_000), true);
    now = 2_000;
    assert.equal(await store.remember('msg_1.1700000000', 3_000), true);
    assert.equal(await store.remember('msg_1.1700000000', 3_000), false);
    await store.settled();
  });

  test('another instance on the directory, as after a restart, sees the records', async () => {
    const dir = freshDir();
    const first = new FileReplayStore({ dir, now: () => 1_000 });
    assert.equal(await first.remember('a', 5_000), true);
    await first.settled();
    const second = new FileReplayStore({ dir, now: () => 1_000 });
    assert.equal(await second.remember('a', 5_000), false);
    assert.equal(await second.remember('b', 5_000), true);
    await second.settled();
  });

  test('concurrent processes on one directory: each key is accepted exactly once', async () => {
    const dir = freshDir();
    const processes = Array.from({ length: 3 }, () => storeProcess(dir));
    try {
      const expires = Date.now() + 3_600_000;
      // all started before any begins, so that their attempts overlap
      await Promise.all(processes.map((p) => p.ready));
      const answers = await Promise.all(processes.map((p) => p.ask(`go 100 ${expires}`)));
      const won = answers.flatMap((a) => JSON.parse(a) as number[]).sort((x, y) => x - y);
      assert.deepEqual(
        won,
        Array.from({ length: 100 }, (_, i) => i),
      );
    } finally {
      await Promise.all(processes.map((p) => stop(p.child)));
    }
  });

  test('a key accepted by a process that is then killed stays refused', async () => {
    const dir = freshDir();
    const p = storeProcess(dir);
    const expires = Date.now() + 3_600_000;
    try {
      assert.equal(await p.ask(`remember captured ${expires}`), 'true');
    } finally {
      await stop(p.child);
    }
    const store = new FileReplayStore({ dir });
    assert.equal(await store.remember('captured', expires), false);
    await store.settled();
  });

  test('an empty or unreadable record (a machine crash before it was flushed) counts as live for a day', async () => {
    const dir = freshDir();
    let now = Date.now();
    const store = new FileReplayStore({ dir, now: () => now, sweepIntervalMs: Number.POSITIVE_INFINITY });
    assert.equal(await store.remember('k', now + 1_000), true);
    const bucket = readdirSync(dir).find((d) => d !== 'tmp' && readdirSync(join(dir, d)).length > 0)!;
    const [name] = readdirSync(join(dir, bucket));
    const record = join(dir, bucket, name!);
    writeFileSync(record, '');
    const written = now;
    utimesSync(record, written / 1000, written / 1000);
    now += 2_000; // past the expiry the record held
    assert.equal(await store.remember('k', now + 1_000), false);
    now = written + 24 * 3600_000 + 1_000;
    assert.equal(await store.remember('k', now + 1_000), true);
  });

  test('sweeping removes expired records and stale temporary files, and keeps live ones', async () => {
    const dir = freshDir();
    let now = 10_000_000;
    const store = new FileReplayStore({ dir, now: () => now, sweepIntervalMs: Number.POSITIVE_INFINITY });
    for (let i = 0; i < 50; i++) assert.equal(await store.remember(`old${i}`, now + 1_000), true);
    for (let i = 0; i < 5; i++) assert.equal(await store.remember(`live${i}`, now + 60_000), true);
    const stale = join(dir, 'tmp', 'left-by-a-crash');
    writeFileSync(stale, '1');
    utimesSync(stale, 0, 0);
    now += 2_000;
    assert.equal(await store.sweep(), 50);
    const records = readdirSync(dir)
      .filter((d) => d !== 'tmp')
      .flatMap((d) => readdirSync(join(dir, d)));
    assert.equal(records.length, 5);
    assert.deepEqual(readdirSync(join(dir, 'tmp')), []);
    for (let i = 0; i < 5; i++) assert.equal(await store.remember(`live${i}`, now + 60_000), false);
  });

  test('the background sweep goes a bucket at a time as requests come', async () => {
    const dir = freshDir();
    let now = 10_000_000;
    const store = new FileReplayStore({ dir, now: () => now, sweepIntervalMs: 1 });
    for (let i = 0; i < 60; i++) await store.remember(`k${i}`, now + 10);
    now += 100;
    for (let i = 0; i < 256; i++) {
      now += 1;
      await store.remember(`n${i}`, now + 1_000_000);
      await store.settled();
    }
    const left = readdirSync(dir)
      .filter((d) => d !== 'tmp')
      .flatMap((d) => readdirSync(join(dir, d)));
    assert.equal(left.length, 256, 'only the live records are left');
  });

  test('options are validated', () => {
    assert.throws(() => new FileReplayStore({ dir: '' }), /replay\.dir/);
    assert.throws(() => new FileReplayStore({ dir: freshDir(), sweepIntervalMs: -1 }), /replay\.sweepIntervalMs/);
    const locked = freshDir();
    new FileReplayStore({ dir: locked });
    chmodSync(locked, 0o500);
    try {
      if (process.getuid?.() !== 0)
        assert.throws(() => new FileReplayStore({ dir: locked }), /replay\.dir: cannot be used/);
    } finally {
      chmodSync(locked, 0o700);
    }
  });
});
