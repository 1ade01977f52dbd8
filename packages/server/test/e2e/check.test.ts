import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifySignature } from '@hookwarden/verify/signature';
import type { CheckReport } from '../../src/checker/index.ts';
import type { RunningServer } from '../../src/server.ts';
import { callApi, type Received, startServerWithReceiver } from './receiver.ts';

const TOKEN = 'check-admin-token-0123456789';
let e2e: Awaited<ReturnType<typeof startServerWithReceiver>>;
let pki: Awaited<ReturnType<typeof startServerWithReceiver>>['pki'];
let server: RunningServer;
let receiver: Awaited<ReturnType<typeof startServerWithReceiver>>['receiver'];
const received: Received[] = [];

const call = (method: string, path: string, body?: unknown, token = TOKEN) =>
  callApi(server.url, token, method, path, body);

before(async () => {
  e2e = await startServerWithReceiver({
    token: TOKEN,
    respond: (r) => {
      received.push(r);
      return 204;
    },
  });
  ({ pki, server, receiver } = e2e);
});
after(() => e2e?.close());

test("an endpoint's check presents the platform certificate and signs its test event with the endpoint's secret", async () => {
  const app = await call('POST', '/api/v1/app', { name: 'checked' });
  const ep = await call('POST', `/api/v1/app/${app.body.id}/endpoint`, {
    url: receiver.url,
    serverCa: pki.receiverCaPem,
  });
  assert.equal(ep.status, 201, JSON.stringify(ep.body));
  const res = await call('POST', `/api/v1/app/${app.body.id}/endpoint/${ep.body.id}/check`, {});
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const report = res.body as CheckReport;
  assert.equal(report.clientAuth.mode, 'required');
  assert.equal(report.clientAuth.withPlatformCertificate.ok, true);
  assert.equal(report.clientAuth.platformCaAdvertised, true);
  assert.equal(report.chain.trusted, true, report.chain.trustError);
  assert.equal(report.http.statusCode, 204);
  assert.notEqual(report.verdict, 'incompatible', JSON.stringify(report.findings));

  // The test event is signed exactly as deliveries to this endpoint are.
  const secret = await call('GET', `/api/v1/app/${app.body.id}/endpoint/${ep.body.id}/secret`);
  const event = received.at(-1);
  assert.ok(event);
  const facts = verifySignature({ headers: event.headers, body: event.body, secrets: [secret.body.key] });
  // ... and marked, so the receiver can tell it from a real event (docs/checker.md).
  assert.match(facts.msgId, /^msg_check_/);
  assert.equal(event.headers['hookwarden-check'], '1');
  assert.equal(JSON.parse(event.body).type, 'hookwarden.check');
});

test('an admin checks any URL; the report says the receiver does not trust an unknown server CA', async () => {
  const res = await call('POST', '/api/v1/check', { url: receiver.url });
  assert.equal(res.status, 200, JSON.stringify(res.body));
  const report = res.body as CheckReport;
  assert.equal(report.chain.trusted, false);
  assert.equal(report.verdict, 'incompatible');
  const withCa = await call('POST', '/api/v1/check', { url: receiver.url, serverCa: pki.receiverCaPem });
  assert.equal((withCa.body as CheckReport).chain.trusted, true);
});

test('check routes validate input and scope', async () => {
  const missing = await call('POST', '/api/v1/check', {});
  assert.equal(missing.status, 422);
  assert.equal(missing.body.code, 'validation_error');
  const extra = await call('POST', '/api/v1/check', { url: receiver.url, verify: false });
  assert.equal(extra.status, 422);
  const notUrl = await call('POST', '/api/v1/check', { url: 'not a url' });
  assert.equal(notUrl.status, 400);
  assert.equal(notUrl.body.code, 'HW_CHECK_URL_INVALID');

  const app = await call('POST', '/api/v1/app', { name: 'scoped' });
  const unknown = await call('POST', `/api/v1/app/${app.body.id}/endpoint/ep_missing/check`, {});
  assert.equal(unknown.status, 404);
  assert.ok(typeof unknown.body.detail === 'string');

  const portal = await call('POST', `/api/v1/auth/app-portal-access/${app.body.id}`, {});
  assert.equal(portal.status, 200, JSON.stringify(portal.body));
  const appToken = portal.body.token as string;
  const asApp = await call('POST', '/api/v1/check', { url: receiver.url }, appToken);
  assert.equal(asApp.status, 403);
});
