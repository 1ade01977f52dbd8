import assert from 'node:assert/strict';
import { after, before, test } from 'node:test';
import { type Daemon, needTools, startNginxHttp, tempDir } from '@hookwarden/testkit';
import { generateProxyConfig } from '../../src/proxy-config/index.ts';
import { type App, startApp } from './app.ts';
import { send } from './client.ts';
import { type Material, makeMaterial } from './material.ts';

// verifyDepth counts intermediates, as nginx's ssl_verify_depth does: the platform's chain
// (leaf -> intermediate -> root) passes with 1 (the shared scenarios) and is refused with 0.
const skip = needTools('nginx');
const dir = tempDir('hw-nginx-depth-');
let m: Material;
let app: App;
let nginx: Daemon;

before(async () => {
  if (skip) return;
  m = await makeMaterial(dir.path);
  app = await startApp(async () => ({ reached: true }));
  nginx = await startNginxHttp(dir.path, (port) =>
    generateProxyConfig('nginx', {
      serverName: 'localhost',
      listen: `127.0.0.1:${port}`,
      upstream: `http://127.0.0.1:${app.port}`,
      caBundlePath: m.paths.caBundle,
      serverCertPath: m.paths.serverCert,
      serverKeyPath: m.paths.serverKey,
      verifyDepth: 0,
    }),
  );
});
after(async () => {
  await nginx?.stop();
  await app?.close();
  dir.cleanup();
});

test('with verifyDepth 0 nginx refuses a chain through one intermediate', { skip }, async () => {
  const reply = await send(nginx.port, { ca: m.serverCaPem, cert: m.platform.chain, key: m.platform.key });
  assert.equal(reply.status, 400, JSON.stringify(reply));
  assert.match(reply.body!, /SSL certificate error/);
  assert.equal(app.hits(), 0);
});
