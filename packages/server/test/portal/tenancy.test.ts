import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { pino } from 'pino';
import { createOperationalEvents } from '../../src/operational.ts';
import type { Caller, Capability } from '../../src/services/actor.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import { openSqliteStore } from '../../src/store/sqlite/index.ts';
import type { ApplicationRow, EndpointRow, MessageRow, Store } from '../../src/store/types.ts';

let store: Store;
let services: Services;
let a: ApplicationRow;
let b: ApplicationRow;
let epA: EndpointRow;
let msgA: MessageRow;
const log = pino({ level: 'silent' });
const admin: Caller = { actor: { kind: 'admin' }, log };
const of = (appId: string, grant: Capability[] | null = null): Caller => ({
  actor: { kind: 'app', appId, grant: grant && new Set(grant), featureFlags: [], tokenHash: 'h', integration: false },
  log,
});

before(async () => {
  store = openSqliteStore(':memory:');
  const now = Date.now;
  services = createServices({
    store,
    adminTokenHash: Buffer.alloc(32),
    now,
    publicUrl: 'https://hooks.example.com',
    checkEndpointUrl: async () => {},
    onEnqueued: () => {},
    trust: async () => undefined,
    operational: createOperationalEvents({ store, now, onEnqueued: () => {} }),
  });
  a = (await services.applications.create(admin, { name: 'A' })).app;
  b = (await services.applications.create(admin, { name: 'B' })).app;
  epA = await services.endpoints.create(admin, a, { url: 'https://a.example/hook' });
  msgA = (await services.messages.create(admin, a.id, { eventType: 'e', payload: {} })).message;
});
after(() => store.close());

const refused = { code: 'HW_FORBIDDEN', status: 403 };

test("a service refuses another application's row, whatever an adapter hands it", async () => {
  const bob = of(b.id);
  await assert.rejects(services.applications.get(bob, a.id), refused);
  // An adapter that resolved the wrong application (a forged id) still reaches nothing of it.
  await assert.rejects(services.endpoints.get(bob, a, epA.id), refused);
  await assert.rejects(services.endpoints.list(bob, a, { limit: 10 }), refused);
  await assert.rejects(services.endpoints.patch(bob, a, epA.id, { disabled: true }), refused);
  await assert.rejects(services.endpoints.remove(bob, a, epA.id), refused);
  await assert.rejects(services.endpoints.secret(bob, a, epA.id), refused);
  await assert.rejects(services.messages.resend(bob, a, msgA.id, epA.id), refused);
  await assert.rejects(services.attempts.overview(bob, a, { limit: 10 }), refused);
  await assert.rejects(services.checks.endpoint(bob, a, epA.id), refused);
  // Its own application with the other's ids: as absent as ids that never were.
  await assert.rejects(services.endpoints.get(bob, b, epA.id), { code: 'HW_NOT_FOUND' });
  await assert.rejects(services.messages.resend(bob, b, msgA.id, epA.id), { code: 'HW_NOT_FOUND' });
  assert.equal((await services.endpoints.get(admin, a, epA.id)).disabled, false);
});

test('services check the action, not the route: a read-only actor reads and changes nothing, the operator’s actions stay the operator’s', async () => {
  const reader = of(a.id, ['ViewBase']);
  assert.equal((await services.endpoints.get(reader, a, epA.id)).id, epA.id);
  await assert.rejects(services.endpoints.patch(reader, a, epA.id, { description: 'x' }), refused);
  await assert.rejects(services.endpoints.secret(reader, a, epA.id), refused);
  await assert.rejects(services.endpoints.recover(reader, a, epA.id, { since: 0 }), refused);
  await assert.rejects(services.messages.create(reader, a.id, { eventType: 'e', payload: {} }), refused);
  const whole = of(a.id);
  await assert.rejects(services.applications.patch(whole, a.id, { name: 'mine now' }), refused);
  await assert.rejects(services.console.overview(whole, { hours: 1, buckets: 4 }), refused);
  await assert.rejects(services.access.grant(whole, a.id, {}), refused);
  assert.equal((await services.applications.get(admin, a.id)).name, 'A');
});
