import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDeadlineSweep } from '../../src/delivery/deadlines.ts';

test('entries expire in the order they were added; a deleted entry never expires', async () => {
  const expired: string[] = [];
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const sweep = createDeadlineSweep<string>(20, (e) => {
    expired.push(e);
    if (expired.length === 3) allDone();
  });
  for (const e of ['a', 'b', 'settled', 'c']) sweep.add(e);
  sweep.delete('settled');
  await done;
  assert.deepEqual(expired, ['a', 'b', 'c']);
  assert.equal(sweep.size, 0);
});

test('an entry added while the sweep waits for an older one still expires, after it', async () => {
  const expired: number[] = [];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const sweep = createDeadlineSweep<number>(15, (e) => {
    expired.push(e);
    // The first expiry adds a later entry: the sweep re-arms for it.
    if (e === 1) sweep.add(3);
    if (e === 3) finished();
  });
  sweep.add(1);
  sweep.add(2);
  await done;
  assert.deepEqual(expired, [1, 2, 3]);
});

test('an emptied sweep holds no timer: the process has nothing left to wait for', async () => {
  const sweep = createDeadlineSweep<object>(60_000, () => assert.fail('nothing may expire'));
  const entries = Array.from({ length: 5 }, () => ({}));
  for (const e of entries) sweep.add(e);
  for (const e of entries) sweep.delete(e);
  sweep.delete({});
  assert.equal(sweep.size, 0);
  // With a 60 s timer still armed, node:test would wait for it before finishing this file.
});
