import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { MAX_CHECKS_IN_FLIGHT } from '../../src/services/checks.ts';
import { startApi } from './harness.ts';

/** A checker whose checks stay in flight until the test lets them finish. */
function heldChecker() {
  const waiting: { url: string; finish: () => void }[] = [];
  let onCall: (() => void) | undefined;
  return {
    check: (target: { url: string }) =>
      new Promise<unknown>((resolve, reject) => {
        const finish = () => (target.url.includes('/fail') ? reject(new Error('checker broke')) : resolve({ ok: 1 }));
        waiting.push({ url: target.url, finish });
        onCall?.();
      }),
    /** Resolves once `n` checks are in flight (counted from the start). */
    started(n: number): Promise<void> {
      return new Promise((resolve) => {
        const check = () => {
          if (waiting.length >= n) resolve();
        };
        onCall = check;
        check();
      });
    },
    finishAll() {
      for (const w of waiting.splice(0)) w.finish();
    },
  };
}

const held = heldChecker();
let h: Awaited<ReturnType<typeof startApi>>;
let appId: string;
const endpoints: string[] = [];
before(async () => {
  h = await startApi({ check: held.check });
  appId = (await h.request('POST', '/api/v1/app', { name: 'a' })).body.id;
  for (let i = 0; i <= MAX_CHECKS_IN_FLIGHT; i++) {
    const url = `https://hooks${i}.example.com/${i === 0 ? 'fail' : 'in'}`;
    endpoints.push((await h.request('POST', `/api/v1/app/${appId}/endpoint`, { url })).body.id);
  }
});
after(async () => {
  held.finishAll();
  await h.close();
});

const checkEndpoint = (id: string) => h.request('POST', `/api/v1/app/${appId}/endpoint/${id}/check`, {});

test('checks beyond the process-wide bound, or a second one of the same endpoint, get 429', async () => {
  const running = endpoints.slice(0, MAX_CHECKS_IN_FLIGHT).map(checkEndpoint);
  await held.started(MAX_CHECKS_IN_FLIGHT);

  const full = await checkEndpoint(endpoints[MAX_CHECKS_IN_FLIGHT]!);
  assert.equal(full.status, 429);
  assert.equal(full.body.code, 'HW_CHECK_BUSY');
  assert.match(full.body.detail, /checks are already running/);
  assert.ok(Number(full.headers.get('retry-after')) > 0);
  const admin = await h.request('POST', '/api/v1/check', { url: 'https://other.example.com/' });
  assert.equal(admin.status, 429);

  held.finishAll();
  const done = await Promise.all(running);
  // The checker that threw released its slot too.
  assert.deepEqual(
    done.map((r) => r.status),
    [500, ...Array(MAX_CHECKS_IN_FLIGHT - 1).fill(200)],
  );

  const first = checkEndpoint(endpoints[1]!);
  await held.started(1);
  const again = await checkEndpoint(endpoints[1]!);
  assert.equal(again.status, 429);
  assert.match(again.body.detail, /already running/);
  // Another endpoint still fits under the bound.
  const other = checkEndpoint(endpoints[2]!);
  await held.started(2);
  held.finishAll();
  assert.deepEqual([(await first).status, (await other).status], [200, 200]);
});
