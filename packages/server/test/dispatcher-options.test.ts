import assert from 'node:assert/strict';
import { test } from 'node:test';
import { createDispatcher } from '../src/dispatcher/dispatcher.ts';
import { openSqliteStore } from '../src/store/sqlite/index.ts';

test('dispatcher options are checked at creation, naming the field', async () => {
  const store = openSqliteStore(':memory:');
  const client = { deliver: async () => ({ ok: true, durationMs: 0, responseExcerpt: '' }) };
  const cases: [Record<string, unknown>, string][] = [
    [{ concurrency: 0 }, 'concurrency'],
    [{ concurrency: 4, perEndpointConcurrency: 8 }, 'perEndpointConcurrency'],
    [{ leaseMs: -1 }, 'leaseMs'],
    [{ retryScheduleMs: [] }, 'retryScheduleMs'],
    [{ retryScheduleMs: [0, -5] }, 'retryScheduleMs'],
    [{ jitter: 1 }, 'jitter'],
    [{ leaseMs: 1000, deliveryDeadlineMs: 600 }, 'leaseMs'],
  ];
  for (const [bad, field] of cases) {
    assert.throws(
      () => createDispatcher({ store, client, ...bad }),
      (err: { code: string; message: string }) => err.code === 'HW_OPTION_INVALID' && err.message.includes(field),
      field,
    );
  }
  await store.close();
});
