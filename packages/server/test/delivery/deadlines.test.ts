import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDeadlineSweep } from '../../src/delivery/deadlines.ts';

test('entries expire in the order they were added; a settled entry never expires', async () => {
  const expired: string[] = [];
  let allDone!: () => void;
  const done = new Promise<void>((resolve) => {
    allDone = resolve;
  });
  const sweep = createDeadlineSweep<string>(20, (e) => {
    expired.push(e);
    if (expired.length === 3) allDone();
  });
  const handles = ['a', 'b', 'settled', 'c'].map((e) => sweep.add(e));
  handles[2]?.settle();
  // Settling twice changes nothing.
  handles[2]?.settle();
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
  const handles = Array.from({ length: 5 }, () => sweep.add({}));
  // Settled out of order: from the middle, then the ends.
  for (const i of [2, 0, 4, 1, 3]) handles[i]?.settle();
  assert.equal(sweep.size, 0);
  // With a 60 s timer still armed, node:test would wait for it before finishing this file.
});

test('settling from the middle keeps the order of the rest', async () => {
  const expired: number[] = [];
  let finished!: () => void;
  const done = new Promise<void>((resolve) => {
    finished = resolve;
  });
  const sweep = createDeadlineSweep<number>(10, (e) => {
    expired.push(e);
    if (expired.length === 3) finished();
  });
  const handles = [1, 2, 3, 4, 5].map((e) => sweep.add(e));
  handles[1]?.settle();
  handles[3]?.settle();
  assert.equal(sweep.size, 3);
  await done;
  assert.deepEqual(expired, [1, 3, 5]);
  // Expired entries settle as no-ops.
  handles[0]?.settle();
  assert.equal(sweep.size, 0);
});
