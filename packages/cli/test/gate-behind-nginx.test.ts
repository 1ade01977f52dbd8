import assert from 'node:assert/strict';
import { createServer, type IncomingHttpHeaders } from 'node:http';
import { after, before, test } from 'node:test';
import { type Daemon, listen, needTools, post, type Reply, startNginxHttp, tempDir } from '@hookwarden/testkit';
import { generateProxyConfig } from '@hookwarden/verify/proxy-config';
import { type RunningGate, startGate } from './helpers/gate.ts';
import { type Material, makeMaterial, PLATFORM_DN } from './helpers/material.ts';

// The whole receiver side as a customer deploys it: the generated nginx configuration terminates TLS
// and connects from 127.0.0.2; `hookwarden gate` trusts exactly that address; the app sees only
// verified callbacks.
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
let m: Material;

before(async () => {
  if (skip) return;
  m = await makeMaterial(dir.path);
  const appPort = await listen(app);
  gate = await startGate([
    '--upstream',
    `http://127.0.0.1:${appPort}`,
    '--trust-proxy',
    '127.0.0.2/32',
    '--proxy-headers',
    'nginx',
    '--client-ca',
    m.files.ca,
    '--require-subject',
    PLATFORM_DN,
  ]);
  const gatePort = gate.port;
  nginx = await startNginxHttp(dir.path, (port) =>
    generateProxyConfig('nginx', {
      serverName: 'localhost',
      listen: `127.0.0.1:${port}`,
      upstream: `http://127.0.0.1:${gatePort}`,
      caBundlePath: m.files.ca,
      serverCertPath: m.files.cert,
      serverKeyPath: m.files.key,
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
    tls: { ca: m.serverCaPem, cert: client.chain, key: client.key },
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
