import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { verifySignature } from '@hookwarden/verify/signature';
import { Webhook } from 'standardwebhooks';
import { Svix } from 'svix';
import type { RunningServer } from '../../src/server.ts';
import { startServerWithReceiver, waitFor } from './receiver.ts';

const TOKEN = 'e2e-admin-token-0123456789abcdef';
let e2e: Awaited<ReturnType<typeof startServerWithReceiver>>;
let server: RunningServer;
let receiver: Awaited<ReturnType<typeof startServerWithReceiver>>['receiver'];
let pki: Awaited<ReturnType<typeof startServerWithReceiver>>['pki'];

before(async () => {
  e2e = await startServerWithReceiver({ token: TOKEN, egressCidrs: ['203.0.113.7/32'] });
  ({ server, receiver, pki } = e2e);
});
after(() => e2e?.close());

test('svix SDK → API → dispatcher → mTLS receiver that verifies the signature; attempts listed through the SDK', async () => {
  const svix = new Svix(TOKEN, { serverUrl: server.url });
  const app = await svix.application.create({ name: 'Shop', uid: 'shop' });
  const ep = await svix.endpoint.create(app.id, { url: receiver.url, filterTypes: ['order.created'] });
  // The SDK knows nothing of our extensions: trust the receiver's private CA with a plain PATCH.
  const patched = await fetch(`${server.url}/api/v1/app/${app.id}/endpoint/${ep.id}`, {
    method: 'PATCH',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ serverCa: pki.receiverCaPem }),
  });
  assert.equal(patched.status, 200);
  const { key } = await svix.endpoint.getSecret(app.id, ep.id);

  const msg = await svix.message.create(app.id, { eventType: 'order.created', payload: { order: 7, total: '9.99' } });
  await svix.message.create(app.id, { eventType: 'other.type', payload: { ignored: true } });
  await waitFor(() => receiver.received.length >= 1, receiver.onRequest, 20_000, 'delivery');

  const got = receiver.received[0]!;
  assert.equal(got.peerSubject, 'hooks.hookwarden.test', 'our client certificate was presented and verified');
  assert.equal(got.headers['webhook-id'], msg.id);
  assert.deepEqual(JSON.parse(got.body), { order: 7, total: '9.99' });
  const facts = verifySignature({ headers: got.headers, body: Buffer.from(got.body), secrets: [key] });
  assert.equal(facts.msgId, msg.id);
  // The reference implementation agrees.
  new Webhook(key).verify(got.body, got.headers as Record<string, string>);

  // The attempt is recorded in a batch right after the response: wait for it through the SDK.
  await waitFor(() => e2e.recorded() >= 1, e2e.onRecorded, 20_000, 'recorded attempt');
  const attempts = await svix.messageAttempt.listByMsg(app.id, msg.id);
  assert.equal(attempts.data.length, 1);
  const a = attempts.data[0]!;
  assert.equal(a.status, 0);
  assert.equal(a.responseStatusCode, 200);
  assert.equal(a.endpointId, ep.id);
  const raw = (await (
    await fetch(`${server.url}/api/v1/app/${app.id}/msg/${msg.id}/attempt/${a.id}`, {
      headers: { authorization: `Bearer ${TOKEN}` },
    })
  ).json()) as { tls: { clientCertificateSent: boolean; protocol: string } };
  assert.equal(raw.tls.clientCertificateSent, true);
  assert.match(raw.tls.protocol, /^TLSv1\.[23]$/);
  assert.equal((await svix.messageAttempt.listByEndpoint(app.id, ep.id)).data[0]?.id, a.id);
  assert.equal(receiver.received.length, 1, 'the filtered-out event type was not delivered');
});

test('the trust document publishes the CA bundle, fingerprints, egress CIDRs and cipher policy, with an ETag', async () => {
  const res = await fetch(`${server.url}/api/v1/trust`);
  assert.equal(res.status, 200);
  // biome-ignore lint/suspicious/noExplicitAny: a JSON document read field by field
  const doc: any = await res.json();
  assert.equal(doc.caBundlePem, pki.platform.caBundlePem);
  assert.equal(doc.certificates.current.fingerprints.sha256Hex, pki.platform.current.fingerprints.sha256Hex);
  assert.deepEqual(doc.egressCidrs, ['203.0.113.7/32']);
  assert.ok(doc.cipherPolicy.ciphers.length > 0);
  const etag = res.headers.get('etag');
  assert.equal(etag, `"${doc.version}"`);
  const again = await fetch(`${server.url}/api/v1/trust`, { headers: { 'if-none-match': etag as string } });
  assert.equal(again.status, 304);
  const pem = await fetch(`${server.url}/api/v1/trust/ca-bundle.pem`);
  assert.equal(await pem.text(), pki.platform.caBundlePem);
  const metrics = await (await fetch(`${server.url}/metrics`)).text();
  assert.match(metrics, /hookwarden_deliveries_total\{outcome="success"\} 1/);
  assert.match(metrics, /hookwarden_queue_depth 0/);
  // biome-ignore lint/suspicious/noExplicitAny: a JSON document read field by field
  const openapi: any = await (await fetch(`${server.url}/api/v1/openapi.json`)).json();
  assert.ok(
    openapi.paths['/api/v1/app/{app_id}/endpoint'].post.requestBody.content['application/json'].schema.properties
      .serverCa,
  );
});
