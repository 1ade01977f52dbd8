import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { needTools, tempDir } from '@hookwarden/testkit';
import { type CheckReport, runCheck } from '../../src/checker/index.ts';
import type { ProbeResult } from '../../src/checker/probe.ts';
import { ANY_SUITE, suiteAcceptedAt } from '../../src/checker/versions.ts';
import { type Fixtures, makeFixtures } from './fixtures.ts';
import { serveHttps, serveWith } from './serve.ts';

let fx: Fixtures;
before(async () => {
  fx = await makeFixtures();
});
const closers: (() => Promise<void>)[] = [];
after(async () => {
  for (const close of closers) await close();
});

function codes(report: CheckReport): string[] {
  return report.findings.map((f) => f.code);
}

test('a TLS 1.2 server that requires a client certificate, checked without one, is not called compatible, and says none was sent', async () => {
  const port = await serveHttps(fx, closers, {
    requestCert: true,
    rejectUnauthorized: true,
    ca: fx.platform.caPem,
    maxVersion: 'TLSv1.2',
  });
  const report = await runCheck({
    url: `https://127.0.0.1:${port}/hooks`,
    allowPrivateTargets: true,
    serverCaPem: fx.serverRoot.certPem,
  });
  assert.equal(report.clientAuth.mode, 'required');
  assert.equal(report.verdict, 'incompatible', codes(report).join());
  assert.deepEqual(
    codes(report).filter((c) => c.startsWith('HW_CHECK_DELIVERY') || c.startsWith('HW_CHECK_IDENTITY')),
    ['HW_CHECK_IDENTITY_NEEDED'],
  );
  const needed = report.findings.find((f) => f.code === 'HW_CHECK_IDENTITY_NEEDED')!;
  assert.equal(needed.severity, 'error');
  assert.match(needed.message, /requires a client certificate and none was sent/);
  assert.doesNotMatch(needed.message, /refused our client certificate/);
  assert.match(needed.fix ?? '', /--pki-dir/);
  assert.ok(
    !report.findings.some((f) => /above/.test(f.fix ?? '')),
    'no finding points at findings that are not there',
  );
  // The suites themselves complete once a certificate is presented: they are not the problem.
  assert.ok(report.tls.ciphers[0]!.accepted.length > 0);
  assert.ok(!codes(report).includes('HW_CHECK_NO_COMMON_CIPHER'));
});

const skipOpenssl = needTools('openssl');

test('a 512-bit RSA server that no delivery can reach is incompatible, with the classified failure', {
  skip: skipOpenssl,
}, async () => {
  const dir = tempDir('hw-check-weak-');
  const [key, cert] = [join(dir.path, 'key.pem'), join(dir.path, 'cert.pem')];
  execFileSync(
    'openssl',
    ['req', '-x509', '-newkey', 'rsa:512', '-nodes', '-keyout', key, '-out', cert, '-days', '30'].concat([
      '-subj',
      '/CN=localhost',
      '-addext',
      'subjectAltName=IP:127.0.0.1',
    ]),
    { stdio: 'ignore' },
  );
  const certPem = readFileSync(cert, 'utf8');
  const port = await serveWith(closers, { cert: certPem, key: readFileSync(key), ciphers: 'DEFAULT:@SECLEVEL=0' });
  const report = await runCheck({
    url: `https://127.0.0.1:${port}/h`,
    allowPrivateTargets: true,
    serverCaPem: certPem,
  });
  dir.cleanup();
  assert.equal(report.verdict, 'incompatible', codes(report).join());
  const failed = report.findings.find((f) => f.code === 'HW_CHECK_DELIVERY_HANDSHAKE_FAILED');
  assert.ok(failed, codes(report).join());
  assert.match(failed.message, /tls_no_common_protocol/);
  assert.equal(report.http.attempted, false);
});

test('a suite counts as accepted only when the handshake could complete with it', () => {
  const hello = { version: 0x0303, cipherSuite: 0xc02f };
  const abandoned: ProbeResult = {
    handshake: false,
    peerChain: [],
    view: { ...hello, certificateRequest: null },
    failure: { kind: 'tls', message: 'ERR_SSL_DH_KEY_TOO_SMALL: dh key too small' },
  };
  assert.equal(suiteAcceptedAt(abandoned, 'TLSv1.2'), false);
  const completed: ProbeResult = { handshake: true, peerChain: [], view: hello };
  assert.equal(suiteAcceptedAt(completed, 'TLSv1.2'), true);
  // Refused only for the missing client certificate: with the platform's it completes.
  const certificateRefused: ProbeResult = {
    handshake: false,
    peerChain: [],
    view: { ...hello, certificateRequest: [] },
    failure: { kind: 'alert', alert: 'handshake_failure', message: 'x' },
  };
  assert.equal(suiteAcceptedAt(certificateRefused, 'TLSv1.2'), true);
  const silent: ProbeResult = {
    handshake: false,
    peerChain: [],
    view: hello,
    failure: { kind: 'timeout', message: 'x' },
  };
  assert.equal(suiteAcceptedAt(silent, 'TLSv1.2'), null);
  assert.equal(suiteAcceptedAt({ ...abandoned, view: { ...hello, version: 0x0302 } }, 'TLSv1.2'), false);
});

test('version probes offer no TLS 1.3 suite the checker cannot read (CCM)', async () => {
  assert.ok(!ANY_SUITE.includes('CCM'), ANY_SUITE);
  // A server that prefers CCM must still show whether it requests a client certificate.
  const port = await serveHttps(fx, closers, {
    minVersion: 'TLSv1.3',
    ciphers: 'TLS_AES_128_CCM_SHA256:TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384',
    honorCipherOrder: true,
  });
  const report = await runCheck({
    url: `https://127.0.0.1:${port}/h`,
    allowPrivateTargets: true,
    serverCaPem: fx.serverRoot.certPem,
    clientIdentity: fx.platform.identity,
  });
  assert.equal(report.clientAuth.mode, 'none');
  assert.deepEqual(report.clientAuth.detectedBy, ['certificate-request', 'behaviour']);
  assert.ok(codes(report).includes('HW_CHECK_CLIENT_CERT_NOT_REQUESTED'), codes(report).join());
});
