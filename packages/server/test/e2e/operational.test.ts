import assert from 'node:assert/strict';
import { after, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { startServer } from '../../src/server.ts';
import { callApi, startReceiver, testPki, waitFor } from './receiver.ts';

const dir = tempDir();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
  dir.cleanup();
});

test("the operator's endpoint hears, signed and over mTLS, that a message exhausted its retries and an endpoint was disabled", async () => {
  const pki = await testPki();
  // The customer's endpoint is gone for good: 410 ends the delivery and disables the endpoint.
  const customer = await startReceiver({
    server: pki.server,
    clientCaPem: pki.platform.caBundlePem,
    respond: () => 410,
  });
  const operator = await startReceiver({ server: pki.server, clientCaPem: pki.platform.caBundlePem });
  closers.push(
    () => customer.close(),
    () => operator.close(),
  );
  const token = 'operational-admin-token-0123456789';
  const server = await startServer({
    port: 0,
    dataDir: dir.path,
    adminToken: token,
    identity: () => pki.platform,
    allowPrivateTargets: true,
    logger: pino({ level: 'silent' }),
  });
  closers.push(() => server.close({ deadlineMs: 500 }));
  const call = async (method: string, path: string, body?: unknown) => {
    const res = await callApi(server.url, token, method, path, body);
    assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
    return res.body;
  };

  const ops = await call('POST', '/api/v1/operational-webhook/endpoint', {
    url: operator.url,
    serverCa: pki.receiverCaPem,
    filterTypes: ['endpoint.disabled', 'message.attempt.exhausted'],
  });
  const { key } = await call('GET', `/api/v1/operational-webhook/endpoint/${ops.id}/secret`);
  const app = await call('POST', '/api/v1/app', { name: 'Customer', uid: 'customer' });
  const ep = await call('POST', `/api/v1/app/${app.id}/endpoint`, { url: customer.url, serverCa: pki.receiverCaPem });
  const msg = await call('POST', `/api/v1/app/${app.id}/msg`, {
    eventType: 'order.placed',
    eventId: 'evt-1',
    payload: {},
  });

  await waitFor(() => operator.received.length >= 2, operator.onRequest, 20_000, 'two operational events');
  const verifier = new Webhook(key);
  const events = operator.received.map((r) => {
    // Verified as any receiver would, with the operational endpoint's own secret.
    const body = verifier.verify(r.body, r.headers as Record<string, string>) as { type: string; data: unknown };
    assert.equal(r.peerSubject, 'hooks.hookwarden.test', 'the platform certificate was presented');
    return body;
  });
  const byType = new Map(events.map((e) => [e.type, e.data as Record<string, unknown>]));
  const exhausted = byType.get('message.attempt.exhausted') as Record<string, unknown>;
  assert.equal(exhausted.appId, app.id);
  assert.equal(exhausted.appUid, 'customer');
  assert.equal(exhausted.msgId, msg.id);
  assert.equal(exhausted.msgEventId, 'evt-1');
  assert.equal(exhausted.endpointId, ep.id);
  assert.equal((exhausted.lastAttempt as { responseStatusCode: number }).responseStatusCode, 410);
  assert.deepEqual(byType.get('endpoint.disabled'), {
    appId: app.id,
    appUid: 'customer',
    endpointId: ep.id,
    endpointUid: null,
    // It began failing with that one attempt.
    failSince: (exhausted.lastAttempt as { timestamp: string }).timestamp,
    trigger: 'automatic',
  });
  assert.equal(operator.received.length, 2, 'endpoint.created was filtered out');
});
