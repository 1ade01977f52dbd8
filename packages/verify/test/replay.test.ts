import assert from 'node:assert/strict';
import { test } from 'node:test';
import { MemoryReplayStore } from '../src/replay.ts';

test('a key is refused until it expires, then accepted again', async () => {
  let now = 1_000;
  const store = new MemoryReplayStore({ now: () => now });
  assert.equal(await store.remember('a', 2_000), true);
  assert.equal(await store.remember('a', 2_000), false);
  now = 2_001;
  assert.equal(await store.remember('a', 3_000), true);
  assert.equal(await store.remember('a', 3_000), false);
});

test('expired keys are swept and the size stays bounded', async () => {
  let now = 0;
  const store = new MemoryReplayStore({ maxEntries: 100, now: () => now });
  for (let i = 0; i < 50; i++) assert.equal(await store.remember(`old${i}`, 10), true);
  now = 11;
  for (let i = 0; i < 20; i++) await store.remember(`new${i}`, 1_000);
  assert.ok(store.size < 50, `expired keys linger: ${store.size}`);
  for (let i = 0; i < 500; i++) await store.remember(`k${i}`, 1_000);
  assert.equal(store.size, 100);
  // the most recent keys are the ones kept
  assert.equal(await store.remember('k499', 1_000), false);
});

test('options are validated', () => {
  assert.throws(() => new MemoryReplayStore({ maxEntries: 0 }), /replay\.maxEntries/);
});
