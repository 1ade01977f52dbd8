import assert from 'node:assert/strict';
import { test } from 'node:test';
import { serverError } from '../src/errors.ts';
import { StorageHealth, type StorageHealthOptions } from '../src/storage-health.ts';
import type { StorageFault } from '../src/store/faults.ts';

const full = () => Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
const busy = () => Object.assign(new Error('database is locked'), { code: 'SQLITE_BUSY' });

/** A tracker on a clock the test moves, its log lines and changes recorded. */
function tracker(o: Partial<StorageHealthOptions> = {}) {
  let clock = 1_000;
  const lines: { level: string; obj: Record<string, unknown>; msg: string }[] = [];
  const changes: (StorageFault | undefined)[] = [];
  const refused: string[] = [];
  const health = new StorageHealth({
    now: () => clock,
    probeMs: 1,
    log: {
      warn: (obj, msg) => lines.push({ level: 'warn', obj: obj as Record<string, unknown>, msg }),
      info: (obj, msg) => lines.push({ level: 'info', obj: obj as Record<string, unknown>, msg }),
    },
    onRefused: (code) => refused.push(code),
    onChange: (f) => changes.push(f),
    ...o,
  });
  return { health, current: () => health.current, lines, changes, refused, tick: (ms: number) => (clock += ms) };
}

test('a fault is told once when it begins and once when it ends, however many writes it refuses', () => {
  const t = tracker();
  assert.equal(t.current(), undefined);
  for (let i = 0; i < 50; i++) {
    const answered = t.health.failed(full(), true);
    assert.equal((answered as StorageFault).code, 'HW_STORE_FULL', 'the caller sees the classified fault');
  }
  t.health.failed(full(), false);
  assert.equal(t.current()?.code, 'HW_STORE_FULL');
  assert.equal(t.refused.length, 50, 'reads refused are not refused writes');
  assert.deepEqual(
    t.lines.map((l) => l.level),
    ['warn'],
  );
  assert.equal(t.lines[0]?.obj.code, 'HW_STORE_FULL');
  assert.equal(t.lines[0]?.obj.reason, 'SQLITE_FULL: database or disk is full');
  assert.equal('err' in (t.lines[0]?.obj ?? {}), false, 'no error object, so no stack trace');
  t.tick(2_500);
  t.health.wrote();
  assert.equal(t.current(), undefined, 'without a probe, a write that succeeds heals');
  assert.deepEqual(
    t.lines.map((l) => l.level),
    ['warn', 'info'],
  );
  assert.deepEqual(t.lines[1]?.obj, { code: 'HW_STORE_FULL', refused: 50, durationMs: 2_500 });
  assert.deepEqual(
    t.changes.map((c) => c?.code),
    ['HW_STORE_FULL', undefined],
  );
  t.health.wrote();
  assert.equal(t.lines.length, 2, 'a write while healthy tells nothing');
  t.health.close();
});

test('other failures pass through unchanged and leave the state alone', () => {
  const t = tracker();
  const other = new Error('a bug');
  assert.equal(t.health.failed(other, true), other);
  const notFound = serverError('HW_NOT_FOUND');
  assert.equal(t.health.failed(notFound, true), notFound);
  assert.equal(t.current(), undefined);
  assert.deepEqual(t.lines, []);
  assert.deepEqual(t.refused, []);
});

test('another fault is told as a change; the same one again is not', () => {
  const t = tracker();
  t.health.failed(full(), true);
  t.health.failed(full(), true);
  t.health.failed(busy(), true);
  assert.equal(t.current()?.code, 'HW_STORE_BUSY');
  assert.deepEqual(
    t.lines.map((l) => [l.level, l.obj.code, l.obj.previous]),
    [
      ['warn', 'HW_STORE_FULL', undefined],
      ['warn', 'HW_STORE_BUSY', 'HW_STORE_FULL'],
    ],
  );
  t.health.close();
});

/** Lets the probe's promise settle (setImmediate is not among the mocked timers). */
const settle = () => new Promise<void>((resolve) => setImmediate(resolve));

test('with a probe: only the probe heals, so writes that fit in what is there do not make the state flap', async (c) => {
  c.mock.timers.enable({ apis: ['setTimeout'] });
  let space = false;
  let probes = 0;
  const t = tracker({
    probeMs: 1_000,
    probe: async () => {
      probes++;
      if (!space) throw full();
    },
  });
  t.health.failed(full(), true);
  t.health.wrote();
  assert.equal(t.current()?.code, 'HW_STORE_FULL', 'a lease renewed in place proves no space');
  // The probe is tried every probeMs while the fault lasts; a failing one tells nothing more.
  for (let i = 1; i <= 3; i++) {
    c.mock.timers.tick(999);
    await settle();
    assert.equal(probes, i - 1, 'not before probeMs');
    c.mock.timers.tick(1);
    await settle();
    assert.equal(probes, i);
  }
  assert.equal(t.current()?.code, 'HW_STORE_FULL');
  assert.equal(t.lines.length, 1);
  t.tick(10_000);
  space = true;
  c.mock.timers.tick(1_000);
  await settle();
  assert.equal(t.current(), undefined, 'healed with no traffic at all');
  assert.deepEqual(
    t.lines.map((l) => l.level),
    ['warn', 'info'],
  );
  assert.equal(t.lines[1]?.obj.durationMs, 10_000);
  c.mock.timers.tick(10_000);
  await settle();
  assert.equal(probes, 4, 'no probing while healthy');
  t.health.close();
});

test('a probe failing otherwise than with a storage fault leaves the fault as it is', async (c) => {
  c.mock.timers.enable({ apis: ['setTimeout'] });
  const answers = [new Error('not a fault'), busy()];
  const t = tracker({
    probeMs: 1_000,
    probe: async () => {
      throw answers.shift() ?? full();
    },
  });
  t.health.failed(full(), true);
  c.mock.timers.tick(1_000);
  await settle();
  assert.equal(t.current()?.code, 'HW_STORE_FULL');
  c.mock.timers.tick(1_000);
  await settle();
  assert.equal(t.current()?.code, 'HW_STORE_BUSY', 'the second probe told of another fault');
  t.health.close();
});

test('close stops the probe', async (c) => {
  c.mock.timers.enable({ apis: ['setTimeout'] });
  let probes = 0;
  const t = tracker({
    probeMs: 1_000,
    probe: async () => {
      probes++;
      throw full();
    },
  });
  t.health.failed(full(), true);
  t.health.close();
  c.mock.timers.tick(5_000);
  await settle();
  assert.equal(probes, 0);
  assert.equal(t.current()?.code, 'HW_STORE_FULL');
});
