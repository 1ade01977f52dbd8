import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { startApi } from './harness.ts';

// Clients generated from Svix's earlier API documents call `/api/v1/app/`, `/api/v1/app/{id}/`.
let h: Awaited<ReturnType<typeof startApi>>;
before(async () => {
  h = await startApi();
});
after(() => h.close());

test('every path answers with a trailing slash as without one', async () => {
  const created = await h.request('POST', '/api/v1/app/', { name: 'slash', uid: 'slash-app' });
  assert.equal(created.status, 201, JSON.stringify(created.body));
  const id = created.body.id as string;

  const got = await h.request('GET', `/api/v1/app/${id}/`);
  assert.equal(got.status, 200);
  assert.equal(got.body.uid, 'slash-app');

  const listed = await h.request('GET', '/api/v1/app/?limit=10');
  assert.equal(listed.status, 200);
  assert.deepEqual(
    listed.body.data.map((a: { id: string }) => a.id),
    [id],
  );

  const ep = await h.request('POST', `/api/v1/app/${id}/endpoint/`, { url: 'https://receiver.example/hook' });
  assert.equal(ep.status, 201, JSON.stringify(ep.body));
  const secret = await h.request('GET', `/api/v1/app/${id}/endpoint/${ep.body.id}/secret/`);
  assert.equal(secret.status, 200);
  assert.match(secret.body.key, /^whsec_/);

  assert.equal((await h.request('GET', '/api/v1/health/', undefined, '')).status, 204);
});

test('a trailing slash changes neither validation, authentication nor unknown paths', async () => {
  const bad = await h.request('POST', '/api/v1/app/', { name: 5 });
  assert.equal(bad.status, 422);
  assert.equal(bad.body.code, 'validation_error');
  assert.deepEqual(bad.body.detail[0].loc, ['body', 'name']);

  const anonymous = await h.request('GET', '/api/v1/app/', undefined, '');
  assert.equal(anonymous.status, 401);
  assert.equal(typeof anonymous.body.code, 'string');

  const unknown = await h.request('GET', '/api/v1/nothing-here/');
  assert.equal(unknown.status, 404);
  assert.equal(typeof unknown.body.detail, 'string');
});
