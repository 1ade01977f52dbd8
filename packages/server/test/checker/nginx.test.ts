import assert from 'node:assert/strict';
import { after, before, describe, test } from 'node:test';
import { type Daemon, needTools, startNginx, tempDir } from '@hookwarden/testkit';
import { type CheckReport, runCheck } from '../../src/checker/index.ts';
import { DEFAULT_CIPHER_POLICY, type TlsVersion } from '../../src/delivery/ciphers.ts';
import { type Fixtures, makeFixtures, type SslscanResult, sslscan, writeFiles } from './fixtures.ts';

/**
 * One real nginx per scenario, each checked once by runCheck and once by sslscan; every assertion
 * of a scenario reads those two results.
 */
const skip = needTools('nginx', 'sslscan');
const dir = tempDir();
const daemons: Daemon[] = [];
let fx: Fixtures;

before(async () => {
  if (!skip) fx = await makeFixtures({ rsa: true });
});
after(async () => {
  for (const d of daemons) await d.stop();
  dir.cleanup();
});

const ALL: TlsVersion[] = ['TLSv1', 'TLSv1.1', 'TLSv1.2', 'TLSv1.3'];
const offered = new Set<string>([...DEFAULT_CIPHER_POLICY.ciphers, ...DEFAULT_CIPHER_POLICY.tls13Suites]);

async function scenario(name: string, files: Record<string, string>, block: (f: Record<string, string>) => string) {
  const sub = `${dir.path}/${name}`;
  const { mkdirSync } = await import('node:fs');
  mkdirSync(sub, { mode: 0o700 });
  const paths = writeFiles(sub, files);
  const nginx = await startNginx(
    sub,
    (port) => `listen 127.0.0.1:${port} ssl;\n${block(paths)}\nlocation / { return 200 "ok"; }`,
  );
  daemons.push(nginx);
  return nginx;
}

/** Our protocols and suites must equal sslscan's, limited to the suites the dispatcher offers. */
function assertSameAsSslscan(report: CheckReport, scan: SslscanResult): void {
  assert.deepEqual(
    report.tls.protocols.filter((p) => p.accepted).map((p) => p.version),
    ALL.filter((v) => scan.protocols.has(v)),
    'accepted protocol versions',
  );
  for (const row of report.tls.ciphers) {
    const theirs = [...(scan.ciphers.get(row.version) ?? [])].filter((c) => offered.has(c)).sort();
    assert.deepEqual([...row.accepted].sort(), theirs, `${row.version} suites`);
  }
  const enumerated = report.tls.ciphers.map((c) => c.version);
  assert.deepEqual(
    enumerated,
    ALL.filter((v) => scan.protocols.has(v) && v >= 'TLSv1.2'),
    'versions whose suites were enumerated',
  );
}

const codes = (r: CheckReport) => r.findings.map((f) => f.code).sort();

describe('nginx: TLS 1.2 + 1.3, restricted suites, full chain, ssl_verify_client on', { skip }, () => {
  let report: CheckReport;
  let stranger: CheckReport;
  let scan: SslscanResult;
  before(async () => {
    const nginx = await scenario(
      'on',
      {
        'chain.pem': fx.ecServer.certPem + fx.serverIntermediate.certPem,
        'key.pem': fx.ecServer.keyPem,
        'clients.pem': fx.platform.caPem,
      },
      (f) => `ssl_certificate ${f['chain.pem']}; ssl_certificate_key ${f['key.pem']};
ssl_protocols TLSv1.2 TLSv1.3;
ssl_ciphers ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-ECDSA-AES256-SHA384:ECDHE-ECDSA-AES128-SHA:AES128-SHA;
ssl_conf_command Ciphersuites TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256;
ssl_client_certificate ${f['clients.pem']}; ssl_verify_client on; ssl_verify_depth 2;`,
    );
    const base = {
      url: `https://127.0.0.1:${nginx.port}/hooks`,
      allowPrivateTargets: true,
      serverCaPem: fx.serverRoot.certPem,
      platformCaPem: fx.platform.caPem,
    };
    [report, stranger, scan] = await Promise.all([
      runCheck({ ...base, clientIdentity: fx.platform.identity }),
      runCheck({ ...base, clientIdentity: fx.stranger }),
      sslscan(nginx.port),
    ]);
  });

  test('protocols and suites equal what sslscan reports', () => {
    assertSameAsSslscan(report, scan);
    assert.deepEqual(report.tls.ciphers.find((c) => c.version === 'TLSv1.3')?.accepted.sort(), [
      'TLS_AES_256_GCM_SHA384',
      'TLS_CHACHA20_POLY1305_SHA256',
    ]);
  });
  test('client authentication is required, names the platform CA, and accepts the platform certificate', () => {
    assert.equal(report.clientAuth.mode, 'required');
    assert.ok(report.clientAuth.detectedBy.includes('certificate-request'));
    assert.equal(report.clientAuth.platformCaAdvertised, true);
    assert.ok(
      report.clientAuth.caNames.some((n) => /Hookwarden Callback Root CA/.test(n)),
      report.clientAuth.caNames.join(),
    );
    assert.equal(report.clientAuth.withPlatformCertificate.ok, true);
    assert.equal(report.http.statusCode, 200);
  });
  test('the chain is complete, in order, trusted and valid for the host', () => {
    assert.equal(report.chain.source, 'handshake');
    assert.equal(report.chain.certificates.length, 2);
    assert.deepEqual(
      [report.chain.trusted, report.chain.complete, report.chain.ordered, report.chain.hostnameMatch],
      [true, true, true, true],
    );
    assert.equal(report.chain.certificates[0]!.keyType, 'ec');
  });
  test('the verdict is compatible', () => {
    assert.deepEqual(codes(report), []);
    assert.equal(report.verdict, 'compatible');
  });
  test('a certificate from another CA is refused, with the fix', () => {
    assert.equal(stranger.clientAuth.withPlatformCertificate.ok, false);
    assert.match(stranger.clientAuth.withPlatformCertificate.error ?? '', /could not verify/);
    assert.ok(codes(stranger).includes('HW_CHECK_CLIENT_CERT_REJECTED'));
    assert.equal(stranger.verdict, 'incompatible');
  });
});

describe('nginx: TLS 1.0-1.2, RSA, leaf only, ssl_verify_client optional with another CA', { skip }, () => {
  let report: CheckReport;
  let scan: SslscanResult;
  before(async () => {
    const nginx = await scenario(
      'optional',
      { 'leaf.pem': fx.rsaServer.certPem, 'key.pem': fx.rsaServer.keyPem, 'clients.pem': fx.otherCa.certPem },
      (f) => `ssl_certificate ${f['leaf.pem']}; ssl_certificate_key ${f['key.pem']};
ssl_protocols TLSv1 TLSv1.1 TLSv1.2;
ssl_ciphers ECDHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-SHA:AES256-SHA:DES-CBC3-SHA:@SECLEVEL=0;
ssl_client_certificate ${f['clients.pem']}; ssl_verify_client optional;`,
    );
    [report, scan] = await Promise.all([
      runCheck({
        url: `https://127.0.0.1:${nginx.port}/`,
        allowPrivateTargets: true,
        serverCaPem: fx.serverRoot.certPem,
        platformCaPem: fx.platform.caPem,
        clientIdentity: fx.platform.identity,
      }),
      sslscan(nginx.port),
    ]);
  });

  test('protocols (including TLS 1.0 and 1.1) and suites equal what sslscan reports', () => {
    assertSameAsSslscan(report, scan);
    assert.equal(report.tls.protocols.find((p) => p.version === 'TLSv1')?.accepted, true);
  });
  test('client authentication is optional and does not name the platform CA', () => {
    assert.equal(report.clientAuth.mode, 'optional');
    assert.equal(report.clientAuth.platformCaAdvertised, false);
    assert.deepEqual(report.clientAuth.caNames, ['CN=Some Other CA,O=Elsewhere']);
  });
  test('the missing intermediate is found', () => {
    assert.equal(report.chain.certificates.length, 1);
    assert.equal(report.chain.complete, false);
    assert.equal(report.chain.trusted, false);
    assert.equal(report.chain.certificates[0]!.keyType, 'rsa');
    assert.equal(report.chain.certificates[0]!.keyBits, 2048);
    const incomplete = report.findings.find((f) => f.code === 'HW_CHECK_CHAIN_INCOMPLETE');
    assert.match(incomplete?.message ?? '', /does not send its intermediate certificate/);
  });
  test('the findings name every problem', () => {
    assert.deepEqual(codes(report), [
      'HW_CHECK_CHAIN_INCOMPLETE',
      'HW_CHECK_CLIENT_CERT_OPTIONAL',
      'HW_CHECK_CLIENT_CERT_REJECTED',
      'HW_CHECK_HTTP_FAILED',
      'HW_CHECK_LEGACY_PROTOCOL',
      'HW_CHECK_NO_TLS13',
      'HW_CHECK_PLATFORM_CA_NOT_ADVERTISED',
    ]);
    assert.equal(report.verdict, 'incompatible');
    // The test event goes through the delivery client, which refuses an unverifiable server.
    assert.match(report.http.error ?? '', /^tls_server_untrusted/);
  });
  test('nginx is recognised and the fixes say how to do it in nginx', () => {
    assert.equal(report.server?.software, 'nginx');
    assert.match(report.server?.evidence ?? '', /^Server: nginx/);
    const optional = report.findings.find((f) => f.code === 'HW_CHECK_CLIENT_CERT_OPTIONAL');
    assert.match(optional?.fix ?? '', /\(nginx: `ssl_verify_client on;` instead of `optional`\)$/);
  });
});

describe('nginx: TLS 1.3 only, chain out of order, ssl_verify_client off', { skip }, () => {
  let report: CheckReport;
  let scan: SslscanResult;
  before(async () => {
    const nginx = await scenario(
      'off',
      {
        'chain.pem': fx.ecServer.certPem + fx.serverRoot.certPem + fx.serverIntermediate.certPem,
        'key.pem': fx.ecServer.keyPem,
      },
      (f) => `ssl_certificate ${f['chain.pem']}; ssl_certificate_key ${f['key.pem']};
ssl_protocols TLSv1.3; ssl_verify_client off;`,
    );
    [report, scan] = await Promise.all([
      runCheck({
        url: `https://127.0.0.1:${nginx.port}/`,
        allowPrivateTargets: true,
        serverCaPem: fx.serverRoot.certPem,
        clientIdentity: fx.platform.identity,
      }),
      sslscan(nginx.port),
    ]);
  });

  test('protocols and suites equal what sslscan reports', () => {
    assertSameAsSslscan(report, scan);
  });
  test('no client certificate is requested (read from the decrypted TLS 1.3 handshake)', () => {
    assert.equal(report.clientAuth.mode, 'none');
    assert.ok(report.clientAuth.detectedBy.includes('certificate-request'));
  });
  test('the chain is complete but out of order', () => {
    assert.equal(report.chain.source, 'handshake');
    assert.equal(report.chain.certificates.length, 3);
    assert.equal(report.chain.complete, true);
    assert.equal(report.chain.ordered, false);
    assert.deepEqual(codes(report), ['HW_CHECK_CHAIN_ORDER', 'HW_CHECK_CLIENT_CERT_NOT_REQUESTED']);
    assert.equal(report.verdict, 'compatible_with_warnings');
  });
});
