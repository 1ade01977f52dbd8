import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import type { Daemon } from '@hookwarden/testkit';
import { tempDir } from '@hookwarden/testkit';
import { dnEquals } from '../../src/dn.ts';
import type { ProxyConfigKind, ProxyConfigOptions } from '../../src/proxy-config/index.ts';
import { generateProxyConfig } from '../../src/proxy-config/index.ts';
import { type App, type AppRequest, startApp } from './app.ts';
import { type Reply, send, sendPlain } from './client.ts';
import { type Material, makeMaterial, PLATFORM_DN } from './material.ts';

export interface ProxyUnderTest {
  kind: ProxyConfigKind;
  /** Starts the real server with the configuration `config(port)` in `dir`. */
  start(dir: string, config: (port: number) => string): Promise<Daemon>;
  /** The address the proxy connects to the app from; the app trusts exactly this one. */
  proxySource: string;
  /** A loopback address that is not the proxy's, for the spoofing client. */
  spoofSource: string;
  /** nginx answers a missing/unverifiable certificate with HTTP 400; HAProxy and Caddy abort the handshake. */
  refusesWithStatus?: number;
  /** What the app's verifier gets: the toolkit in proxy-header mode, trusting `trusted` only. */
  verifier(trusted: string, m: Material): (req: AppRequest) => Promise<unknown>;
  /** Check-mode options for this proxy (Caddy pins a SHA-256 fingerprint; the others compare the DN). */
  check(m: Material): Pick<ProxyConfigOptions, 'subjects' | 'fingerprints'>;
}

function refusedBeforeTheApp(p: ProxyUnderTest, reply: Reply, app: App, hitsBefore: number): void {
  assert.equal(app.hits(), hitsBefore, 'the request must not reach the app');
  if (p.refusesWithStatus !== undefined) assert.equal(reply.status, p.refusesWithStatus, JSON.stringify(reply));
  else assert.ok(reply.error !== undefined, `expected the TLS handshake to fail, got ${JSON.stringify(reply)}`);
}

/** The same promises for every proxy, against the real server and the generated configuration. */
export function proxyScenarios(p: ProxyUnderTest, skip: string | false): void {
  for (const mode of ['headers', 'check'] as const) {
    describe(`${p.kind} (${mode} mode) in front of an app using the toolkit`, { skip }, () => {
      const dir = tempDir(`hw-${p.kind}-`);
      let m: Material;
      let app: App;
      let proxy: Daemon;

      before(async () => {
        m = await makeMaterial(dir.path);
        app = await startApp(p.verifier(`${p.proxySource}/32`, m));
        const options = (port: number): ProxyConfigOptions => ({
          serverName: 'localhost',
          listen: `127.0.0.1:${port}`,
          upstream: `http://127.0.0.1:${app.port}`,
          caBundlePath: m.paths.caBundle,
          serverCertPath: m.paths.serverCert,
          serverKeyPath: m.paths.serverKey,
          // The chain has one intermediate: nginx's limit is tightened to exactly that. HAProxy and Caddy
          // have no depth limit and refuse a verifyDepth they would ignore.
          ...(p.kind === 'nginx' ? { verifyDepth: 1 } : {}),
          mode,
          ...(mode === 'check' ? p.check(m) : {}),
          ...(p.proxySource !== '127.0.0.1' ? { sourceAddress: p.proxySource } : {}),
        });
        proxy = await p.start(dir.path, (port) => generateProxyConfig(p.kind, options(port)));
      });
      after(async () => {
        await proxy?.stop();
        await app?.close();
        dir.cleanup();
      });

      test("the platform's certificate (leaf + intermediate) passes, with its identity", async () => {
        const reply = await send(proxy.port, {
          ca: m.serverCaPem,
          cert: m.platform.chain,
          key: m.platform.key,
          // The proxy overwrites X-Forwarded-For with the TLS client's address; appending would let
          // this value through wherever the client's address is itself trusted.
          headers: { 'X-Forwarded-For': '203.0.113.66', Forwarded: 'for=203.0.113.67' },
        });
        assert.equal(reply.status, 200, JSON.stringify(reply) + proxy.stderr());
        const facts = JSON.parse(reply.body!);
        assert.ok(dnEquals(facts.identity.subject, PLATFORM_DN), facts.identity.subject);
        assert.equal(facts.identity.source, p.kind);
        assert.ok(facts.checks.includes('client-certificate'));
        // Every proxy here forwards the certificate itself, so the app sees its SHA-256 and its SANs.
        assert.equal(facts.identity.fingerprintSha256, m.platform.sha256Hex);
        assert.equal(facts.clientIp, '127.0.0.1', 'the client address comes from the proxy, through trust');
      });

      test('no certificate is refused before the app', async () => {
        const hits = app.hits();
        refusedBeforeTheApp(p, await send(proxy.port, { ca: m.serverCaPem }), app, hits);
      });

      test('a certificate from another CA is refused before the app', async () => {
        const hits = app.hits();
        const reply = await send(proxy.port, { ca: m.serverCaPem, cert: m.otherCa.chain, key: m.otherCa.key });
        refusedBeforeTheApp(p, reply, app, hits);
      });

      test('the right CA with the wrong DN is refused, even claiming the right DN in a header', async () => {
        const hits = app.hits();
        const reply = await send(proxy.port, {
          ca: m.serverCaPem,
          cert: m.wrongDn.chain,
          key: m.wrongDn.key,
          // Inbound copies must be removed by the proxy, never passed through.
          headers: {
            'X-SSL-Client-Subject-DN': PLATFORM_DN,
            'X-SSL-Client-Verify': 'SUCCESS',
            'X-SSL-Client-Fingerprint': m.platform.sha1Hex,
            'X-SSL-Client-SHA1': m.platform.sha1Hex,
            'X-SSL-Client-Fingerprint-SHA256': m.platform.sha256Hex,
          },
        });
        assert.equal(reply.status, 403, JSON.stringify(reply));
        if (mode === 'check') assert.equal(app.hits(), hits, 'check mode refuses in the proxy');
        else assert.equal(JSON.parse(reply.body!).code, 'HW_SUBJECT_MISMATCH');
      });

      test('proxy headers sent straight to the app are refused (HW_PROXY_UNTRUSTED)', async () => {
        const reply = await sendPlain(app.port, {
          localAddress: p.spoofSource,
          headers: {
            'X-SSL-Client-Verify': 'SUCCESS',
            'X-SSL-Client-Used': '1',
            'X-SSL-Client-Subject-DN': PLATFORM_DN,
            'X-SSL-Client-Fingerprint': m.platform.sha1Hex,
            'X-Forwarded-For': p.proxySource,
          },
        });
        assert.equal(reply.status, 403, JSON.stringify(reply));
        assert.equal(JSON.parse(reply.body!).code, 'HW_PROXY_UNTRUSTED');
      });
    });
  }
}
