import assert from 'node:assert/strict';
import { X509Certificate } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { after, before, describe, test } from 'node:test';
import { tempDir } from '@hookwarden/testkit';
import { HookwardenError } from '../src/errors.ts';
import type { VerifyPolicy } from '../src/policy.ts';
import { generateSecret, sign } from '../src/signature.ts';
import { createVerifier, type VerifyRequest } from '../src/verifier.ts';
import { makeTestPki, opensslIssuer, type TestPki } from './helpers/certs.ts';

let pki: TestPki;
let NOW: number;
const dir = tempDir();
before(() => {
  pki = makeTestPki(dir.path);
  NOW = Date.parse(new X509Certificate(pki.client.certPem).validFrom) + 3_600_000;
});
after(() => dir.cleanup());
const now = () => NOW;

function req(over: Partial<VerifyRequest> = {}): VerifyRequest {
  return { method: 'POST', url: '/hook', headers: {}, body: new Uint8Array(), remoteAddress: '203.0.113.9', ...over };
}

function socketTls(chainPems: string[], authorized = true): NonNullable<VerifyRequest['tls']> {
  return { encrypted: true, authorized, peerCertificates: chainPems, protocol: 'TLSv1.3' };
}

function pems(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----\n?/g)!.map((s) => s.trim() + '\n');
}

async function refused(p: Promise<unknown>, code: string, status?: number) {
  await assert.rejects(p, (err: unknown) => {
    assert.ok(err instanceof HookwardenError, String(err));
    assert.equal(err.code, code, err.message);
    if (status !== undefined) assert.equal(err.status, status);
    return true;
  });
}

describe('policy validation', () => {
  test('bad policies are refused at creation, naming the field', () => {
    const cases: [unknown, RegExp][] = [
      [{}, /^policy: configures no check/],
      [{ https: false }, /^policy:/],
      [{ https: 'yes' }, /^https:/],
      [{ bogus: 1, https: true }, /^bogus: is not a policy field/],
      [{ ipAllowlist: [] }, /^ipAllowlist: must not be empty/],
      [{ ipAllowlist: ['10.0.0.1/8'] }, /^ipAllowlist\[0\]: .*host bits set; did you mean 10\.0\.0\.0\/8/],
      [{ ipAllowlist: ['10.0.0.0/8', 'nope'] }, /^ipAllowlist\[1\]:/],
      [{ https: true, trustedProxies: ['::1/129'] }, /^trustedProxies\[0\]:/],
      [{ https: true, trustedProxies: ['10.0.0.0/8', '::/0'] }, /^trustedProxies\[1\]: trusts every address/],
      [{ https: true, forwardedHeader: 'x-real-ip' }, /^forwardedHeader:/],
      [{ clientCertificate: { source: 'apache' } }, /^clientCertificate\.source:/],
      [{ clientCertificate: { source: 'nginx' } }, /^trustedProxies: is required/],
      [{ clientCertificate: { source: 'socket', caBundlePem: 'x' } }, /^clientCertificate\.caBundlePem: holds no PEM/],
      [{ clientCertificate: { source: 'socket', maxDepth: -1 } }, /^clientCertificate\.maxDepth:/],
      [{ clientCertificate: { source: 'socket', subject: 'CN=a,,' } }, /^clientCertificate\.subject:/],
      [{ clientCertificate: { source: 'socket', subject: ['CN=a', 'O'] } }, /^clientCertificate\.subject\[1\]:/],
      // an unset variable defaulted to '' must not become "the empty DN", which admits empty subjects
      [{ clientCertificate: { source: 'socket', subject: '' } }, /^clientCertificate\.subject: .*empty/],
      [{ clientCertificate: { source: 'socket', subject: ' \t' } }, /^clientCertificate\.subject: .*empty/],
      [
        { clientCertificate: { source: 'socket', subject: ['CN=a', '  '] } },
        /^clientCertificate\.subject\[1\]: .*empty/,
      ],
      [{ clientCertificate: { source: 'socket', dnsNames: ['*.example.com'] } }, /^clientCertificate\.dnsNames\[0\]:/],
      [{ clientCertificate: { source: 'socket', pins: ['abc'] } }, /^clientCertificate\.pins\[0\]:/],
      [{ clientCertificate: { source: 'socket', pin: 'x' } }, /^clientCertificate\.pin: is not a policy field/],
      [
        { clientCertificate: { source: 'caddy' }, trustedProxies: ['127.0.0.1'] },
        /^clientCertificate\.caBundlePem: is required/,
      ],
      [
        { clientCertificate: { source: 'custom' }, trustedProxies: ['127.0.0.1'] },
        /^clientCertificate\.customHeaders:/,
      ],
      [{ signature: {} }, /^signature\.secrets:/],
      [{ signature: { secrets: ['whsec_short'] } }, /^signature\.secrets\[0\]:/],
      [{ signature: { publicKeys: ['whpk_x'] } }, /^signature\.publicKeys\[0\]:/],
      [{ signature: { secrets: [generateSecret()], toleranceSeconds: -1 } }, /^signature\.toleranceSeconds:/],
      [{ https: true, replay: true }, /^replay: needs signature/],
      [{ trustDocument: 'https://platform.example/api/v1/trust' }, /^policy: trustDocument only supplies values/],
      [{ https: true, trustDocument: 'http://platform.example/trust' }, /^trustDocument\.url: must be https/],
      [{ https: true, now: 5 }, /^now:/],
    ];
    // a CA certificate that parses but whose public key does not decode (an invalid EC point)
    const badKey = Buffer.from(new X509Certificate(pki.root.certPem).raw);
    badKey[badKey.indexOf(Buffer.from('03420004', 'hex')) + 3] = 0x05;
    const badKeyPem = `-----BEGIN CERTIFICATE-----\n${badKey.toString('base64')}\n-----END CERTIFICATE-----\n`;
    cases.push([
      { clientCertificate: { source: 'socket', caBundlePem: pki.intermediate.certPem + badKeyPem } },
      /^clientCertificate\.caBundlePem: certificate 2 cannot be parsed/,
    ]);
    for (const [policy, message] of cases) {
      assert.throws(
        () => createVerifier(policy as VerifyPolicy),
        (err: unknown) => {
          assert.ok(err instanceof HookwardenError);
          assert.equal(err.code, 'HW_POLICY_INVALID');
          assert.match(err.message, message, JSON.stringify(policy));
          return true;
        },
      );
    }
  });
});

describe('client certificate on the socket', () => {
  const policy = (over: Record<string, unknown> = {}): VerifyPolicy => ({
    clientCertificate: { source: 'socket', caBundlePem: pki.caBundlePem, ...over },
    now,
  });

  test('the platform chain passes and yields its identity', async () => {
    const v = createVerifier(policy({ subject: pki.clientSubject, dnsNames: ['hooks.platform.example'] }));
    const facts = await v.verify(req({ tls: socketTls(pems(pki.clientChainPem)) }));
    assert.deepEqual(facts.checks, ['client-certificate']);
    assert.equal(facts.clientIp, '203.0.113.9');
    assert.equal(facts.identity?.source, 'socket');
    assert.equal(facts.identity?.subject, pki.clientSubject);
    assert.deepEqual(facts.identity?.dnsNames, ['hooks.platform.example', '*.egress.platform.example']);
    assert.equal(
      facts.identity?.fingerprintSha256,
      new X509Certificate(pki.client.certPem).fingerprint256.replace(/:/g, '').toLowerCase(),
    );
  });

  test('the leaf alone chains through the intermediate in the bundle', async () => {
    const v = createVerifier(policy());
    assert.ok(await v.verify(req({ tls: socketTls([pki.client.certPem]) })));
  });

  test('missing, untrusted, expired, not yet valid and wrong-purpose certificates are refused', async () => {
    const v = createVerifier(policy());
    await refused(v.verify(req()), 'HW_CERT_MISSING', 401);
    await refused(v.verify(req({ tls: socketTls([]) })), 'HW_CERT_MISSING', 401);
    await refused(
      v.verify(req({ tls: socketTls([pki.impostor.certPem, pki.otherRoot.certPem]) })),
      'HW_CERT_UNTRUSTED',
      403,
    );
    await refused(v.verify(req({ tls: socketTls(['garbage']) })), 'HW_CERT_INVALID', 400);
    await refused(v.verify(req({ tls: socketTls([pki.serverOnly.certPem]) })), 'HW_CERT_USAGE', 403);
    const later = createVerifier({ ...policy(), now: () => NOW + 40 * 86_400_000 });
    await refused(later.verify(req({ tls: socketTls(pems(pki.clientChainPem)) })), 'HW_CERT_EXPIRED', 403);
    const earlier = createVerifier({ ...policy(), now: () => NOW - 86_400_000 });
    await refused(earlier.verify(req({ tls: socketTls(pems(pki.clientChainPem)) })), 'HW_CERT_EXPIRED', 403);
    // clientAuth can be waived explicitly
    const lax = createVerifier(policy({ requireClientAuth: false }));
    assert.ok(await lax.verify(req({ tls: socketTls([pki.serverOnly.certPem]) })));
  });

  test('maxDepth counts intermediates like nginx ssl_verify_depth', async () => {
    const deep = socketTls(pems(pki.deepChainPem));
    assert.ok(await createVerifier(policy({ maxDepth: 2 })).verify(req({ tls: deep })));
    await refused(createVerifier(policy({ maxDepth: 1 })).verify(req({ tls: deep })), 'HW_CERT_UNTRUSTED');
    assert.ok(await createVerifier(policy({ maxDepth: 1 })).verify(req({ tls: socketTls(pems(pki.clientChainPem)) })));
    await refused(
      createVerifier(policy({ maxDepth: 0 })).verify(req({ tls: socketTls(pems(pki.clientChainPem)) })),
      'HW_CERT_UNTRUSTED',
    );
  });

  test('a bundle holding only the intermediate is enough (anchor on the platform CA alone)', async () => {
    const v = createVerifier({ clientCertificate: { source: 'socket', caBundlePem: pki.intermediate.certPem }, now });
    assert.ok(await v.verify(req({ tls: socketTls([pki.client.certPem]) })));
    await refused(v.verify(req({ tls: socketTls([pki.impostor.certPem]) })), 'HW_CERT_UNTRUSTED');
  });

  test('without a bundle, the TLS stack verdict decides', async () => {
    const v = createVerifier({
      clientCertificate: { source: 'socket', pins: [new X509Certificate(pki.client.certPem).fingerprint256] },
      now,
    });
    assert.ok(await v.verify(req({ tls: socketTls(pems(pki.clientChainPem + pki.root.certPem)) })));
    await refused(
      v.verify(
        req({ tls: { ...socketTls([pki.client.certPem], false), authorizationError: 'UNABLE_TO_GET_ISSUER_CERT' } }),
      ),
      'HW_CERT_UNTRUSTED',
    );
  });

  test('subject DNs compare structurally, never as strings', async () => {
    const tls = socketTls(pems(pki.clientChainPem));
    const variants = [
      'cn=HOOKS.platform.example, ou=Webhooks, o=Acme\\, Inc., c=US',
      '2.5.4.3=hooks.platform.example,OU=Webhooks,O=Acme\\2C Inc.,C=US',
    ];
    for (const subject of variants) assert.ok(await createVerifier(policy({ subject })).verify(req({ tls })), subject);
    for (const subject of [
      'CN=hooks.platform.example',
      'C=US,O=Acme\\, Inc.,OU=Webhooks,CN=hooks.platform.example',
      'CN=other,OU=Webhooks,O=Acme\\, Inc.,C=US',
    ]) {
      await refused(createVerifier(policy({ subject })).verify(req({ tls })), 'HW_SUBJECT_MISMATCH', 403);
    }
    // any of several
    assert.ok(await createVerifier(policy({ subject: ['CN=other', pki.clientSubject] })).verify(req({ tls })));
  });

  test('CA-issued subjects that only look like the expected one are refused and reported as they are', async () => {
    const issue = opensslIssuer(dir.path);
    const by = { cert: join(dir.path, 'intermediate.pem'), key: join(dir.path, 'intermediate.key') };
    const expected = 'CN=hooks.platform.example,O=Platform,C=US';
    const v = createVerifier(policy({ subject: expected }));
    const ext = 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=clientAuth';
    const cases: [string, string][] = [
      ['bom', '\ufeffhooks.platform.example'],
      ['kelvin', 'hoo\u212as.platform.example'],
      ['ideographic-space', 'hooks.platform.example\u3000'],
      ['nbsp', 'hooks.platform\u00a0example'],
      ['tab', 'hooks.platform\t.example'],
    ];
    for (const [name, cn] of cases) {
      const made = issue(`lookalike-${name}`, `/C=US/O=Platform/CN=${cn}`, ext, by);
      const tls = socketTls([readFileSync(made.cert, 'utf8'), pki.intermediate.certPem]);
      await assert.rejects(v.verify(req({ tls })), (err: HookwardenError) => {
        assert.equal(err.code, 'HW_SUBJECT_MISMATCH', `${name}: ${err.message}`);
        return true;
      });
    }
    // the invisible character shows in what is reported, escaped
    const bom = issue('reported-bom', '/C=US/O=Platform/CN=\ufeffhooks.platform.example', ext, by);
    const lax = createVerifier(policy());
    const facts = await lax.verify(req({ tls: socketTls([readFileSync(bom.cert, 'utf8'), pki.intermediate.certPem]) }));
    assert.equal(facts.identity?.subject, 'CN=\\EF\\BB\\BFhooks.platform.example,O=Platform,C=US');
    const clean = issue('clean', '/C=US/O=Platform/CN=hooks.platform.example', ext, by);
    assert.ok(await v.verify(req({ tls: socketTls([readFileSync(clean.cert, 'utf8'), pki.intermediate.certPem]) })));
  });

  test('DNS names: exact, single-label wildcard only, CN only without a SAN', async () => {
    const tls = socketTls(pems(pki.clientChainPem));
    for (const name of ['hooks.platform.example', 'HOOKS.Platform.Example', 'eu1.egress.platform.example']) {
      assert.ok(await createVerifier(policy({ dnsNames: [name] })).verify(req({ tls })), name);
    }
    for (const name of ['egress.platform.example', 'a.b.egress.platform.example', 'platform.example', 'evil.example']) {
      await refused(createVerifier(policy({ dnsNames: [name] })).verify(req({ tls })), 'HW_SAN_MISMATCH', 403);
    }
    const noSan = socketTls([pki.noSan.certPem]);
    assert.ok(await createVerifier(policy({ dnsNames: ['hooks.platform.example'] })).verify(req({ tls: noSan })));
    // the client certificate has SANs, and a CN that is not among them would not count
    await refused(
      createVerifier(policy({ dnsNames: ['other.example'] })).verify(req({ tls: noSan })),
      'HW_SAN_MISMATCH',
    );
    // a SAN value smuggling a second name behind a comma is one (invalid) name, not two
    const injected = createVerifier(policy({ dnsNames: ['hooks.platform.example'] }));
    await refused(injected.verify(req({ tls: socketTls([pki.sanInjection.certPem]) })), 'HW_SAN_MISMATCH');
    // two CNs in one multi-valued RDN: ambiguous, so neither counts
    await refused(injected.verify(req({ tls: socketTls([pki.twoCn.certPem]) })), 'HW_SAN_MISMATCH');
  });

  test('pins: SHA-256 (with or without colons), SHA-1 and SPKI; any one matching', async () => {
    const cert = new X509Certificate(pki.client.certPem);
    const spki = (await import('node:crypto'))
      .createHash('sha256')
      .update(cert.publicKey.export({ type: 'spki', format: 'der' }))
      .digest('base64');
    const tls = socketTls(pems(pki.clientChainPem));
    for (const pin of [
      cert.fingerprint256,
      cert.fingerprint256.replace(/:/g, '').toLowerCase(),
      cert.fingerprint,
      spki,
      `sha256/${spki}`,
    ]) {
      assert.ok(await createVerifier(policy({ pins: ['00'.repeat(32), pin] })).verify(req({ tls })), pin);
    }
    await refused(createVerifier(policy({ pins: ['00'.repeat(32)] })).verify(req({ tls })), 'HW_PIN_MISMATCH', 403);
  });
});

describe('client address, allowlist and https', () => {
  test('the socket peer is the client unless it is a trusted proxy; XFF walks from the right', async () => {
    const v = createVerifier({
      ipAllowlist: ['198.51.100.0/24', '2001:db8::/32'],
      trustedProxies: ['10.0.0.0/8', '::1'],
      now,
    });
    assert.equal((await v.verify(req({ remoteAddress: '198.51.100.7' }))).clientIp, '198.51.100.7');
    assert.equal((await v.verify(req({ remoteAddress: '::ffff:198.51.100.7' }))).clientIp, '198.51.100.7');
    await refused(v.verify(req({ remoteAddress: '203.0.113.1' })), 'HW_IP_DENIED', 403);
    // an untrusted peer's X-Forwarded-For is ignored, whatever it claims
    await refused(
      v.verify(req({ remoteAddress: '203.0.113.1', headers: { 'x-forwarded-for': '198.51.100.7' } })),
      'HW_IP_DENIED',
    );
    // through trusted proxies: the right-most untrusted entry is the client; prepending does not help
    const via = (xff: string | string[], peer = '10.1.1.1') =>
      v.verify(req({ remoteAddress: peer, headers: { 'x-forwarded-for': xff } }));
    assert.equal((await via('198.51.100.7')).clientIp, '198.51.100.7');
    assert.equal((await via('203.0.113.1, 198.51.100.7, 10.2.2.2')).clientIp, '198.51.100.7');
    await refused(via('198.51.100.7, 203.0.113.1'), 'HW_IP_DENIED');
    assert.equal((await via(['203.0.113.1', '[2001:db8::5]:443'], '::1')).clientIp, '2001:db8::5');
    await refused(via('198.51.100.7, bogus'), 'HW_FORWARDED_INVALID', 400);
    // no header from a trusted peer: the proxy itself is the client, and it is not allowlisted
    await refused(v.verify(req({ remoteAddress: '10.1.1.1' })), 'HW_IP_DENIED');
  });

  test('RFC 7239 Forwarded when configured', async () => {
    const v = createVerifier({
      ipAllowlist: ['2001:db8::/32'],
      trustedProxies: ['127.0.0.1'],
      forwardedHeader: 'forwarded',
      https: true,
      now,
    });
    const headers = { forwarded: 'for=198.51.100.1, for="[2001:db8:cafe::17]:4711";proto=https;by=_edge' };
    const facts = await v.verify(req({ remoteAddress: '127.0.0.1', headers }));
    assert.equal(facts.clientIp, '2001:db8:cafe::17');
    assert.deepEqual(facts.checks, ['https', 'ip-allowlist']);
    await refused(
      v.verify(req({ remoteAddress: '127.0.0.1', headers: { forwarded: 'for=unknown;proto=https' } })),
      'HW_IP_DENIED',
    );
    await refused(
      v.verify(req({ remoteAddress: '127.0.0.1', headers: { forwarded: 'for="[2001:db8::1]' } })),
      'HW_FORWARDED_INVALID',
    );
  });

  test('https: TLS on the socket, or X-Forwarded-Proto from a trusted proxy only', async () => {
    const v = createVerifier({ https: true, trustedProxies: ['127.0.0.0/8'], now });
    assert.deepEqual((await v.verify(req({ tls: socketTls([]) }))).checks, ['https']);
    await refused(v.verify(req()), 'HW_HTTPS_REQUIRED', 403);
    await refused(v.verify(req({ headers: { 'x-forwarded-proto': 'https' } })), 'HW_HTTPS_REQUIRED');
    assert.ok(await v.verify(req({ remoteAddress: '127.0.0.2', headers: { 'x-forwarded-proto': 'https' } })));
    await refused(
      v.verify(req({ remoteAddress: '127.0.0.2', headers: { 'x-forwarded-proto': 'http' } })),
      'HW_HTTPS_REQUIRED',
    );
    // TLS between the proxy and us says nothing about the client's leg
    await refused(v.verify(req({ remoteAddress: '127.0.0.2', tls: socketTls([]) })), 'HW_HTTPS_REQUIRED');
  });
});

describe('nginx proxy headers', () => {
  const nginxPolicy = (over: Record<string, unknown> = {}): VerifyPolicy => ({
    clientCertificate: { source: 'nginx', subject: pki.clientSubject, ...over },
    trustedProxies: ['127.0.0.1'],
    now,
  });
  const headers = (over: Record<string, string> = {}) => ({
    'x-ssl-client-verify': 'SUCCESS',
    // nginx prints RFC 2253: most specific first, like RFC 4514
    'x-ssl-client-subject-dn': 'CN=hooks.platform.example,OU=Webhooks,O=Acme\\, Inc.,C=US',
    'x-ssl-client-fingerprint': new X509Certificate(pki.client.certPem).fingerprint.replace(/:/g, '').toLowerCase(),
    ...over,
  });

  test('accepted from the trusted proxy, refused from anyone else', async () => {
    const v = createVerifier(nginxPolicy());
    const facts = await v.verify(req({ remoteAddress: '127.0.0.1', headers: headers() }));
    assert.equal(facts.identity?.source, 'nginx');
    assert.equal(facts.identity?.subject, pki.clientSubject);
    await refused(v.verify(req({ remoteAddress: '127.0.0.2', headers: headers() })), 'HW_PROXY_UNTRUSTED', 403);
    await refused(v.verify(req({ remoteAddress: '127.0.0.2' })), 'HW_PROXY_UNTRUSTED');
    await refused(
      v.verify(req({ remoteAddress: '::ffff:127.0.0.3', headers: { 'x-ssl-client-cert': 'x' } })),
      'HW_PROXY_UNTRUSTED',
    );
  });

  test('the proxy verdict: NONE is missing, FAILED is untrusted', async () => {
    const v = createVerifier(nginxPolicy());
    const from = (h: Record<string, string>) => v.verify(req({ remoteAddress: '127.0.0.1', headers: h }));
    await refused(from({}), 'HW_CERT_MISSING');
    await refused(from({ 'x-ssl-client-verify': 'NONE', 'x-ssl-client-subject-dn': '' }), 'HW_CERT_MISSING');
    await refused(from(headers({ 'x-ssl-client-verify': 'FAILED:certificate has expired' })), 'HW_CERT_UNTRUSTED');
    await refused(from({ 'x-ssl-client-subject-dn': pki.clientSubject }), 'HW_CERT_UNTRUSTED');
  });

  test('an escaped comma is data: OU=x\\,CN=admin is not CN=admin', async () => {
    const v = createVerifier(nginxPolicy({ subject: 'CN=admin' }));
    await refused(
      v.verify(req({ remoteAddress: '127.0.0.1', headers: headers({ 'x-ssl-client-subject-dn': 'OU=x\\,CN=admin' }) })),
      'HW_SUBJECT_MISMATCH',
    );
    await refused(
      v.verify(req({ remoteAddress: '127.0.0.1', headers: headers({ 'x-ssl-client-subject-dn': 'CN=admin,,' }) })),
      'HW_PROXY_HEADER_INVALID',
    );
  });

  test('SHA-1 pin from $ssl_client_fingerprint; SHA-256 pins need the certificate', async () => {
    const cert = new X509Certificate(pki.client.certPem);
    const sha1 = createVerifier(nginxPolicy({ pins: [cert.fingerprint] }));
    assert.ok(await sha1.verify(req({ remoteAddress: '127.0.0.1', headers: headers() })));
    const sha256 = createVerifier(nginxPolicy({ pins: [cert.fingerprint256] }));
    await refused(sha256.verify(req({ remoteAddress: '127.0.0.1', headers: headers() })), 'HW_PIN_MISMATCH');
    const escaped = encodeURIComponent(pki.client.certPem);
    const facts = await sha256.verify(
      req({ remoteAddress: '127.0.0.1', headers: headers({ 'x-ssl-client-cert': escaped }) }),
    );
    assert.deepEqual(facts.identity?.dnsNames, ['hooks.platform.example', '*.egress.platform.example']);
  });

  test('with the escaped certificate: chain, purpose and SANs come from the DER', async () => {
    const v = createVerifier(nginxPolicy({ caBundlePem: pki.caBundlePem, dnsNames: ['hooks.platform.example'] }));
    const ok = await v.verify(
      req({
        remoteAddress: '127.0.0.1',
        headers: headers({ 'x-ssl-client-cert': encodeURIComponent(pki.client.certPem) }),
      }),
    );
    assert.equal(ok.identity?.fingerprintSha256.length, 64);
    // a certificate header that disagrees with the fingerprint header is a broken or spoofed proxy
    await refused(
      v.verify(
        req({
          remoteAddress: '127.0.0.1',
          headers: headers({ 'x-ssl-client-cert': encodeURIComponent(pki.deep.certPem) }),
        }),
      ),
      'HW_PROXY_HEADER_INVALID',
    );
    await refused(
      v.verify(
        req({
          remoteAddress: '127.0.0.1',
          headers: headers({ 'x-ssl-client-cert': '%E0%A4%A', 'x-ssl-client-fingerprint': '' }),
        }),
      ),
      'HW_PROXY_HEADER_INVALID',
    );
    const impostor = { 'x-ssl-client-cert': encodeURIComponent(pki.impostor.certPem), 'x-ssl-client-fingerprint': '' };
    await refused(v.verify(req({ remoteAddress: '127.0.0.1', headers: headers(impostor) })), 'HW_CERT_UNTRUSTED');
  });

  test('an escaped certificate joined with a client copy ahead of it is refused, not read as a chain', async () => {
    const v = createVerifier(nginxPolicy());
    const joined = `${encodeURIComponent(pki.impostor.certPem)}, ${encodeURIComponent(pki.client.certPem)}`;
    const h = headers({ 'x-ssl-client-cert': joined, 'x-ssl-client-fingerprint': '' });
    await refused(v.verify(req({ remoteAddress: '127.0.0.1', headers: h })), 'HW_PROXY_HEADER_INVALID');
  });

  test('a duplicated header (an inbound copy not cleared) is refused', async () => {
    const v = createVerifier(nginxPolicy());
    await refused(
      v.verify(
        req({ remoteAddress: '127.0.0.1', headers: { ...headers(), 'x-ssl-client-subject-dn': ['CN=a', 'CN=b'] } }),
      ),
      'HW_PROXY_HEADER_INVALID',
    );
  });
});

describe('signature and replay through the verifier', () => {
  test('checks run in order and the facts carry the webhook id', async () => {
    const secret = generateSecret();
    const v = createVerifier({ ipAllowlist: ['203.0.113.0/24'], signature: { secrets: [secret] }, replay: true, now });
    const ts = Math.floor(NOW / 1000);
    const body = new TextEncoder().encode('{"a":1}');
    const headers = {
      'webhook-id': 'msg_1',
      'webhook-timestamp': String(ts),
      'webhook-signature': sign({ msgId: 'msg_1', timestamp: ts, body, secrets: [secret] }),
    };
    const facts = await v.verify(req({ headers, body }));
    assert.deepEqual(facts.checks, ['ip-allowlist', 'signature', 'replay']);
    assert.equal(facts.webhookId, 'msg_1');
    assert.equal(facts.timestamp, ts);
    await refused(v.verify(req({ headers, body })), 'HW_REPLAYED', 409);
    // a failed check earlier does not burn the id
    const headers2 = {
      ...headers,
      'webhook-id': 'msg_2',
      'webhook-signature': sign({ msgId: 'msg_2', timestamp: ts, body, secrets: [secret] }),
    };
    await refused(v.verify(req({ headers: headers2, body, remoteAddress: '192.0.2.1' })), 'HW_IP_DENIED');
    assert.ok(await v.verify(req({ headers: headers2, body })));
    await refused(v.verify(req({ headers: { ...headers, 'webhook-id': 'msg_3' }, body })), 'HW_SIGNATURE_INVALID', 401);
  });

  test('the event comes back typed as payload: parsed from the verified bytes once, left out of the facts', async () => {
    type Invoice = { type: 'invoice.paid'; amount: number };
    const v = createVerifier<Invoice>({ ipAllowlist: ['203.0.113.0/24'] });
    const body = new TextEncoder().encode('{ "type": "invoice.paid", "amount": 4200 }');
    const verified = await v.verify(req({ body }));
    const { payload } = verified;
    assert.deepEqual(payload, { type: 'invoice.paid', amount: 4200 });
    assert.equal(payload.amount, 4200); // typed: no cast
    assert.equal(verified.payload, payload, 'parsed once');
    // facts stay facts: spread, JSON and Object.keys leave the body out (the gate sends them on)
    assert.deepEqual(Object.keys(verified), ['checks', 'clientIp']);
    assert.equal(JSON.stringify(verified), '{"checks":["ip-allowlist"],"clientIp":"203.0.113.9"}');
    assert.ok(!('payload' in { ...verified }));
    // a body that is not UTF-8 JSON still verifies; reading it as an event is refused
    const enc = (t: string) => new TextEncoder().encode(t);
    for (const bad of [new Uint8Array(), enc('{"a":'), enc('hello'), new Uint8Array([0x22, 0xff, 0x22])]) {
      const facts = await v.verify(req({ body: bad }));
      assert.deepEqual(facts.checks, ['ip-allowlist']);
      assert.throws(
        () => facts.payload,
        (err: unknown) => err instanceof HookwardenError && err.code === 'HW_BODY_NOT_JSON' && err.status === 400,
      );
    }
  });

  test('an id holding a dot is refused unless signature.allowDotsInId', async () => {
    const secret = generateSecret();
    const ts = Math.floor(NOW / 1000);
    const body = new TextEncoder().encode('{"a":1}');
    const headers = {
      'webhook-id': 'msg.1',
      'webhook-timestamp': String(ts),
      'webhook-signature': sign({ msgId: 'msg.1', timestamp: ts, body, secrets: [secret] }),
    };
    const strict = createVerifier({ signature: { secrets: [secret] }, now });
    await refused(strict.verify(req({ headers, body })), 'HW_SIGNATURE_INVALID', 401);
    const lax = createVerifier({ signature: { secrets: [secret], allowDotsInId: true }, now });
    assert.equal((await lax.verify(req({ headers, body }))).webhookId, 'msg.1');
    assert.throws(
      () => createVerifier({ signature: { secrets: [secret], allowDotsInId: 1 as unknown as boolean } }),
      /^HookwardenError: signature\.allowDotsInId|signature\.allowDotsInId: must be a boolean/,
    );
  });

  test('a replay is refused for as long as its timestamp is accepted, through the last second', async () => {
    const secret = generateSecret();
    const ts = 1_700_000_000;
    let nowMs = (ts + 300) * 1000 - 100;
    const v = createVerifier({ signature: { secrets: [secret] }, replay: true, now: () => nowMs });
    const body = new TextEncoder().encode('{"a":1}');
    const headers = {
      'webhook-id': 'msg_gap',
      'webhook-timestamp': String(ts),
      'webhook-signature': sign({ msgId: 'msg_gap', timestamp: ts, body, secrets: [secret] }),
    };
    assert.ok(await v.verify(req({ headers, body })));
    // whole seconds are compared: +300.5 s and +300.999 s still pass the timestamp check
    for (const offset of [500, 999]) {
      nowMs = (ts + 300) * 1000 + offset;
      await refused(v.verify(req({ headers, body })), 'HW_REPLAYED', 409);
    }
    nowMs = (ts + 301) * 1000;
    await refused(v.verify(req({ headers, body })), 'HW_TIMESTAMP_OUT_OF_RANGE');
  });
});
