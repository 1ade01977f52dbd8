import assert from 'node:assert/strict';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import { pino } from 'pino';
import { Webhook } from 'standardwebhooks';
import { type ServerOptions, startServer } from '../../src/server.ts';
import { callApi, startReceiver, testPki, waitFor } from './receiver.ts';

const dir = tempDir();
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const c of closers) await c();
  dir.cleanup();
});

/**
 * A server, a customer's receiver answering `respond`, and the operator's receiver behind an
 * operational endpoint that gets `filterTypes`; both receivers require the platform's certificate.
 */
async function setUp(respond: () => number, filterTypes: string[], dispatcher: ServerOptions['dispatcher'] = {}) {
  const pki = await testPki();
  const customer = await startReceiver({ server: pki.server, clientCaPem: pki.platform.caBundlePem, respond });
  const operator = await startReceiver({ server: pki.server, clientCaPem: pki.platform.caBundlePem });
  closers.push(
    () => customer.close(),
    () => operator.close(),
  );
  const token = 'operational-admin-token-0123456789';
  const server = await startServer({
    port: 0,
    dataDir: join(dir.path, String(closers.length)),
    adminToken: token,
    identity: () => pki.platform,
    allowPrivateTargets: true,
    logger: pino({ level: 'silent' }),
    dispatcher,
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
    filterTypes,
  });
  const { key } = await call('GET', `/api/v1/operational-webhook/endpoint/${ops.id}/secret`);
  const app = await call('POST', '/api/v1/app', { name: 'Customer', uid: 'customer' });
  const ep = await call('POST', `/api/v1/app/${app.id}/endpoint`, { url: customer.url, serverCa: pki.receiverCaPem });
  /** The operational events received, verified as any receiver would, with the endpoint's own secret. */
  const received = async (n: number) => {
    await waitFor(() => operator.received.length >= n, operator.onRequest, 20_000, `${n} operational events`);
    const verifier = new Webhook(key);
    return operator.received.map((r) => {
      assert.equal(r.peerSubject, 'hooks.hookwarden.test', 'the platform certificate was presented');
      return verifier.verify(r.body, r.headers as Record<string, string>) as {
        type: string;
        data: Record<string, unknown>;
      };
    });
  };
  return { app, ep, call, received, operator };
}

test("the operator's endpoint hears, signed and over mTLS, that a message exhausted its retries and an endpoint was disabled", async () => {
  // The customer's endpoint is gone for good: 410 ends the delivery and disables the endpoint.
  const { app, ep, call, received, operator } = await setUp(
    () => 410,
    ['endpoint.disabled', 'message.attempt.exhausted'],
  );
  const msg = await call('POST', `/api/v1/app/${app.id}/msg`, {
    eventType: 'order.placed',
    eventId: 'evt-1',
    payload: {},
  });

  const events = await received(2);
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

test('a message failing four times is told of as failing, and as recovered when it then succeeds', async () => {
  let answered = 0;
  // Four failures, then success; the retries come at once (the schedule is shortened).
  const { app, call, received } = await setUp(
    () => (++answered <= 4 ? 503 : 200),
    ['message.attempt.failing', 'message.attempt.recovered', 'message.attempt.exhausted'],
    { retryScheduleMs: [0, 1, 1, 1, 1, 1], jitter: 0 },
  );
  const msg = await call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'order.placed', payload: {} });
  const events = await received(2);
  // The failing event names the fourth attempt, the recovered one the fifth (ids sort by time).
  const listed = (await call('GET', `/api/v1/app/${app.id}/attempt/msg/${msg.id}`)).data as { id: string }[];
  const attempts = listed.map((a) => a.id).sort();
  assert.equal(attempts.length, 5);
  // The two events are two messages to the operator's endpoint: they may arrive in either order.
  assert.deepEqual(
    events
      .map((e) => {
        const last = e.data.lastAttempt as { id: string; responseStatusCode: number };
        return [e.type, e.data.msgId, last.id, last.responseStatusCode];
      })
      .sort((a, b) => String(a[2]).localeCompare(String(b[2]))),
    [
      ['message.attempt.failing', msg.id, attempts[3], 503],
      ['message.attempt.recovered', msg.id, attempts[4], 200],
    ],
  );
});
