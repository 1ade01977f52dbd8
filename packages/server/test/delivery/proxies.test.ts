import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { type Daemon, needTools, startDaemon, startNginx, tempDir } from '@hookwarden/testkit';
import type { CipherPolicy } from '../../src/delivery/ciphers.ts';
import { DEFAULT_CIPHER_POLICY } from '../../src/delivery/ciphers.ts';
import { createDeliveryClient } from '../../src/delivery/client.ts';
import type { DeliveryClient } from '../../src/delivery/types.ts';
import { makeTestPki, type TestPki } from './certs.ts';

// The client against real receivers: nginx (checks the certificate per request and answers 400)
// and HAProxy (aborts the handshake), each on loopback.
const dir = tempDir('hw-delivery-proxies-');
const daemons: Daemon[] = [];
const clients: DeliveryClient[] = [];
let pki: TestPki;
const file = (name: string, content: string) => {
  writeFileSync(join(dir.path, name), content, { mode: 0o600 });
  return join(dir.path, name);
};
const TLS12: CipherPolicy = { ...DEFAULT_CIPHER_POLICY, maxVersion: 'TLSv1.2' };

before(async () => {
  pki = await makeTestPki();
  file('server.pem', pki.server.cert);
  file('server.key', pki.server.key);
  file('server-combined.pem', pki.server.cert + pki.server.key);
  file('platform-root.pem', pki.platformRoot);
  file('other.pem', pki.otherCa);
});
after(async () => {
  await Promise.all(clients.map((c) => c.close()));
  await Promise.all(daemons.map((d) => d.stop()));
  dir.cleanup();
});

function client(identity = true) {
  const c = createDeliveryClient({
    identity: () => (identity ? pki.client : undefined),
    allowPrivateTargets: true,
    connectTimeoutMs: 3000,
  });
  clients.push(c);
  return c;
}

async function nginx(name: string, verify: 'optional' | 'on', ca: string): Promise<number> {
  const home = join(dir.path, name);
  const d = await startNginx(
    home,
    (port) => `
    listen 127.0.0.1:${port} ssl;
    ssl_certificate ${join(dir.path, 'server.pem')};
    ssl_certificate_key ${join(dir.path, 'server.key')};
    ssl_client_certificate ${join(dir.path, ca)};
    ssl_verify_client ${verify};
    ssl_verify_depth 2;
    ssl_protocols TLSv1.2 TLSv1.3;
    location / { return 200 "$ssl_client_verify|$ssl_client_s_dn|$ssl_protocol"; }`,
  );
  daemons.push(d);
  return d.port;
}

test('nginx sees our chain verified in TLS 1.3 and 1.2, and the facts agree', {
  skip: needTools('nginx'),
}, async () => {
  const port = await nginx('nginx-ok', 'optional', 'platform-root.pem');
  const c = client();
  for (const [version, cipherPolicy] of [
    ['TLSv1.3', undefined],
    ['TLSv1.2', TLS12],
  ] as const) {
    const out = await c.deliver({
      url: `https://localhost:${port}/hook`,
      headers: {},
      body: '{"n":1}',
      tls: { serverCaPem: pki.serverCa, ...(cipherPolicy ? { cipherPolicy } : {}) },
    });
    assert.equal(out.ok, true, out.failure?.message);
    const [verified, dn, protocol] = out.responseExcerpt.split('|');
    assert.equal(verified, 'SUCCESS');
    assert.match(dn ?? '', /CN=hookwarden-test-client/);
    assert.equal(protocol, version);
    assert.equal(out.tls?.protocol, version);
    assert.equal(out.tls?.clientCertificateSent, true);
    assert.equal(out.tls?.clientCertificateRequested, true);
  }
  const none = await client(false).deliver({
    url: `https://localhost:${port}/hook`,
    headers: {},
    body: '{}',
    tls: { serverCaPem: pki.serverCa },
  });
  assert.equal(none.responseExcerpt.split('|')[0], 'NONE');
  assert.equal(none.tls?.clientCertificateSent, false);
  assert.equal(none.tls?.clientCertificateRequested, true);
});

test('nginx requiring another CA answers 400, classified as our certificate refused', {
  skip: needTools('nginx'),
}, async () => {
  const port = await nginx('nginx-other', 'on', 'other.pem');
  for (const [identity, title] of [
    [true, /SSL certificate error/],
    [false, /No required SSL certificate/],
  ] as const) {
    const out = await client(identity).deliver({
      url: `https://localhost:${port}/`,
      headers: {},
      body: '{}',
      tls: { serverCaPem: pki.serverCa },
    });
    assert.equal(out.statusCode, 400);
    assert.equal(out.failure?.kind, 'tls_client_certificate_rejected');
    assert.match(out.failure?.message ?? '', title);
  }
});

test('HAProxy with verify required aborts the handshake: our certificate refused, in TLS 1.3 and 1.2', {
  skip: needTools('haproxy'),
}, async () => {
  const cfg = join(dir.path, 'haproxy.cfg');
  const d = await startDaemon('haproxy', (port) => {
    writeFileSync(
      cfg,
      `global
  maxconn 64
defaults
  mode http
  timeout connect 5s
  timeout client 5s
  timeout server 5s
frontend receiver
  bind 127.0.0.1:${port} ssl crt ${join(dir.path, 'server-combined.pem')} ca-file ${join(dir.path, 'other.pem')} verify required
  http-request return status 200 content-type text/plain string ok
`,
    );
    return ['-db', '-f', cfg];
  });
  daemons.push(d);
  for (const cipherPolicy of [DEFAULT_CIPHER_POLICY, TLS12]) {
    const out = await client().deliver({
      url: `https://localhost:${d.port}/`,
      headers: {},
      body: '{}',
      tls: { serverCaPem: pki.serverCa, cipherPolicy },
    });
    assert.equal(
      out.failure?.kind,
      'tls_client_certificate_rejected',
      `${cipherPolicy.maxVersion}: ${out.failure?.message}`,
    );
  }
});
