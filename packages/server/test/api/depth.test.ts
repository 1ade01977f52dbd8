import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import fc from 'fast-check';
import { MAX_JSON_DEPTH, pathTooDeep } from '../../src/api/depth.ts';
import { type Harness, startApi } from './harness.ts';

/** Levels of objects and arrays, the value itself being level 1 (0 for a scalar). */
function depthOf(v: unknown): number {
  if (v === null || typeof v !== 'object') return 0;
  return 1 + Math.max(0, ...Object.values(v).map(depthOf));
}

const nested = (levels: number, leaf: unknown = 1): unknown => {
  let v: unknown = leaf;
  for (let i = 0; i < levels; i++) v = i % 2 ? [v] : { a: v };
  return v;
};

test('pathTooDeep finds a value past the limit exactly when the body nests deeper, and names where', () => {
  fc.assert(
    fc.property(fc.jsonValue({ maxDepth: 8 }), fc.integer({ min: 1, max: 8 }), (v, max) => {
      const at = pathTooDeep(v, max);
      assert.equal(at === undefined, depthOf(v) <= max);
      if (at !== undefined) {
        let node: unknown = v;
        for (const key of at) node = (node as Record<string, unknown>)[key];
        assert.equal(at.length, max);
        assert.ok(node !== null && typeof node === 'object');
      }
    }),
  );
  // Far past the stack's depth, without overflowing it.
  assert.equal(pathTooDeep(nested(100_000), MAX_JSON_DEPTH)?.length, MAX_JSON_DEPTH);
});

/** The JSON text of `nested(levels)`, written without recursing. */
const nestedText = (levels: number): string => {
  let open = '';
  let close = '';
  for (let i = levels - 1; i >= 0; i--) {
    open += i % 2 ? '[' : '{"a":';
    close = (i % 2 ? ']' : '}') + close;
  }
  return `${open}1${close}`;
};

let h: Harness;
before(async () => {
  h = await startApi();
});
after(() => h.close());

test('a body nested past the limit is refused with 422 naming where, before any handler runs', async () => {
  const app = await h.request('POST', '/api/v1/app', { name: 'Deep' });
  const deep = await h.request(
    'POST',
    `/api/v1/app/${app.body.id}/msg`,
    `{"eventType":"e","payload":${nestedText(10_000)}}`,
  );
  assert.equal(deep.status, 422);
  assert.equal(deep.body.code, 'validation_error');
  assert.deepEqual(deep.body.detail[0].loc.slice(0, 4), ['body', 'payload', '0', 'a']);
  assert.equal(deep.body.detail[0].loc.length, MAX_JSON_DEPTH + 1);
  const schemas = await h.request(
    'POST',
    '/api/v1/event-type',
    `{"name":"deep.schema","description":"d","schemas":{"1":${nestedText(5_000)}}}`,
  );
  assert.equal(schemas.status, 422);
  assert.equal((await h.store.listMessages(app.body.id, { limit: 10 })).data.length, 0);
  // Within the limit (the body, the payload, then its levels) it is an ordinary message.
  const fine = await h.request('POST', `/api/v1/app/${app.body.id}/msg`, {
    eventType: 'e',
    payload: nested(MAX_JSON_DEPTH - 1),
  });
  assert.equal(fine.status, 202);
});
