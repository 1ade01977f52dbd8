import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { type Daemon, needTools, startCaddy, startHaproxy, startNginxHttp, tempDir } from '@hookwarden/testkit';
import { generateProxyConfig, type ProxyConfigKind } from '../../src/proxy-config/index.ts';
import { startApp } from './app.ts';
import { type Reply, send } from './client.ts';
import { type Client, type Material, makeMaterial, makeUpstreamMaterial, type UpstreamMaterial } from './material.ts';

// An https app behind the proxy must prove it is the app: its certificate has to chain to the
// configured CA bundle (or the system's) and carry the upstream's name. Otherwise anyone able to
// answer on the app's address receives the platform's callbacks.
const PROXIES: { kind: ProxyConfigKind; start: (dir: string, config: (port: number) => string) => Promise<Daemon> }[] =
  [
    { kind: 'nginx', start: startNginxHttp },
    { kind: 'haproxy', start: startHaproxy },
    { kind: 'caddy', start: startCaddy },
  ];

for (const { kind, start } of PROXIES) {
  describe(`${kind} in front of an https app`, { skip: needTools(kind) }, () => {
    const dir = tempDir(`hw-${kind}-upstream-`);
    let m: Material;
    let u: UpstreamMaterial;
    let runs = 0;

    before(async () => {
      m = await makeMaterial(dir.path);
      u = await makeUpstreamMaterial(dir.path);
    });
    after(dir.cleanup);

    /** One platform request through a fresh proxy to a fresh app presenting `appCert`. */
    async function through(appCert: Client, upstreamCaBundlePath?: string): Promise<{ reply: Reply; hits: number }> {
      const app = await startApp(async () => ({ reached: true }), { cert: appCert.chain, key: appCert.key });
      const runDir = join(dir.path, `run-${runs++}`);
      mkdirSync(runDir);
      let proxy: Daemon | undefined;
      try {
        proxy = await start(runDir, (port) =>
          generateProxyConfig(kind, {
            serverName: 'localhost',
            listen: `127.0.0.1:${port}`,
            upstream: `https://localhost:${app.port}`,
            upstreamCaBundlePath,
            caBundlePath: m.paths.caBundle,
            serverCertPath: m.paths.serverCert,
            serverKeyPath: m.paths.serverKey,
          }),
        );
        const reply = await send(proxy.port, { ca: m.serverCaPem, cert: m.platform.chain, key: m.platform.key });
        return { reply, hits: app.hits() };
      } finally {
        await proxy?.stop();
        await app.close();
      }
    }

    function refused({ reply, hits }: { reply: Reply; hits: number }): void {
      assert.equal(hits, 0, 'the request must not reach an app that failed the certificate check');
      assert.ok(reply.status === 502 || reply.status === 503, `expected 502/503, got ${JSON.stringify(reply)}`);
    }

    test("the app's certificate for its name, from the given CA, is accepted", async () => {
      const { reply, hits } = await through(u.right, u.caPath);
      assert.equal(reply.status, 200, JSON.stringify(reply));
      assert.equal(hits, 1);
    });

    test('a certificate from the given CA for another name is refused', async () => {
      refused(await through(u.wrongName, u.caPath));
    });

    test('a certificate for the right name from another CA is refused', async () => {
      refused(await through(u.untrusted, u.caPath));
    });

    test("without upstreamCaBundlePath the system's trust store decides: a private CA is refused", async () => {
      refused(await through(u.right));
    });
  });
}
