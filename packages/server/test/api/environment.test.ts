import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import type { Svix } from 'svix';
import { type Harness, startWithSdk } from './harness.ts';

let a: { h: Harness; svix: Svix };
let b: { h: Harness; svix: Svix };
before(async () => {
  a = await startWithSdk();
  b = await startWithSdk();
});
after(async () => {
  await a.h.close();
  await b.h.close();
});

const SCHEMA = { '1': { type: 'object', properties: { id: { type: 'string' } }, examples: [{ id: 'x' }] } };

test("an environment's event catalogue moves to another server through the svix SDK's export and import", async () => {
  await a.svix.eventType.create({ name: 'user.created', description: 'A user signed up', schemas: SCHEMA });
  await a.svix.eventType.create({ name: 'user.deleted', description: 'Gone', groupName: 'users', deprecated: true });
  await a.svix.eventType.create({ name: 'user.renamed', description: 'Renamed' });
  await a.svix.eventType.delete('user.renamed');

  const exported = await a.svix.environment.export();
  assert.deepEqual(exported.connectors, []);
  assert.ok(exported.createdAt instanceof Date && !Number.isNaN(exported.createdAt.getTime()));
  const shape = (types: typeof exported.eventTypes) =>
    types
      .map((t) => [t.name, t.description, t.archived, t.deprecated ?? false, t.groupName ?? null, t.schemas ?? null])
      .sort();
  assert.deepEqual(shape(exported.eventTypes), [
    ['user.created', 'A user signed up', false, false, null, SCHEMA],
    ['user.deleted', 'Gone', false, true, 'users', null],
    ['user.renamed', 'Renamed', true, false, null, null],
  ]);

  // On the other server one type exists already, with a schema the import does not carry.
  await b.svix.eventType.create({ name: 'user.deleted', description: 'old text', schemas: SCHEMA });
  await b.svix.environment.import({ eventTypes: exported.eventTypes, settings: { color: '#fff' } });
  const imported = await b.svix.environment.export();
  assert.deepEqual(
    shape(imported.eventTypes),
    shape(exported.eventTypes).map((t) => (t[0] === 'user.deleted' ? [...t.slice(0, 5), SCHEMA] : t)),
  );
});

test('connectors are refused rather than dropped; application tokens may neither export nor import', async () => {
  const res = await a.h.request('POST', '/api/v1/environment/import', { connectors: [{ name: 'c', code: 'x' }] });
  assert.equal(res.status, 422);
  assert.deepEqual(res.body.detail[0].loc, ['body', 'connectors']);
  const app = await a.svix.application.create({ name: 'App' });
  const { token } = await a.svix.authentication.appPortalAccess(app.id, {});
  assert.equal((await a.h.request('POST', '/api/v1/environment/export', undefined, token)).status, 403);
  assert.equal((await a.h.request('POST', '/api/v1/environment/import', {}, token)).status, 403);
});
