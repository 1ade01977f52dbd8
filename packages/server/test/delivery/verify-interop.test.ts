import assert from 'node:assert/strict';
import { createServer, type Server } from 'node:https';
import { after, before, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { listen } from '@hookwarden/testkit';
import {
  createVerifier,
  generateSecret,
  httpsServerOptions,
  tlsFactsFromSocket,
  type VerifiedFacts,
} from '@hookwarden/verify';
import { createDeliveryClient } from '../../src/delivery/client.ts';
import { signedHeaders } from '../../src/delivery/signing.ts';
import type { DeliveryClient } from '../../src/delivery/types.ts';
import { makeTestPki, type TestPki } from './certs.ts';

// What we send is what the receiver toolkit accepts: certificate chain, subject, source address
// and signature, checked by @hookwarden/verify on a real mTLS server.
// Whole seconds, fixed for the run: the signature timestamp and the verifier's clock agree exactly,
// while the TLS layers (which read the real clock) see certificates valid now.
const NOW_MS = Math.floor(Date.now() / 1000) * 1000;
const secret = generateSecret();
let pki: TestPki;
let server: Server;
let port: number;
let client: DeliveryClient;
const results: (VerifiedFacts | { error: string })[] = [];

before(async () => {
  pki = await makeTestPki();
  const verifier = createVerifier({
    https: true,
    clientCertificate: {
      source: 'socket',
      // The published bundle (intermediate + root): on a resumed TLS session the receiver sees only
      // our leaf, so the intermediate must come from its own configuration.
      caBundlePem: pki.platformBundle,
      subject: 'CN=hookwarden-test-client,O=Hookwarden Tests',
    },
    ipAllowlist: ['127.0.0.2/32'],
    signature: { secrets: [secret] },
    now: () => NOW_MS,
  });
  server = createServer(
    httpsServerOptions({ certPem: pki.server.cert, keyPem: pki.server.key, clientCaPem: pki.platformBundle }),
    (req, res) => {
      const chunks: Buffer[] = [];
      req.on('data', (c: Buffer) => chunks.push(c));
      req.on('end', () => {
        verifier
          .verify({
            method: req.method ?? 'POST',
            url: req.url ?? '/',
            headers: req.headers,
            body: Buffer.concat(chunks),
            remoteAddress: req.socket.remoteAddress ?? '',
            tls: tlsFactsFromSocket(req.socket as TLSSocket),
          })
          .then(
            (facts) => {
              results.push(facts);
              // A new connection for every delivery: the second one resumes the TLS session.
              res.setHeader('connection', 'close');
              res.end('verified');
            },
            (err: { code?: string; status?: number }) => {
              results.push({ error: String(err.code) });
              res.writeHead(err.status ?? 401, { connection: 'close' }).end(String(err.code));
            },
          );
      });
    },
  );
  port = await listen(server);
  client = createDeliveryClient({ identity: () => pki.client, allowPrivateTargets: true, egressAddress: '127.0.0.2' });
});
after(async () => {
  await client.close();
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

test('the receiver toolkit verifies certificate, subject, source address and signature of a delivery', async () => {
  const body = JSON.stringify({ type: 'invoice.paid', data: { id: 'in_1' } });
  const headers = signedHeaders({ msgId: 'msg_interop', timestamp: NOW_MS / 1000, body, secrets: [secret] });
  const out = await client.deliver({
    url: `https://localhost:${port}/hooks`,
    headers,
    body,
    tls: { serverCaPem: pki.serverCa },
  });
  assert.equal(out.ok, true, `${out.failure?.message} ${out.responseExcerpt}`);
  const facts = results.at(-1) as VerifiedFacts;
  for (const check of ['https', 'client-certificate', 'ip-allowlist', 'signature'] as const) {
    assert.ok(facts.checks.includes(check), check);
  }
  assert.equal(facts.clientIp, '127.0.0.2');
  assert.equal(facts.webhookId, 'msg_interop');
  assert.equal(out.tls?.clientCertificateSent, true);

  const again = await client.deliver({
    url: `https://localhost:${port}/hooks`,
    headers,
    body,
    tls: { serverCaPem: pki.serverCa },
  });
  assert.equal(again.ok, true, `resumed session: ${again.failure?.message} ${again.responseExcerpt}`);
  assert.equal(again.tls?.clientCertificateSent, true);

  const tampered = await client.deliver({
    url: `https://localhost:${port}/hooks`,
    headers,
    body: body.replace('in_1', 'in_2'),
    tls: { serverCaPem: pki.serverCa },
  });
  assert.equal(tampered.ok, false);
  assert.equal(tampered.failure?.kind, 'http_status');
  assert.match(tampered.responseExcerpt, /SIGNATURE/);
});
