import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { createServer as createHttpsServer, type ServerOptions } from 'node:https';
import { createServer as createNetServer, type Server, type Socket } from 'node:net';
import { after, before, test } from 'node:test';
import type { TLSSocket } from 'node:tls';
import { listen } from '@hookwarden/testkit';
import { createDeliveryClient } from '../../src/delivery/client.ts';
import type { LookupFn } from '../../src/delivery/ssrf.ts';
import type { DeliveryClientOptions } from '../../src/delivery/types.ts';
import { makeTestPki, type TestPki } from './certs.ts';

// Real TLS handshakes on loopback against Node's HTTPS server, in TLS 1.2 and 1.3.
let pki: TestPki;
const servers: Server[] = [];
const clients: { close(): Promise<void> }[] = [];

before(async () => {
  pki = await makeTestPki();
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  for (const s of servers) (s as { closeAllConnections?: () => void }).closeAllConnections?.();
  await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
});

interface Receiver {
  url: string;
  port: number;
  connections: number;
  peers: { subject?: string; authorized: boolean; chainLength: number }[];
  resumed: boolean[];
}

async function receiver(options: ServerOptions, answer: 'ok' | 'close' = 'ok'): Promise<Receiver> {
  const r: Receiver = { url: '', port: 0, connections: 0, peers: [], resumed: [] };
  const server = createHttpsServer({ key: pki.server.key, cert: pki.server.cert, ...options }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const peer = socket.getPeerCertificate(true);
    // Leaf, then issuers as the receiver resolved them (it stops at a self-signed root).
    let chainLength = 0;
    let c: typeof peer | undefined = peer;
    while (c?.raw && chainLength < 5) {
      chainLength++;
      c = c.issuerCertificate === c ? undefined : c.issuerCertificate;
    }
    r.peers.push({
      subject: peer?.subject ? String(peer.subject.CN) : undefined,
      authorized: socket.authorized,
      chainLength,
    });
    r.resumed.push(socket.isSessionReused());
    req.resume();
    req.on('end', () => {
      if (answer === 'close') res.setHeader('connection', 'close');
      res.end('ok');
    });
  });
  server.on('connection', () => r.connections++);
  servers.push(server);
  r.port = await listen(server);
  r.url = `https://localhost:${r.port}/hook`;
  return r;
}

const toLoopback: LookupFn = async () => [{ address: '127.0.0.1', family: 4 }];

function client(extra: Partial<DeliveryClientOptions> = {}) {
  const c = createDeliveryClient({
    identity: () => pki.client,
    allowPrivateTargets: true,
    lookup: toLoopback,
    connectTimeoutMs: 2000,
    ...extra,
  });
  clients.push(c);
  return c;
}

const mtls = (maxVersion: 'TLSv1.2' | 'TLSv1.3', ca = () => pki.platformRoot): ServerOptions => ({
  requestCert: true,
  rejectUnauthorized: true,
  ca: ca(),
  maxVersion,
});

for (const version of ['TLSv1.3', 'TLSv1.2'] as const) {
  test(`${version}: presents the chain to a receiver that requires it and reports the TLS facts`, async () => {
    const r = await receiver(mtls(version));
    const c = client();
    const out = await c.deliver({ url: r.url, headers: {}, body: '{}', tls: { serverCaPem: pki.serverCa } });
    assert.equal(out.ok, true, out.failure?.message);
    assert.equal(out.tls?.protocol, version);
    assert.ok(out.tls?.cipher.startsWith(version === 'TLSv1.3' ? 'TLS_' : 'TLS_ECDHE_'), out.tls?.cipher);
    assert.equal(out.tls?.peerFingerprintSha256, new X509Certificate(pki.server.cert).fingerprint256);
    assert.equal(out.tls?.clientCertificateSent, true);
    assert.equal(out.tls?.clientCertificateRequested, true);
    // The receiver trusts only the root: authorising the leaf proves the intermediate was presented.
    assert.deepEqual(r.peers, [{ subject: 'hookwarden-test-client', authorized: true, chainLength: 3 }]);
  });

  test(`${version}: a receiver that asks for no certificate gets none, and the facts say so`, async () => {
    const r = await receiver({ maxVersion: version });
    const out = await client().deliver({ url: r.url, headers: {}, body: '{}', tls: { serverCaPem: pki.serverCa } });
    assert.equal(out.ok, true, out.failure?.message);
    assert.equal(out.tls?.clientCertificateSent, false);
    assert.equal(out.tls?.clientCertificateRequested, false);
  });

  test(`${version}: asked for a certificate without an identity: requested, not sent`, async () => {
    const r = await receiver({
      maxVersion: version,
      requestCert: true,
      rejectUnauthorized: false,
      ca: pki.platformRoot,
    });
    const out = await client({ identity: () => undefined }).deliver({
      url: r.url,
      headers: {},
      body: '{}',
      tls: { serverCaPem: pki.serverCa },
    });
    assert.equal(out.ok, true, out.failure?.message);
    assert.equal(out.tls?.clientCertificateSent, false);
    assert.equal(out.tls?.clientCertificateRequested, true);
  });

  test(`${version}: a receiver that trusts another CA refuses our certificate`, async () => {
    const r = await receiver(mtls(version, () => pki.otherCa));
    const out = await client().deliver({ url: r.url, headers: {}, body: '{}', tls: { serverCaPem: pki.serverCa } });
    assert.equal(out.ok, false);
    assert.equal(out.failure?.kind, 'tls_client_certificate_rejected', out.failure?.message);
  });

  test(`${version}: a receiver that requires a certificate we do not have`, async () => {
    const r = await receiver(mtls(version));
    const out = await client({ identity: () => undefined }).deliver({
      url: r.url,
      headers: {},
      body: '{}',
      tls: { serverCaPem: pki.serverCa },
    });
    assert.equal(out.failure?.kind, 'tls_client_certificate_rejected', out.failure?.message);
  });

  test(`${version}: a resumed session still reports the certificate sent in the full handshake`, async () => {
    const r = await receiver(mtls(version), 'close');
    const c = client({ connectionsPerOrigin: 1 });
    const req = { url: r.url, headers: {}, body: '{}', tls: { serverCaPem: pki.serverCa } };
    const first = await c.deliver(req);
    const second = await c.deliver(req);
    assert.equal(first.ok && second.ok, true, second.failure?.message);
    assert.equal(r.connections, 2);
    assert.equal(second.tls?.clientCertificateSent, true);
    assert.deepEqual(r.resumed, [false, true]);
    assert.equal(r.peers.length, 2);
  });
}

test('the receiver certificate is verified: unknown CA and wrong host name are untrusted', async () => {
  const r = await receiver({});
  const c = client();
  const noCa = await c.deliver({ url: r.url, headers: {}, body: '{}' });
  assert.equal(noCa.failure?.kind, 'tls_server_untrusted', noCa.failure?.message);
  const wrongName = await c.deliver({
    url: `https://elsewhere.test:${r.port}/`,
    headers: {},
    body: '{}',
    tls: { serverCaPem: pki.serverCa },
  });
  assert.equal(wrongName.failure?.kind, 'tls_server_untrusted', wrongName.failure?.message);
  assert.match(wrongName.failure?.message ?? '', /elsewhere\.test/);
  assert.equal(r.peers.length, 0);
});

test('the host name from the URL is checked and sent as SNI while the checked address is dialled', async () => {
  const r = await receiver({});
  let sni: string | undefined;
  servers.at(-1)!.on('secureConnection', (s: TLSSocket) => {
    sni = (s as TLSSocket & { servername?: string }).servername;
  });
  const out = await client().deliver({
    url: `https://receiver.test:${r.port}/`,
    headers: {},
    body: '{}',
    tls: { serverCaPem: pki.serverCa },
  });
  assert.equal(out.ok, true, out.failure?.message);
  assert.equal(sni, 'receiver.test');
});

test('no common protocol: a TLS 1.0-only receiver, and a receiver with no suite we offer', async () => {
  const old = await receiver({ minVersion: 'TLSv1', maxVersion: 'TLSv1', ciphers: 'DEFAULT@SECLEVEL=0' });
  const c = client();
  const tls10 = await c.deliver({ url: old.url, headers: {}, body: '{}', tls: { serverCaPem: pki.serverCa } });
  assert.equal(tls10.failure?.kind, 'tls_no_common_protocol', tls10.failure?.message);

  // TLS 1.3 with only a CCM suite: valid, but not in the policy we offer.
  const picky = await receiver({ minVersion: 'TLSv1.3', ciphers: 'TLS_AES_128_CCM_SHA256' });
  const out = await c.deliver({ url: picky.url, headers: {}, body: '{}', tls: { serverCaPem: pki.serverCa } });
  assert.equal(out.failure?.kind, 'tls_no_common_protocol', out.failure?.message);

  // The same through a per-endpoint policy that shares no suite with a TLS 1.2 receiver.
  const tls12 = await receiver({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES256-GCM-SHA384' });
  const narrowed = await c.deliver({
    url: tls12.url,
    headers: {},
    body: '{}',
    tls: {
      serverCaPem: pki.serverCa,
      cipherPolicy: {
        minVersion: 'TLSv1.2',
        maxVersion: 'TLSv1.2',
        ciphers: ['ECDHE-ECDSA-AES128-GCM-SHA256'],
        tls13Suites: [],
      },
    },
  });
  assert.equal(narrowed.failure?.kind, 'tls_no_common_protocol', narrowed.failure?.message);
});

test('a TCP listener that never answers the handshake times out', async () => {
  const silent = createNetServer(() => {});
  const held: Socket[] = [];
  silent.on('connection', (s) => held.push(s));
  servers.push(silent);
  const port = await listen(silent);
  const out = await client({ tlsTimeoutMs: 200 }).deliver({
    url: `https://localhost:${port}/`,
    headers: {},
    body: '{}',
  });
  assert.equal(out.failure?.kind, 'timeout', out.failure?.message);
  assert.equal(out.failure?.phase, 'tls', out.failure?.message);
  for (const s of held) s.destroy();
});

test('https to a name resolving to loopback is refused without allowPrivateTargets; no connection is made', async () => {
  const r = await receiver({});
  const out = await client({ allowPrivateTargets: false }).deliver({
    url: `https://receiver.test:${r.port}/`,
    headers: {},
    body: '{}',
    tls: { serverCaPem: pki.serverCa },
  });
  assert.equal(out.failure?.kind, 'ssrf_blocked');
  assert.equal(r.connections, 0);
});

test('a broken identity or identity provider fails the attempt without throwing or echoing the key', async () => {
  const r = await receiver({});
  const secretLooking = 'PRIVATE-KEY-MATERIAL-must-not-appear';
  const bad = await client().deliver({
    url: r.url,
    headers: {},
    body: '{}',
    tls: { serverCaPem: pki.serverCa, clientIdentity: { certPem: 'nope', keyPem: secretLooking, chainPem: 'nope' } },
  });
  assert.equal(bad.ok, false);
  assert.equal(bad.failure?.kind, 'tls_other', bad.failure?.message);
  assert.doesNotMatch(bad.failure?.message ?? '', /PRIVATE-KEY-MATERIAL/);
  const throwing = await client({
    identity: () => {
      throw new Error('pki store unreadable');
    },
  }).deliver({ url: r.url, headers: {}, body: '{}', tls: { serverCaPem: pki.serverCa } });
  assert.equal(throwing.ok, false);
  assert.equal(throwing.failure?.kind, 'tls_other');
  assert.match(throwing.failure?.message ?? '', /identity .*pki store unreadable/);
  assert.equal(r.connections, 0);
});

test('connections and sessions are never shared across trust settings or identities', async () => {
  const r = await receiver({ requestCert: true, rejectUnauthorized: true, ca: pki.platformRoot });
  const c = client();
  const trusted = { url: r.url, headers: {}, body: '{}', tls: { serverCaPem: pki.serverCa } };
  assert.equal((await c.deliver(trusted)).ok, true);
  // Same origin, no private CA configured: a pooled connection or a resumed session would skip the
  // check that must fail here.
  const untrusted = await c.deliver({ url: r.url, headers: {}, body: '{}' });
  assert.equal(untrusted.failure?.kind, 'tls_server_untrusted', untrusted.failure?.message);

  const tenant = { ...trusted, tls: { ...trusted.tls, clientIdentity: pki.rsaClient } };
  for (const req of [trusted, tenant, trusted, tenant]) assert.equal((await c.deliver(req)).ok, true);
  assert.deepEqual(
    r.peers.map((p) => p.subject),
    [
      'hookwarden-test-client',
      'hookwarden-test-client',
      'hookwarden-test-client-rsa',
      'hookwarden-test-client',
      'hookwarden-test-client-rsa',
    ],
  );
});
