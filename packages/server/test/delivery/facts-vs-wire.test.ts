import assert from 'node:assert/strict';
import { createServer, type Server, type ServerOptions } from 'node:https';
import { connect as netConnect } from 'node:net';
import { after, before, test } from 'node:test';
import { connect as tlsConnect } from 'node:tls';
import { listen } from '@hookwarden/testkit';
import { createDeliveryClient } from '../../src/delivery/client.ts';
import type { DeliveryClient } from '../../src/delivery/types.ts';
import { makeTestPki, type TestPki } from './certs.ts';
import { HandshakeTap } from './wire.ts';

// The client infers "certificate requested / sent" from OpenSSL's shared signature algorithms.
// Here the same handshakes are read off the wire (TLS 1.2 plaintext, TLS 1.3 decrypted with the
// keylog secret) and both answers must agree, for every combination that matters.
let pki: TestPki;
const servers: Server[] = [];
const clients: DeliveryClient[] = [];
before(async () => {
  pki = await makeTestPki();
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const s of servers) s.closeAllConnections();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

async function receiver(options: ServerOptions): Promise<number> {
  const server = createServer({ key: pki.server.key, cert: pki.server.cert, ...options }, (req, res) => {
    req.resume();
    req.on('end', () => res.end('ok'));
  });
  servers.push(server);
  return listen(server);
}

/** One TLS connection through the wire tap; answers what the bytes showed. */
function onTheWire(port: number, identity: { certPem: string; keyPem: string; chainPem: string } | undefined) {
  return new Promise<{ requested?: boolean; sent?: boolean; sigalgs: number }>((resolve, reject) => {
    const tap = new HandshakeTap(netConnect(port, '127.0.0.1'));
    const socket = tlsConnect({
      socket: tap,
      host: 'localhost',
      servername: 'localhost',
      ca: pki.serverCa,
      ...(identity ? { cert: identity.chainPem, key: identity.keyPem } : {}),
    });
    socket.on('keylog', (line) => tap.observer.keylog(line));
    socket.once('secureConnect', () => {
      const sigalgs = socket.getSharedSigalgs().length;
      socket.write('POST / HTTP/1.1\r\nhost: localhost\r\ncontent-length: 2\r\nconnection: close\r\n\r\n{}');
      socket.once('data', () => {
        const facts = tap.observer.facts();
        socket.destroy();
        resolve({ requested: facts.certificateRequested, sent: facts.clientCertificateSent, sigalgs });
      });
    });
    socket.once('error', reject);
  });
}

for (const maxVersion of ['TLSv1.3', 'TLSv1.2'] as const) {
  for (const mode of ['does not ask', 'asks'] as const) {
    for (const withIdentity of [true, false]) {
      test(`${maxVersion}, receiver ${mode}, ${withIdentity ? 'with' : 'without'} identity: client facts = wire`, async () => {
        const asks = { requestCert: true, rejectUnauthorized: false, ca: pki.platformRoot };
        const port = await receiver({ maxVersion, ...(mode === 'asks' ? asks : {}) });
        const wire = await onTheWire(port, withIdentity ? pki.client : undefined);
        assert.equal(wire.sigalgs > 0, wire.requested, 'shared sigalgs ⟺ CertificateRequest on the wire');
        const c = createDeliveryClient({
          identity: () => (withIdentity ? pki.client : undefined),
          allowPrivateTargets: true,
        });
        clients.push(c);
        const out = await c.deliver({
          url: `https://localhost:${port}/`,
          headers: {},
          body: '{}',
          tls: { serverCaPem: pki.serverCa },
        });
        assert.equal(out.ok, true, out.failure?.message);
        assert.equal(out.tls?.clientCertificateRequested, wire.requested);
        assert.equal(out.tls?.clientCertificateSent, wire.sent);
        assert.equal(wire.requested, mode === 'asks');
        assert.equal(wire.sent, mode === 'asks' && withIdentity);
      });
    }
  }
}

test('asked, but no signature algorithm the receiver accepts fits our key: requested, not sent', async () => {
  // The receiver signs with ECDSA and accepts only ECDSA from clients; our leaf here is RSA.
  const port = await receiver({
    maxVersion: 'TLSv1.3',
    requestCert: true,
    rejectUnauthorized: false,
    ca: pki.platformRoot,
    sigalgs: 'ECDSA+SHA256',
  });
  const wire = await onTheWire(port, pki.rsaClient);
  assert.deepEqual([wire.requested, wire.sent], [true, false]);
  const c = createDeliveryClient({ identity: () => pki.rsaClient, allowPrivateTargets: true });
  clients.push(c);
  const out = await c.deliver({
    url: `https://localhost:${port}/`,
    headers: {},
    body: '{}',
    tls: { serverCaPem: pki.serverCa },
  });
  assert.equal(out.ok, true, out.failure?.message);
  assert.deepEqual([out.tls?.clientCertificateRequested, out.tls?.clientCertificateSent], [true, false]);
});
