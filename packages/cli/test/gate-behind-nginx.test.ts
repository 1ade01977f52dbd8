import assert from 'node:assert/strict';
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { caBundlePem, chainPem, createHierarchy, createSelfSignedCa, issueCertificate } from '@hookwarden/pki';
import { type Daemon, listen, needTools, post, type Reply, startNginxHttp, tempDir } from '@hookwarden/testkit';
import { generateProxyConfig } from '@hookwarden/verify/proxy-config';
import { type RunningGate, startGate } from './helpers/gate.ts';

// The whole receiver side as a customer deploys it: the generated nginx configuration terminates TLS
// and connects from 127.0.0.2; `hookwarden gate` trusts exactly that address; the app sees only
// verified callbacks.
const PLATFORM_DN = 'CN=hooks.platform.test,O=Acme\\, Inc.,C=US';
const skip = needTools('nginx');
const dir = tempDir('hw-gate-nginx-');
const seen: IncomingHttpHeaders[] = [];
const app = createServer((req, res) => {
  seen.push(req.headers);
  req.resume();
  req.on('end', () => res.end('app'));
});
let nginx: Daemon | undefined;
let gate: RunningGate | undefined;
let m: { serverCa: string; platform: { chain: string; key: string }; wrong: { chain: string; key: string } };

before(async () => {
  if (skip) return;
  const platform = await createHierarchy({ subject: PLATFORM_DN, keyType: 'ec-p256' });
  const wrong = await issueCertificate(platform.intermediate, {
    subject: 'CN=intruder',
    usage: 'client',
    keyType: 'ec-p256',
  });
  const serverCa = await createSelfSignedCa({ subject: 'CN=Receiver CA', keyType: 'ec-p256' });
  const server = await issueCertificate(serverCa, {
    subject: 'CN=localhost',
    dnsNames: ['localhost'],
    usage: 'server',
    keyType: 'ec-p256',
  });
  const ca = join(dir.path, 'platform-ca.pem');
  writeFileSync(ca, caBundlePem(platform));
  writeFileSync(join(dir.path, 'server.pem'), server.certPem);
  writeFileSync(join(dir.path, 'server.pem.key'), server.keyPem, { mode: 0o600 });
  m = {
    serverCa: serverCa.certPem,
    platform: { chain: chainPem(platform), key: platform.leaf.keyPem },
    wrong: { chain: wrong.certPem + platform.intermediate.certPem, key: wrong.keyPem },
  };
  const appPort = await listen(app);
  gate = await startGate([
    '--upstream',
    `http://127.0.0.1:${appPort}`,
    '--trust-proxy',
    '127.0.0.2/32',
    '--proxy-headers',
    'nginx',
    '--client-ca',
    ca,
    '--require-subject',
    PLATFORM_DN,
  ]);
  const gatePort = gate.port;
  nginx = await startNginxHttp(dir.path, (port) =>
    generateProxyConfig('nginx', {
      serverName: 'localhost',
      listen: `127.0.0.1:${port}`,
      upstream: `http://127.0.0.1:${gatePort}`,
      caBundlePath: ca,
      serverCertPath: join(dir.path, 'server.pem'),
      serverKeyPath: join(dir.path, 'server.pem.key'),
      sourceAddress: '127.0.0.2',
    }),
  );
});
after(async () => {
  await nginx?.stop();
  await gate?.stop();
  app.close();
  dir.cleanup();
});

function send(client: { chain: string; key: string }): Promise<Reply> {
  return post(nginx!.port, {
    tls: { ca: m.serverCa, cert: client.chain, key: client.key },
    headers: { 'x-ssl-client-subject-dn': PLATFORM_DN },
    body: '{}',
  });
}

test('nginx -> gate -> app: the platform passes with its verified facts', { skip }, async () => {
  const reply = await send(m.platform);
  assert.equal(reply.status, 200, reply.body);
  assert.equal(reply.body, 'app');
  const facts = JSON.parse(String(seen.at(-1)!['hookwarden-verified']));
  assert.equal(facts.identity.source, 'nginx');
  assert.equal(facts.clientIp, '127.0.0.1');
});

test('nginx -> gate -> app: a certificate with the wrong DN stops at the gate', { skip }, async () => {
  const before = seen.length;
  const reply = await send(m.wrong);
  assert.equal(reply.status, 403);
  assert.equal(JSON.parse(reply.body!).code, 'HW_SUBJECT_MISMATCH');
  assert.equal(seen.length, before);
});
