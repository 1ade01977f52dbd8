import assert from 'node:assert/strict';
import { createServer } from 'node:https';
import { after, before, test } from 'node:test';
import { caBundlePem, chainPem, createHierarchy } from '@hookwarden/pki';
import { listen, startReceiver, tempDir, waitFor } from '@hookwarden/testkit';
import { createVerifier } from '@hookwarden/verify';
import { verifiedHandler } from '@hookwarden/verify/node';
import { generateEd25519Key, verifySignature } from '@hookwarden/verify/signature';
import { pino } from 'pino';
import { type RunningServer, startServer } from '../../src/server.ts';
import { callApi, testPki } from './receiver.ts';

const TOKEN = 'extensions-admin-token-0123456789';
const dir = tempDir();
const closers: (() => Promise<void>)[] = [];
let pki: Awaited<ReturnType<typeof testPki>>;
let server: RunningServer;

before(async () => {
  pki = await testPki();
  server = await startServer({
    port: 0,
    dataDir: dir.path,
    adminToken: TOKEN,
    identity: () => pki.platform,
    signingKeys: [generateEd25519Key()],
    egressCidrs: ['127.0.0.1/32'],
    allowPrivateTargets: true,
    logger: pino({ level: 'silent' }),
  });
});
after(async () => {
  await server.close({ deadlineMs: 500 });
  for (const c of closers) await c();
  dir.cleanup();
});

async function call(method: string, path: string, body?: unknown) {
  const res = await callApi(server.url, TOKEN, method, path, body);
  assert.ok(res.status < 300, `${method} ${path}: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body;
}

test('v1a: a receiver driven only by the trust document verifies certificate, source address and Ed25519 signature', async () => {
  const verifier = createVerifier({
    trustDocument: { url: `${server.url}/api/v1/trust` },
    clientCertificate: { source: 'socket' },
    ipAllowlist: [],
    signature: {},
  });
  const facts: { checks: string[]; webhookId?: string }[] = [];
  const listeners = new Set<() => void>();
  const https = createServer(
    {
      cert: pki.server.certPem,
      key: pki.server.keyPem,
      ca: pki.platform.caBundlePem,
      requestCert: true,
      rejectUnauthorized: true,
    },
    verifiedHandler(verifier, (_req, res, v) => {
      facts.push(v.facts);
      res.writeHead(204).end();
      for (const l of listeners) l();
    }),
  );
  const port = await listen(https);
  closers.push(() => new Promise((resolve) => https.close(() => resolve())));
  const app = await call('POST', '/api/v1/app', { name: 'ed' });
  const ep = await call('POST', `/api/v1/app/${app.id}/endpoint`, {
    url: `https://localhost:${port}/hook`,
    serverCa: pki.receiverCaPem,
    signatureScheme: 'v1a',
  });
  assert.equal(ep.signatureScheme, 'v1a');
  const msg = await call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'e', payload: { signed: 'ed25519' } });
  await waitFor(
    () => facts.length === 1,
    (fn) => listeners.add(fn),
    20_000,
    'verified delivery',
  );
  assert.equal(facts[0]?.webhookId, msg.id);
  for (const check of ['client-certificate', 'ip-allowlist', 'signature'])
    assert.ok(facts[0]?.checks.includes(check), check);
});

test('a tenant client identity is presented instead of the platform certificate', async () => {
  const tenant = await createHierarchy({ subject: 'CN=tenant-42.example,O=Tenant' });
  // This receiver trusts only the tenant's CA: the platform certificate would fail the handshake.
  const receiver = await startReceiver({ server: pki.server, clientCaPem: caBundlePem(tenant) });
  closers.push(() => receiver.close());
  const app = await call('POST', '/api/v1/app', { name: 'tenant' });
  const ep = await call('POST', `/api/v1/app/${app.id}/endpoint`, {
    url: receiver.url,
    serverCa: pki.receiverCaPem,
    clientIdentity: { certPem: tenant.leaf.certPem, keyPem: tenant.leaf.keyPem, chainPem: chainPem(tenant) },
  });
  assert.equal(ep.clientIdentity.subject.includes('tenant-42.example'), true);
  assert.equal(JSON.stringify(ep).includes('PRIVATE KEY'), false, 'the key is never returned');
  await call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'e', payload: { tenant: true } });
  await waitFor(() => receiver.received.length === 1, receiver.onRequest, 20_000, 'tenant delivery');
  assert.equal(receiver.received[0]?.peerSubject, 'tenant-42.example');
});

test('after a secret rotation each delivery carries one signature per live secret', async () => {
  const receiver = await startReceiver({ server: pki.server, clientCaPem: pki.platform.caBundlePem });
  closers.push(() => receiver.close());
  const app = await call('POST', '/api/v1/app', { name: 'rotate' });
  const ep = await call('POST', `/api/v1/app/${app.id}/endpoint`, { url: receiver.url, serverCa: pki.receiverCaPem });
  const old = (await call('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret`)).key;
  await call('POST', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret/rotate`, {});
  const current = (await call('GET', `/api/v1/app/${app.id}/endpoint/${ep.id}/secret`)).key;
  assert.notEqual(current, old);
  await call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'e', payload: { rotated: true } });
  await waitFor(() => receiver.received.length === 1, receiver.onRequest, 20_000, 'delivery');
  const got = receiver.received[0]!;
  assert.equal(String(got.headers['webhook-signature']).split(' ').length, 2);
  for (const secret of [old, current]) {
    verifySignature({ headers: got.headers, body: Buffer.from(got.body), secrets: [secret] });
  }
});

test('a per-endpoint TLS policy applies to its deliveries only', async () => {
  const seen: string[] = [];
  const listeners = new Set<() => void>();
  const recorded = new Set<string>();
  server.events.on('recorded', (batch: { attempt: { msgId: string } }[]) => {
    for (const o of batch) recorded.add(o.attempt.msgId);
    for (const l of listeners) l();
  });
  // A receiver stuck on TLS 1.2.
  const https = createServer(
    {
      cert: pki.server.certPem,
      key: pki.server.keyPem,
      ca: pki.platform.caBundlePem,
      requestCert: true,
      rejectUnauthorized: true,
      maxVersion: 'TLSv1.2',
    },
    (req, res) => {
      req.resume();
      req.on('end', () => {
        seen.push(String(req.headers['webhook-id']));
        res.writeHead(204).end();
        for (const l of listeners) l();
      });
    },
  );
  const port = await listen(https);
  closers.push(() => new Promise((resolve) => https.close(() => resolve())));
  const url = `https://localhost:${port}/hook`;
  const app = await call('POST', '/api/v1/app', { name: 'tls' });
  const strict = await call('POST', `/api/v1/app/${app.id}/endpoint`, {
    url,
    serverCa: pki.receiverCaPem,
    tlsPolicy: { minVersion: 'TLSv1.3' },
    filterTypes: ['strict'],
  });
  assert.deepEqual(strict.tlsPolicy, { minVersion: 'TLSv1.3' });
  await call('POST', `/api/v1/app/${app.id}/endpoint`, { url, serverCa: pki.receiverCaPem, filterTypes: ['default'] });
  const refused = await call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'strict', payload: {} });
  const accepted = await call('POST', `/api/v1/app/${app.id}/msg`, { eventType: 'default', payload: {} });
  await waitFor(
    () => seen.includes(accepted.id),
    (fn) => listeners.add(fn),
    20_000,
    'TLS 1.2 delivery',
  );
  await waitFor(
    () => recorded.has(refused.id),
    (fn) => listeners.add(fn),
    20_000,
    'the refused attempt',
  );
  const attempts = await call('GET', `/api/v1/app/${app.id}/attempt/msg/${refused.id}`);
  assert.equal(attempts.data[0]?.failureKind, 'tls_no_common_protocol');
  assert.ok(!seen.includes(refused.id));
  const bad = await fetch(`${server.url}/api/v1/app/${app.id}/endpoint`, {
    method: 'POST',
    headers: { authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' },
    body: JSON.stringify({ url, tlsPolicy: { ciphers: ['RC4-SHA'] } }),
  });
  assert.equal(bad.status, 422, 'only suites of the server policy are accepted');
});
